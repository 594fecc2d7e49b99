"""Stage 7's bookkeeping (espnet_l2dual.tasks.stage7) on a hand-made recipe dir, without training."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from espnet_l2dual.bin import stage7 as stage7_cli
from espnet_l2dual.tasks import stage7
from espnet_l2dual.utils import stage_record

TINY_MTL = Path(__file__).resolve().parents[1] / "egs2/l2en/asr1/conf/tuning/train_mtl_tiny.yaml"


@pytest.fixture
def recipe(tmp_path: Path, monkeypatch) -> Path:
    """What stages 1-6 leave for stage 7: data, token lists, finished stats."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.wav").write_bytes(b"RIFF-one")
    for dset in ("train", "dev"):
        d = tmp_path / "dump/raw" / dset
        d.mkdir(parents=True)
        (d / "wav.scp").write_text(f"u1 {tmp_path / 'a.wav'}\n")
        for o in ("surface", "meaning"):
            (d / f"text_{o}").write_text("u1 a b\n")
    for o in ("surface", "meaning"):
        (tmp_path / "data/token_list" / o / "char").mkdir(parents=True)
        (tmp_path / "data/token_list" / o / "char/tokens.txt").write_text("<blank>\n<unk>\na\nb\n<sos/eos>\n")
    (tmp_path / "data/token_list/setup.json").write_text("{}\n")
    stats = tmp_path / "exp/stats"
    for part in ("train", "valid"):
        (stats / part).mkdir(parents=True)
        for name in ("speech_shape", "text_surface_shape.tok", "text_meaning_shape.tok"):
            (stats / part / name).write_text("u1 1600\n")
    np.savez(stats / "train/feats_stats.npz", count=np.array(10.0), sum=np.zeros(80), sum_square=np.full(80, 10.0))
    stage_record.check(stats, stage_record.StageInputs("6"))
    stage_record.commit(stats, "6")
    return tmp_path


def prepare_args(config: Path = TINY_MTL, train_args: str = "") -> list:
    return ["prepare", "--exp_dir", "exp/asr_x", "--config", str(config), "--stats_dir", "exp/stats",
            "--data_feats", "dump/raw", "--train_set", "train", "--valid_set", "dev", "--speech_type", "sound",
            "--token_setup", "data/token_list/setup.json", "--train_args", train_args,
            "--token", "surface=char:data/token_list/surface/char", "--token", "meaning=char:data/token_list/meaning/char",
            "--command", "./l2dual.sh --lang en "]


def test_prepare_then_finish_then_up_to_date(recipe, capsys):
    assert stage7_cli.main(prepare_args() + ["--seed", "3"]) == stage7.TRAIN
    out, err = capsys.readouterr()
    words = out.split("\n")
    assert "Stage 7: train" in err and "(tasks: surface meaning) -> exp/asr_x" in err
    assert words[words.index("--surface_token_list") + 1] == "exp/asr_x/token_list/surface/tokens.txt"
    exp = recipe / "exp/asr_x"
    assert (exp / "feats_stats.npz").is_file() and (exp / "token_list/meaning/tokens.txt").is_file()
    assert os.access(exp / "run.sh", os.X_OK) and "./l2dual.sh --lang en \"$@\"" in (exp / "run.sh").read_text()
    prov = json.loads((exp / "provenance.json").read_text())
    assert prov["command"] == "./l2dual.sh --lang en "
    assert prov["group"] == {"config_name": TINY_MTL.stem, "size": "tiny", "seed": 3,
                             "model": f"asr_{TINY_MTL.stem[len('train_'):]}"}  # what stage 10 groups by
    assert (exp / ".stage7.pending.json").is_file() and not (exp / ".stage7.json").exists()
    assert stage7_cli.main(["finish", "--exp_dir", "exp/asr_x"]) == 0
    assert (exp / ".stage7.json").is_file() and "Stage 7: done" in capsys.readouterr().err
    assert stage7_cli.main(prepare_args()) == stage7.CURRENT
    out, err = capsys.readouterr()
    assert out.strip() == "" and "exp/asr_x is up to date" in err


def test_a_model_from_other_inputs_is_retired(recipe, capsys, monkeypatch):
    monkeypatch.setattr(stage7, "_preflight", lambda s, tasks: True)  # checked above: only the moving here
    assert stage7_cli.main(prepare_args()) == stage7.TRAIN
    assert stage7_cli.main(["finish", "--exp_dir", "exp/asr_x"]) == 0
    (recipe / "exp/asr_x/1epoch.pth").write_bytes(b"w")
    capsys.readouterr()
    assert stage7_cli.main(prepare_args(train_args="--max_epoch 2")) == stage7.TRAIN
    err = capsys.readouterr().err
    assert "Stage 7: the model in exp/asr_x was trained from other inputs: moved it to exp/stale/asr_x." in err
    (stale,) = (recipe / "exp/stale").iterdir()
    assert (stale / "1epoch.pth").is_file() and not (recipe / "exp/asr_x/1epoch.pth").exists()


def test_a_broken_config_changes_nothing(recipe, capsys):
    bad = recipe / "bad.yaml"
    bad.write_text("encoder: conformer\nencoder_conf:\n  output_size: [32\n")
    assert stage7_cli.main(prepare_args(config=bad)) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"stage7: error: {bad}:") and "not valid YAML" in line
    bad.write_text(TINY_MTL.read_text().replace("model_conf:", "model_conf:\n    bogus: 2", 1))
    with pytest.raises(SystemExit) as e:  # the pre-flight check: one line each, before anything is written
        stage7_cli.main(prepare_args(config=bad))
    assert e.value.code == 1 and "model_conf: unknown key 'bogus'" in capsys.readouterr().err
    assert not (recipe / "exp/asr_x").exists()


def test_half_made_stats_are_refused(recipe):
    os.replace(recipe / "exp/stats/.stage6.json", recipe / "exp/stats/.stage6.pending.json")
    with pytest.raises(SystemExit, match="exp/stats is not usable: stage 6 started it and did not finish"):
        stage7_cli.main(prepare_args())
