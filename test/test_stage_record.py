"""Stage records and the guard CLI: what changed is detected and said; nothing else reruns."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from espnet_l2dual.bin import stage_guard, token_setup
from espnet_l2dual.text import token_setup as token_setup_record
from espnet_l2dual.utils import stage_record


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    (tmp_path / "a.wav").write_bytes(b"RIFF-one")
    (d / "wav.scp").write_text(f"u1 {tmp_path / 'a.wav'}\nu2 sox {tmp_path / 'a.wav'} -t wav - speed 0.9 |\n")
    (d / "text").write_text("u1 hello\nu2 world\n")
    return d


def _check(out: Path, data: Path, *extra: str) -> int:
    return stage_guard.main(["check", "--stage", "3", "--out", str(out), "--files", str(data),
                             "--audio", str(data / "wav.scp"), *extra])


def test_first_run_then_up_to_date_then_each_change_is_named(tmp_path, inputs, capsys):
    out = tmp_path / "out"
    assert _check(out, inputs, "--opt", "fs=16000") == 10
    assert "no record of an earlier run" in capsys.readouterr().err
    assert stage_guard.main(["commit", "--stage", "3", "--out", str(out)]) == 0
    assert _check(out, inputs, "--opt", "fs=16000") == 0
    assert "up to date" in capsys.readouterr().err

    assert _check(out, inputs, "--opt", "fs=8000") == 10
    assert "fs 16000 -> 8000" in capsys.readouterr().err
    assert not (out / ".stage3.json").exists()  # the output is about to change
    stage_guard.main(["commit", "--stage", "3", "--out", str(out)])

    (inputs / "text").write_text("u1 hello\nu2 word\n")
    assert _check(out, inputs, "--opt", "fs=8000") == 10
    assert f"{inputs / 'text'} changed" in capsys.readouterr().err
    stage_guard.main(["commit", "--stage", "3", "--out", str(out)])

    (inputs.parent / "a.wav").write_bytes(b"RIFF-two")  # audio content, same path
    assert _check(out, inputs, "--opt", "fs=8000") == 10
    assert "audio of" in capsys.readouterr().err


def test_same_inputs_after_an_interruption_resume(tmp_path, inputs):
    out = tmp_path / "out"
    assert _check(out, inputs) == 10  # started, never committed
    assert _check(out, inputs) == 11
    (inputs / "text").write_text("u1 other\nu2 text\n")
    assert _check(out, inputs) == 10  # other inputs: not the same work


def test_audio_hash_is_reused_while_size_and_mtime_hold(tmp_path, inputs, monkeypatch):
    out = tmp_path / "out"
    _check(out, inputs)
    stage_guard.main(["commit", "--stage", "3", "--out", str(out)])
    calls = []
    real = stage_record.digest.file_sha1
    monkeypatch.setattr(stage_record.digest, "file_sha1", lambda p: calls.append(str(p)) or real(p))
    assert _check(out, inputs) == 0
    assert str(inputs.parent / "a.wav") not in calls  # data files are hashed, audio is not re-read
    st = os.stat(inputs.parent / "a.wav")
    os.utime(inputs.parent / "a.wav", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # touched, same bytes
    assert _check(out, inputs) == 0
    assert str(inputs.parent / "a.wav") in calls


def test_config_keys_and_bad_arguments(tmp_path, inputs, capsys):
    conf = tmp_path / "c.yaml"
    conf.write_text("frontend: default\nfrontend_conf: {n_fft: 512}\nmax_epoch: 3\n")
    out = tmp_path / "o"
    args = ["--config_keys", f"{conf}:frontend,frontend_conf"]
    _check(out, inputs, *args)
    stage_guard.main(["commit", "--stage", "3", "--out", str(out)])
    conf.write_text("frontend: default\nfrontend_conf: {n_fft: 512}\nmax_epoch: 9\n")
    assert _check(out, inputs, *args) == 0  # a key not named does not count
    conf.write_text("frontend: default\nfrontend_conf: {n_fft: 400}\n")
    assert _check(out, inputs, *args) == 10
    assert _check(out, inputs, "--opt", "novalue") == 2
    assert "KEY=VALUE" in capsys.readouterr().err
    assert stage_guard.main(["commit", "--stage", "5", "--out", str(out)]) == 2


def test_retire_moves_a_model_and_repoints_its_config(tmp_path):
    exp = tmp_path / "exp" / "asr_x"
    exp.mkdir(parents=True)
    (exp / "config.yaml").write_text(f"normalize_conf:\n  stats_file: {exp}/feats_stats.npz\n")
    (exp / ".stage7.json").write_text("{}")
    to = tmp_path / "exp" / "stale" / "asr_x.1"
    assert stage_guard.main(["retire", "--out", str(exp), "--to", str(to)]) == 0
    assert not exp.exists() and f"{to}/feats_stats.npz" in (to / "config.yaml").read_text()
    assert not (to / ".stage7.json").exists()


def test_token_setup_is_recorded_and_contradictions_are_errors(tmp_path, capsys):
    setup = tmp_path / "setup.json"
    assert token_setup.main(["record", "--setup", str(setup), "--surface_token_type", "word",
                             "--meaning_token_type", "bpe", "--nbpe_meaning", "80"]) == 0
    rec = json.loads(setup.read_text())
    assert rec["surface"]["dir"] == "data/token_list/surface/word"
    assert rec["meaning"]["dir"] == "data/token_list/meaning/bpe_unigram80"
    assert token_setup.main(["read", "--setup", str(setup), "--surface_token_type", ""]) == 0
    out = capsys.readouterr().out
    assert "surface_token_type=word" in out and "nbpe_meaning=80" in out
    assert token_setup.main(["read", "--setup", str(setup), "--nbpe_meaning", "100"]) == 2
    assert "--nbpe_meaning 100 (stage 5 recorded 80)" in capsys.readouterr().err
    assert token_setup.main(["read", "--setup", str(tmp_path / "none.json")]) == 2
    assert "run stage 5" in capsys.readouterr().err
    assert token_setup_record.token_dir_name("bpe", 100, "bpe") == "bpe_bpe100"


def test_peek_writes_nothing_and_says_only_up_to_date(tmp_path, inputs, capsys):
    out = tmp_path / "out"
    assert _check(out, inputs, "--peek") == 10
    assert not out.exists() and capsys.readouterr().err == ""
    _check(out, inputs)
    stage_guard.main(["commit", "--stage", "3", "--out", str(out)])
    capsys.readouterr()
    assert _check(out, inputs, "--peek") == 0
    assert "up to date" in capsys.readouterr().err
    (inputs / "text").write_text("u1 changed\nu2 text\n")
    assert _check(out, inputs, "--peek") == 10
    assert (out / ".stage3.json").exists()  # the record of the finished work is kept
