"""Stage 10 groups models by the size and seed stage 7 recorded, never by their tags: a seed is
compared only with models of that seed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import pytest
import yaml
from l2dual_helpers import record_group

from espnet_l2dual.analysis.exp_models import MissingModels, discover, group_label, make_groups
from espnet_l2dual.bin import write_provenance
from espnet_l2dual.utils.provenance import training_provenance
from espnet_l2dual.errors import DataError
from espnet_l2dual.utils.provenance import model_group

TASKS = {"stl_surface": ["surface"], "stl_meaning": ["meaning"], "mtl": ["surface", "meaning"]}


def _model(exp: Path, tag: str, kind: str, size: str = "tiny", seed: Optional[int] = None, **override) -> None:
    """A model dir as stage 7 leaves it: config.yaml and provenance.json with its group."""
    (exp / tag).mkdir(parents=True)
    conf = {"encoder": "conformer", "model_conf": {"tasks": TASKS[kind]}}
    (exp / tag / "config.yaml").write_text(yaml.safe_dump(conf), encoding="utf-8")
    record_group(exp / tag, f"train_{kind}" + (f"_{size}" if size else ""), seed, **override)


@pytest.mark.parametrize("config, size", [
    ("conf/tuning/train_mtl_tiny.yaml", "tiny"), ("train_mtl.yaml", ""), ("train_stl_surface_small.yaml", "small"),
    ("train_mtl_wavlm.yaml", "wavlm"), ("train_stl_meaning.yaml", ""), ("tiny.yaml", "")])
def test_recorded_size_is_the_config_names_size_word(config: str, size: str) -> None:
    assert model_group(config, 3) == {"config_name": Path(config).stem, "size": size, "seed": 3,
                                      "model": "asr_" + Path(config).stem.removeprefix("train_")}


def test_groups_per_size_and_seed(tmp_path: Path) -> None:
    exp = tmp_path / "exp"
    for kind in TASKS:
        _model(exp, f"asr_{kind}_tiny", kind)
        for seed in (1, 2):
            _model(exp, f"asr_{kind}_tiny_seed{seed}", kind, seed=seed)
    _model(exp, "asr_mtl_tiny_seed3", "mtl", seed=3)  # seed 3 has no STL pair: skipped, not mixed in
    groups = make_groups(discover(exp), exp)
    assert sorted(groups) == ["tiny", "tiny_seed1", "tiny_seed2"]
    g = groups["tiny_seed2"]
    assert (g["stl_surface"].tag, g["stl_meaning"].tag, [m.tag for m in g["mtl"]]) == (
        "asr_stl_surface_tiny_seed2", "asr_stl_meaning_tiny_seed2", ["asr_mtl_tiny_seed2"])
    assert [m.tag for m in groups["tiny"]["mtl"]] == ["asr_mtl_tiny"]
    assert g["mtl"][0].name == "asr_mtl_tiny"  # the same MTL model across seeds
    assert group_label("", 4) == "full_seed4"


def test_groups_follow_the_record_not_the_tag(tmp_path: Path) -> None:
    """Tags that a tag parser would misread: the recorded size and seed decide."""
    exp = tmp_path / "exp"
    _model(exp, "asr_mtl_tiny_custom", "mtl", size="wavlm")  # says tiny, recorded wavlm
    _model(exp, "my_surface_model_seed7", "stl_surface", size="wavlm")  # says seed 7, recorded none
    _model(exp, "asr_stl_meaning_tiny", "stl_meaning", size="wavlm")
    _model(exp, "asr_stl_surface_wavlm", "stl_surface", size="tiny", seed=4)  # says wavlm, recorded tiny seed 4
    groups = make_groups(discover(exp), exp)
    assert sorted(groups) == ["wavlm"]
    g = groups["wavlm"]
    assert (g["stl_surface"].tag, g["stl_meaning"].tag, [m.tag for m in g["mtl"]]) == (
        "my_surface_model_seed7", "asr_stl_meaning_tiny", ["asr_mtl_tiny_custom"])


def test_ssl_models_are_a_group_of_their_own_as_make_report_reads_it(tmp_path: Path) -> None:
    """``run_all.sh --size wavlm``: the _wavlm models beside the full-size ones form group "wavlm"."""
    exp = tmp_path / "exp"
    for kind in TASKS:
        _model(exp, f"asr_{kind}_wavlm", kind, size="wavlm")
        _model(exp, f"asr_{kind}", kind, size="")
    groups = make_groups(discover(exp), exp)
    assert sorted(groups) == ["full", "wavlm"]  # make_report --suffix _wavlm reads groups.wavlm
    assert [m.tag for m in groups["wavlm"]["mtl"]] == ["asr_mtl_wavlm"]
    assert [m.tag for m in groups["full"]["mtl"]] == ["asr_mtl"]


def test_a_lone_seed_is_not_a_group(tmp_path: Path) -> None:
    exp = tmp_path / "exp"
    _model(exp, "asr_mtl_tiny_seed1", "mtl", seed=1)
    _model(exp, "asr_stl_surface_tiny", "stl_surface")
    _model(exp, "asr_stl_meaning_tiny", "stl_meaning")
    with pytest.raises(MissingModels, match="tiny_seed1"):
        make_groups(discover(exp), exp)


def test_of_two_models_of_one_kind_the_one_from_that_kinds_config_is_picked(tmp_path: Path) -> None:
    exp = tmp_path / "exp"
    for kind in TASKS:
        _model(exp, f"asr_{kind}_tiny", kind)
    _model(exp, "asr_other", "stl_surface", config_name="train_stl_surface_other")
    assert make_groups(discover(exp), exp)["tiny"]["stl_surface"].tag == "asr_stl_surface_tiny"


@pytest.mark.parametrize("provenance, missing", [
    (None, "provenance.json: not found"), ({"config": "c.yaml"}, "records no 'group'"),
    ({"group": {"size": "tiny"}}, "'group' records no 'seed'")])
def test_a_model_without_a_recorded_group_is_one_clear_error(tmp_path: Path, provenance, missing) -> None:
    exp = tmp_path / "exp"
    for kind in TASKS:
        _model(exp, f"asr_{kind}_tiny", kind)
    path = exp / "asr_mtl_tiny" / "provenance.json"
    if provenance is None:
        path.unlink()
    else:
        path.write_text(json.dumps(provenance), encoding="utf-8")
    with pytest.raises(DataError, match=missing) as err:
        discover(exp)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_stage7_records_the_group(tmp_path: Path) -> None:
    config = tmp_path / "train_stl_meaning_small.yaml"
    config.write_text("encoder: conformer\n", encoding="utf-8")
    prov = training_provenance(config, tmp_path / "none", None, "", 2)
    assert prov["group"] == {"config_name": "train_stl_meaning_small", "size": "small", "seed": 2,
                             "model": "asr_stl_meaning_small"}
    assert training_provenance(config, tmp_path / "none", None, "", None)["group"]["seed"] is None


def test_a_model_trained_before_the_group_was_recorded_gets_it_added(tmp_path: Path) -> None:
    exp = tmp_path / "exp"
    for kind in TASKS:
        _model(exp, f"asr_{kind}_tiny_seed2", kind, seed=2)
    path = exp / "asr_mtl_tiny_seed2" / "provenance.json"
    path.write_text(json.dumps({"commit": "abc"}), encoding="utf-8")  # stage 7's, without the group
    with pytest.raises(DataError, match="--add_group"):
        discover(exp)
    assert write_provenance.main(["--add_group", "--out", str(path), "--config", "conf/train_mtl_tiny.yaml",
                                  "--seed", "2"]) == 0
    assert json.loads(path.read_text(encoding="utf-8"))["commit"] == "abc"
    assert [m.tag for m in make_groups(discover(exp), exp)["tiny_seed2"]["mtl"]] == ["asr_mtl_tiny_seed2"]
