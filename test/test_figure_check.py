"""The drawn-figure check (figure_check.py) on the stage-10 plot functions: data passes, an empty
plot with its title, labels and legend fails (though its PNG is as large as a drawn one)."""

from __future__ import annotations

from pathlib import Path

import pytest
from figure_check import assert_drawn, drawn_in_plot_area

from espnet_l2dual.analysis import plots

LAYERS = ["block0", "block1", "block2", "block3"]


def _figures(tmp_path: Path, values) -> dict:
    two = {"mtl vs stl_surface": values, "mtl vs stl_meaning": values}
    return {
        "line": plots.cka_layer_plot(tmp_path / "line.png", "encoder CKA", LAYERS, two, "linear"),
        "gradient": plots.gradient_plot(tmp_path / "grad.png", "gradient conflict", LAYERS, two),
        "task_vector": plots.task_vector_plot(tmp_path / "tv.png", "task vectors", LAYERS, values),
        "heatmap": plots.heatmap(tmp_path / "hm.png", "CKA matrix", [values] * 4, "stl", "mtl", "linear"),
    }


def test_plots_with_data_are_drawn(tmp_path) -> None:
    for name, png in _figures(tmp_path, [0.9, 0.7, 0.4, 0.2]).items():
        assert_drawn(png)


def test_plots_without_data_are_not(tmp_path) -> None:
    for name, png in _figures(tmp_path, [None] * 4).items():
        assert png.stat().st_size > 5000, name  # size alone would call it drawn
        with pytest.raises(AssertionError, match="nothing drawn"):
            assert_drawn(png)
        assert drawn_in_plot_area(png)["spread"] < 0.5, name
