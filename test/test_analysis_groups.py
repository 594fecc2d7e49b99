"""Stage 10 groups models by size and seed: a seed is compared only with models of that seed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from espnet_l2dual.analysis.pipeline import MissingModels, discover, group_label, make_groups, seed_of, size_of

TASKS = {"stl_surface": ["surface"], "stl_meaning": ["meaning"], "mtl": ["surface", "meaning"]}


def _model(exp: Path, tag: str, kind: str) -> None:
    (exp / tag).mkdir(parents=True)
    conf = {"encoder": "conformer", "model_conf": {"tasks": TASKS[kind]}}
    (exp / tag / "config.yaml").write_text(yaml.safe_dump(conf), encoding="utf-8")


@pytest.mark.parametrize("tag, size, seed", [
    ("asr_mtl_tiny", "tiny", None), ("asr_mtl_tiny_seed2", "tiny", 2), ("asr_mtl", "", None),
    ("asr_mtl_seed10", "", 10), ("asr_stl_surface_small_seed1", "small", 1),
    ("asr_mtl_wavlm", "wavlm", None), ("asr_stl_meaning_wavlm_seed3", "wavlm", 3)])
def test_tag_parts(tag: str, size: str, seed) -> None:
    assert size_of(tag) == size and seed_of(tag)[1] == seed


def test_groups_per_size_and_seed(tmp_path: Path) -> None:
    exp = tmp_path / "exp"
    for kind in TASKS:
        _model(exp, f"asr_{kind}_tiny", kind)
        for seed in (1, 2):
            _model(exp, f"asr_{kind}_tiny_seed{seed}", kind)
    _model(exp, "asr_mtl_tiny_seed3", "mtl")  # seed 3 has no STL pair: skipped, not mixed in
    groups = make_groups(discover(exp), exp)
    assert sorted(groups) == ["tiny", "tiny_seed1", "tiny_seed2"]
    g = groups["tiny_seed2"]
    assert (g["stl_surface"].tag, g["stl_meaning"].tag, [m.tag for m in g["mtl"]]) == (
        "asr_stl_surface_tiny_seed2", "asr_stl_meaning_tiny_seed2", ["asr_mtl_tiny_seed2"])
    assert [m.tag for m in groups["tiny"]["mtl"]] == ["asr_mtl_tiny"]
    assert group_label("", 4) == "full_seed4"


def test_ssl_models_are_a_group_of_their_own_as_make_report_reads_it(tmp_path: Path) -> None:
    """``run_all.sh --size wavlm``: the _wavlm models beside the full-size ones form group "wavlm"."""
    exp = tmp_path / "exp"
    for kind in TASKS:
        _model(exp, f"asr_{kind}_wavlm", kind)
        _model(exp, f"asr_{kind}", kind)
    groups = make_groups(discover(exp), exp)
    assert sorted(groups) == ["full", "wavlm"]  # make_report --suffix _wavlm reads groups.wavlm
    assert [m.tag for m in groups["wavlm"]["mtl"]] == ["asr_mtl_wavlm"]
    assert [m.tag for m in groups["full"]["mtl"]] == ["asr_mtl"]


def test_a_lone_seed_is_not_a_group(tmp_path: Path) -> None:
    exp = tmp_path / "exp"
    _model(exp, "asr_mtl_tiny_seed1", "mtl")
    _model(exp, "asr_stl_surface_tiny", "stl_surface")
    _model(exp, "asr_stl_meaning_tiny", "stl_meaning")
    with pytest.raises(MissingModels, match="tiny_seed1"):
        make_groups(discover(exp), exp)
