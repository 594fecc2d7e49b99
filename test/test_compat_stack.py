"""A model saved under one ESPnet stack loads under the other, or fails naming both."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
import torch
import yaml

from tiny_dual_model import make_tiny_model

from espnet_l2dual.compat import stack
from espnet_l2dual.errors import DataError
from espnet_l2dual.inference.model_loading import load_dual_model
from espnet_l2dual.inference.packing import pack

OLD = "encoder.embed.out.0.weight"  # ESPnet <= 202511
NEW = "encoder.embed.out.weight"  # ESPnet >= 202609


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_model(tmp_path_factory.mktemp("tiny"), tasks=["meaning"])


def _other_stack_names(state: dict) -> dict:
    """The state dict as the other naming of the conv2d subsampling's output layer writes it."""
    if OLD in state:
        return {k.replace("embed.out.0.", "embed.out."): v for k, v in state.items()}
    assert NEW in state, sorted(state)[:10]
    return {k.replace("embed.out.", "embed.out.0."): v for k, v in state.items()}


def test_newer_names_map_to_older_ones_only_where_wanted():
    state = {NEW: 1, "encoder.embed.out.bias": 2, "decoder.out.weight": 3}
    wanted = [OLD, "encoder.embed.out.0.bias", "decoder.out.weight"]
    assert stack.to_model_names(state, wanted) == {OLD: 1, "encoder.embed.out.0.bias": 2,
                                                   "decoder.out.weight": 3}
    assert stack.to_model_names(state, list(state)) == state  # a newer ESPnet keeps its names


def test_checkpoint_of_the_other_stack_loads_with_the_same_weights(tiny, tmp_path):
    """A 202511 file on 202611 (ESPnet maps it) or a 202611 file on 202511 (we map it)."""
    state = torch.load(tiny["model"], weights_only=True)
    other = tmp_path / "other_stack.pth"
    torch.save(_other_stack_names(state), other)
    model, _ = load_dual_model(tiny["config"], other)
    loaded = model.state_dict()
    assert set(loaded) == set(state)
    for key, value in state.items():
        assert torch.equal(loaded[key], value), key


def config_with_versions(tmp_path: Path, tiny, versions) -> Path:
    """A copy of the tiny model's config in exp/ whose stage-7 provenance records ``versions``."""
    folder = tmp_path / "exp"
    folder.mkdir()
    config = folder / "config.yaml"
    config.write_text(Path(tiny["config"]).read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "provenance.json").write_text(json.dumps({"versions": versions}), encoding="utf-8")
    return config


def test_mismatch_names_both_stacks_and_what_to_do(tiny, tmp_path):
    config = config_with_versions(tmp_path, tiny, {"espnet": "209901", "torch": "9.9.0"})
    folder = config.parent
    state = torch.load(tiny["model"], weights_only=True)
    state["encoder.renamed_in_2099.weight"] = torch.zeros(1)
    model_file = folder / "model.pth"
    torch.save(state, model_file)
    here = stack.stack_versions()
    with pytest.raises(DataError) as err:
        load_dual_model(config, model_file)
    line = str(err.value)
    assert "\n" not in line
    assert f"{model_file}: trained with ESPnet 209901 (torch 9.9.0), loaded under " \
           f"ESPnet {here['espnet']} (torch {here['torch']})" in line
    assert "renamed_in_2099" in line
    assert "tools/install.sh --espnet 209901, then L2DUAL_ESPNET=209901" in line


def test_versions_are_recorded_and_read_back(tiny, tmp_path):
    here = stack.stack_versions()
    assert here["espnet"] >= "202511" and here["torch"]
    assert stack.recorded_versions(tiny["config"]) is None  # nothing recorded beside it
    config = config_with_versions(tmp_path, tiny, {"espnet": "202511", "torch": "2.9.1"})
    assert stack.recorded_versions(config) == {"espnet": "202511", "torch": "2.9.1"}
    zip_path = pack(config, tiny["model"], tmp_path / "packed.zip")
    with zipfile.ZipFile(zip_path) as zf:
        meta = yaml.safe_load(zf.read("meta.yaml"))
    assert meta["version"]["espnet"] == "202511"  # the training stack, not the packing one
    (tmp_path / "unpacked").mkdir()
    (tmp_path / "unpacked" / "meta.yaml").write_text(yaml.safe_dump(meta), encoding="utf-8")
    assert stack.recorded_versions(tmp_path / "unpacked" / "config.yaml")["espnet"] == "202511"
