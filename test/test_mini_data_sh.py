"""Recipe stage-1 scripts for the mini corpus: scripts/mini_data.sh and local/data.sh."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("sox")),
                                reason="needs espeak-ng and sox")


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{env.get('PYTHONPATH', '')}"
    return env


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
