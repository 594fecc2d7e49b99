"""Recipe stage-1 scripts for the mini corpus: scripts/mini_data.sh and local/data.sh."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
needs_espeak = pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("sox")),
                                  reason="needs espeak-ng and sox")
CORPUS_OPTIONS = ("--seed", "--num_train", "--num_dev", "--num_test", "--error_scale", "--eval_speakers",
                  "--eval_utts_per_speaker")


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{env.get('PYTHONPATH', '')}"
    return env


@needs_espeak
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_mini_data_sh_makes_data_dirs(lang, tmp_path):
    recipe = ROOT / "egs2" / f"l2{lang}" / "asr1"
    cmd = ["scripts/mini_data.sh", "--lang", lang, "--corpus_dir", str(tmp_path / "mini"),
           "--data_dir", str(tmp_path / "data"), "--nj", "2",
           "--num_train", "3", "--num_dev", "1", "--num_test", "1",
           "--eval_speakers", "2", "--eval_utts_per_speaker", "1"]
    if lang == "en":  # the learner-error twins of eval, on request
        cmd += ["--twins", "true"]
    proc = subprocess.run(cmd, cwd=recipe, env=_env(), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for s, n in (("train", 3), ("dev", 1), ("test", 1), ("eval", 2)):
        d = tmp_path / "data" / s
        assert len((d / "wav.scp").read_text().splitlines()) == n
        for name in ("text_surface", "text_meaning", "utt2spk", "spk2utt", "utt2lang"):
            assert (d / name).is_file()
    assert not list((tmp_path / "data").glob(".*.tmp"))
    eval_spk = set((tmp_path / "data" / "eval" / "utt2spk").read_text().split()[1::2])
    assert len(eval_spk) == 2 and all(s.startswith(f"{lang}eval") for s in eval_spk)
    twins = tmp_path / "data" / "eval_twins"
    assert twins.is_dir() == (lang == "en") == (tmp_path / "mini" / "eval_twins").is_dir()
    if lang == "en":
        assert set((twins / "utt2spk").read_text().split()[1::2]) <= eval_spk
        assert "canonical" in (twins / "utt2twin").read_text()


@pytest.mark.skipif(not (ROOT / "tools" / "venv" / "bin" / "activate").is_file(), reason="needs tools/venv")
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_local_data_sh_unknown_corpus_fails(lang):
    recipe = ROOT / "egs2" / f"l2{lang}" / "asr1"
    proc = subprocess.run(["local/data.sh", "--corpus", "nope"], cwd=recipe, capture_output=True, text=True)
    assert proc.returncode == 1
    assert "unknown corpus 'nope'" in proc.stderr
    proc = subprocess.run(["local/data.sh", "--help"], cwd=recipe, capture_output=True, text=True)
    assert proc.returncode == 0 and "--corpus" in proc.stdout


def _make_mini_corpus_argv(tmp_path: Path, cmd, recipe: Path):
    """Run ``cmd`` with a python that records its arguments and fails: make_mini_corpus's argv."""
    stub, argv = tmp_path / "python", tmp_path / "argv"
    stub.write_text(f'#!/usr/bin/env bash\nprintf "%s\\n" "$@" > {argv}\nexit 3\n')
    stub.chmod(0o755)
    env = {**_env(), "python": str(stub)}
    proc = subprocess.run(cmd, cwd=recipe, env=env, capture_output=True, text=True)
    assert proc.returncode == 3, proc.stderr
    return argv.read_text().splitlines()


@pytest.mark.parametrize("script", ["scripts/mini_data.sh", "local/data.sh"])
def test_scripts_pass_only_the_corpus_options_given(tmp_path, script):
    """The corpus sizes, seed and error scale default in make_mini_corpus only, not in the scripts."""
    recipe = ROOT / "egs2" / "l2en" / "asr1"
    cmd = [script, *(["--corpus", "mini", "--corpus_dir"] if script == "local/data.sh" else
                     ["--lang", "en", "--data_dir", str(tmp_path / "data"), "--corpus_dir"]),
           str(tmp_path / "mini"), "--nj", "1"]
    argv = _make_mini_corpus_argv(tmp_path, cmd, recipe)
    assert argv[:2] == ["-m", "espnet_l2dual.bin.make_mini_corpus"]
    assert not set(argv) & set(CORPUS_OPTIONS), argv
    given = [x for i, o in enumerate(CORPUS_OPTIONS) for x in (o, str(i + 2))]
    argv = _make_mini_corpus_argv(tmp_path, cmd + given, recipe)
    assert all(argv[argv.index(o) + 1] == v for o, v in zip(given[::2], given[1::2])), argv
