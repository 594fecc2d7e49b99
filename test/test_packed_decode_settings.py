"""A packed model decodes with the settings its RESULTS.md was decoded with, unless told otherwise."""

from __future__ import annotations

import json
import logging
import zipfile
from pathlib import Path
from typing import Dict, Optional

import pytest
import soundfile
import yaml

from tiny_dual_model import make_tiny_model, write_wav

from espnet_l2dual.bin import pack_model, transcribe
from espnet_l2dual.errors import DataError
from espnet_l2dual.inference import decode_settings
from espnet_l2dual.inference.packing import pack
from espnet_l2dual.inference.speech2dualtext import Speech2DualText


def stage8_options(ctc_weight: str = "0.5", beam_size: str = "3", inference_args: str = "",
                   model: str = "model.pth") -> Dict[str, str]:
    """A stage-8 record's options, as stage 9 copies them into results.json (all strings)."""
    return {"batch_size": "32", "beam_size": beam_size, "ctc_weight": ctc_weight, "inference_args": inference_args,
            "inference_model": model, "maxlenratio": "0.0", "penalty": "0.0"}


def write_results(exp: Path, per_set: Optional[Dict[str, Dict[str, str]]]) -> Path:
    """``exp/results.json`` whose provenance records the stage-8 options of each set (None: no record)."""
    prov: dict = {"commit": "x"}
    if per_set is not None:
        prov["decode"] = {f"{exp}/decode_x/{s}": {"options": o, "inputs_digest": "0"} for s, o in per_set.items()}
    path = exp / "results.json"
    path.write_text(json.dumps({"test": {}, "provenance": prov}), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def exp(tmp_path_factory) -> Path:
    """A hand-made exp dir: the tiny model, scored on two sets with ctc_weight 0.5, beam 3."""
    root = tmp_path_factory.mktemp("exp")
    make_tiny_model(root)
    write_results(root, {"test": stage8_options(), "eval": stage8_options()})
    return root


@pytest.fixture(scope="module")
def packed(exp, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("zip") / "packed.zip"
    assert pack_model.main(["--train_config", str(exp / "config.yaml"), "--model_file", str(exp / "model.pth"),
                            "--results_json", str(exp / "results.json"), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    return soundfile.read(str(write_wav(tmp_path_factory.mktemp("wav") / "a.wav", 0.6, seed=1)), dtype="float32")[0]


def test_the_zip_carries_the_scored_settings(packed):
    with zipfile.ZipFile(packed) as zf:
        settings = yaml.safe_load(zf.read("decode.yaml"))
        meta = yaml.safe_load(zf.read("meta.yaml"))
    assert settings["options"]["ctc_weight"] == 0.5 and settings["options"]["beam_size"] == 3
    assert settings["options"]["nbest"] == 1 and settings["options"]["minlenratio"] == 0.0
    assert settings["model"] == "model.pth" and settings["batch_size"] == 32
    assert settings["sets"] == ["eval", "test"] and meta["files"]["decode"] == "decode.yaml"


def test_loading_without_options_uses_the_packed_settings(packed, exp, speech, tmp_path):
    s2t = Speech2DualText.from_packed(packed, cache_dir=tmp_path / "cache")
    assert {(o.ctc_weight, o.beam_size) for o in s2t.options.values()} == {(0.5, 3)}
    assert s2t.settings.origin["ctc_weight"] == "packed" and s2t.settings.batch_size == 32
    # the hypotheses of stage 8's settings, not of the defaults
    assert s2t(speech) == Speech2DualText(exp / "config.yaml", exp / "model.pth", ctc_weight=0.5, beam_size=3)(speech)


def test_an_explicit_option_wins(packed, tmp_path):
    s2t = Speech2DualText.from_packed(packed, cache_dir=tmp_path / "cache", ctc_weight=0.2, beam_size=None)
    assert {(o.ctc_weight, o.beam_size) for o in s2t.options.values()} == {(0.2, 3)}
    assert s2t.settings.origin["ctc_weight"] == "given" and s2t.settings.origin["beam_size"] == "packed"


def test_transcribe_prints_the_settings_once_and_an_explicit_option_wins(packed, tmp_path, capsys):
    wavs = [str(write_wav(tmp_path / f"{i}.wav", 0.4, seed=i)) for i in range(2)]
    assert transcribe.main(["--model", str(packed), "--cache_dir", str(tmp_path / "cache"), "--ctc_weight", "0.2",
                            *wavs]) == 0
    err = capsys.readouterr().err
    assert err.count("transcribe: decoding with") == 1
    line = next(x for x in err.splitlines() if x.startswith("transcribe: decoding with"))
    assert "beam_size=3 ctc_weight=0.2" in line and "batch_size=32" in line and "given: ctc_weight" in line
    assert transcribe.get_parser().parse_args(["--model", "m", "a.wav"]).ctc_weight is None  # "not given"


def test_an_older_zip_falls_back_to_the_defaults_and_says_so(exp, tmp_path, caplog):
    old = pack(exp / "config.yaml", exp / "model.pth", tmp_path / "old.zip")  # no settings
    with caplog.at_level(logging.INFO):
        s2t = Speech2DualText.from_packed(old, cache_dir=tmp_path / "cache")
    assert {(o.ctc_weight, o.beam_size) for o in s2t.options.values()} == {(0.3, 5)}
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and r.name == "l2dual_inference"]
    assert len(warned) == 1 and "packed without decode settings" in warned[0]
    assert s2t.settings.batch_size == decode_settings.DEFAULT_BATCH_SIZE


def test_sets_decoded_differently_are_refused_naming_both(tmp_path, capsys):
    exp = tmp_path / "exp"
    make_tiny_model(exp)
    write_results(exp, {"test": stage8_options(ctc_weight="0.5"), "eval": stage8_options(ctc_weight="0.3")})
    rc = pack_model.main(["--train_config", str(exp / "config.yaml"), "--model_file", str(exp / "model.pth"),
                          "--out", str(tmp_path / "p.zip")])  # results.json next to the model is found
    err = capsys.readouterr().err.strip()
    assert rc == 1 and len(err.splitlines()) == 1 and not (tmp_path / "p.zip").exists()
    assert "test (ctc_weight=0.5)" in err and "eval (ctc_weight=0.3)" in err and "different settings" in err


def test_per_output_overrides_and_other_args_of_stage8_are_packed(tmp_path):
    model = tmp_path / "model.pth"
    model.write_bytes(b"")
    args = "--surface_beam_size 4 --minlenratio 0.1 --fs 16000"
    results = write_results(tmp_path, {"test": stage8_options(inference_args=args)})
    settings = decode_settings.from_results(results, model)
    assert settings["output_overrides"] == {"surface": {"beam_size": 4}}
    assert settings["options"]["minlenratio"] == 0.1 and settings["other_inference_args"] == ["--fs", "16000"]
    # a base option given explicitly beats the packed per-output override of it
    assert decode_settings.resolve(settings, {"beam_size": 6}).output_overrides == {}
    assert decode_settings.resolve(settings, {}).output_overrides == {"surface": {"beam_size": 4}}


def test_another_model_file_than_the_scored_one_is_refused(tmp_path):
    (tmp_path / "model.pth").write_bytes(b"a")
    (tmp_path / "other.pth").write_bytes(b"b")
    results = write_results(tmp_path, {"test": stage8_options()})
    with pytest.raises(DataError, match="decoded with model.pth, not .*other.pth"):
        decode_settings.from_results(results, tmp_path / "other.pth")


def test_results_without_decode_records_pack_no_settings(tmp_path, capsys):
    exp = tmp_path / "exp"
    make_tiny_model(exp)
    write_results(exp, None)
    assert pack_model.main(["--train_config", str(exp / "config.yaml"), "--model_file", str(exp / "model.pth"),
                            "--out", str(tmp_path / "p.zip")]) == 0
    assert "packed without decode settings" in capsys.readouterr().out
    assert decode_settings.read_packed(tmp_path / "p.zip") is None


def test_a_bad_decode_yaml_names_the_zip_member(exp, tmp_path):
    zip_path = pack(exp / "config.yaml", exp / "model.pth", tmp_path / "bad.zip")
    with zipfile.ZipFile(zip_path, "a") as zf:
        zf.writestr("decode.yaml", "options: {ctc_weight: high}\n")
    with pytest.raises(DataError, match="bad.zip:decode.yaml: ctc_weight must be a float"):
        Speech2DualText.from_packed(zip_path, cache_dir=tmp_path / "cache")
