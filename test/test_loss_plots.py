"""Loss plots drawn every N epochs and after the last one (``train.loss_plots``)."""

from __future__ import annotations

from pathlib import Path
from typing import List

import pytest
from espnet2.train.reporter import Reporter

from espnet_l2dual.train.loss_plots import due, sparse_loss_plots
from espnet_l2dual.train.trainer import L2DualTrainer


@pytest.fixture
def drawn(monkeypatch) -> List[int]:
    """The epochs ESPnet's (stand-in) plotting ran for."""
    epochs: List[int] = []
    monkeypatch.setattr(Reporter, "matplotlib_plot", lambda self, out: epochs.append(self.get_epoch()))
    return epochs


def _train(n_epochs: int) -> None:
    reporter = Reporter()
    for epoch in range(1, n_epochs + 1):
        reporter.set_epoch(epoch)
        reporter.matplotlib_plot(Path("images"))


def test_due_epochs():
    assert [e for e in range(1, 11) if due(e, 4, 10)] == [4, 8, 10]
    assert [e for e in range(1, 4) if due(e, 1, 3)] == [1, 2, 3]


def test_every_nth_epoch_and_the_last(drawn):
    with sparse_loss_plots(4, 10):
        _train(10)
    assert drawn == [4, 8, 10]


def test_a_run_cut_short_still_ends_with_its_last_epoch_drawn(drawn):
    with sparse_loss_plots(4, 16):  # early stopping after epoch 6
        _train(6)
    assert drawn == [4, 6]


def test_interval_one_is_espnets_every_epoch(drawn):
    with sparse_loss_plots(1, 3):
        _train(3)
    assert drawn == [1, 2, 3]


def test_plotting_is_restored_after_the_block(drawn):
    with sparse_loss_plots(4, 10):
        pass
    _train(2)
    assert drawn == [1, 2]


def test_option_reaches_the_trainer():
    from espnet_l2dual.tasks.l2dual import L2DualTask

    args = L2DualTask.get_parser().parse_args(["--loss_plot_interval", "3"])
    assert L2DualTrainer.build_options(args).loss_plot_interval == 3
