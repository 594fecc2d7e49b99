"""Re-runs never reuse stale work: each case through ./run.sh on a tiny corpus.

One base recipe runs stages 1-11 once (16 training utterances, a 1-block model, one
epoch: seconds, not accuracy; the session's ``tiny_recipe``, shared with other modules). Each test works in its own clone of it, changes one
input, re-runs, and checks that exactly the dependent outputs changed (by content
hash) and that the log says why; with nothing changed nothing is recomputed.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Dict

import numpy as np
import pytest
import soundfile
import yaml
from recipe_helpers import TINY_COMMON, TINY_CONFIG, TINY_DATA_OPTS, TINY_TAG, clone_recipe, run_recipe

from espnet_l2dual.compat.stack import stack_versions
from espnet_l2dual.utils.config_file import config_digest

pytestmark = pytest.mark.slow

DATA_OPTS, CONFIG, TAG, COMMON = TINY_DATA_OPTS, TINY_CONFIG, TINY_TAG, TINY_COMMON


def run(recipe: Path, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
    proc = run_recipe(["./run.sh", *COMMON, *args], cwd=recipe, timeout=timeout)
    if check:
        assert proc.returncode == 0, proc.stderr[-4000:]
    return proc


def sha(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def tree_hashes(root: Path) -> Dict[str, str]:
    return {p.relative_to(root).as_posix(): sha(p) for p in sorted(root.rglob("*"))
            if p.is_file() and not p.is_symlink()}


@pytest.fixture(scope="module")
def base(tiny_recipe) -> Path:
    """The session's tiny recipe through stage 11 (conftest.py); tests that change it work on a clone."""
    return tiny_recipe


clone = clone_recipe


def test_nothing_changed_nothing_recomputed(base: Path) -> None:
    before = tree_hashes(base / "exp")
    proc = run(base, "--stage", "3", "--stop_stage", "11")
    assert "recomputing" not in proc.stderr and "computing" not in proc.stderr
    for stage in (3, 4, 5, 6, 7, 8, 9, 10, 11):
        assert re.search(rf"Stage {stage}: \S+ is up to date \(inputs unchanged\), skipping", proc.stderr), stage
    assert tree_hashes(base / "exp") == before


def test_provenance_and_replayable_run_sh(base: Path) -> None:
    exp = base / "exp" / TAG
    res = json.loads((exp / "results.json").read_text())
    prov = res["provenance"]
    assert prov["commit"] and prov["config_sha1"] == config_digest(base / CONFIG)  # resolved content
    assert prov["config_files"] == {CONFIG: sha(base / CONFIG)}  # no base: the chain is the file
    assert prov["seed"] == 0 and prov["token_setup"]["surface"]["dir"] == "data/token_list/surface/char"
    assert prov["versions"] == stack_versions()  # the ESPnet stack it trained on, checked at decode
    assert sorted(Path(d).name for d in prov["decode"]) == ["eval", "test"]  # one record per decoded set
    for decode in prov["decode"].values():
        assert decode["options"]["beam_size"] == "2" and decode["inputs_digest"]
    assert "toolkit commit" in (exp / "RESULTS.md").read_text(encoding="utf-8")
    # config.yaml names only the model's own files, never data/token_list or the stats dir
    conf = yaml.safe_load((exp / "config.yaml").read_text())
    assert conf["normalize_conf"]["stats_file"] == f"exp/{TAG}/feats_stats.npz"
    replay = run_recipe([str(exp / "run.sh"), "--stage", "9", "--stop_stage", "9"], cwd=base, timeout=120)
    assert replay.returncode == 0, replay.stderr[-2000:]
    assert "Stage 9: exp/asr_mtl_test is up to date" in replay.stderr


def test_changed_source_audio_is_redumped_and_the_model_retrained(base: Path, tmp_path: Path) -> None:
    recipe = clone(base, tmp_path)
    utts = [line.split()[0] for line in (recipe / "data/train/wav.scp").read_text().splitlines()]
    src = Path((recipe / "data/train/wav.scp").read_text().splitlines()[0].split()[1])
    data, fs = soundfile.read(str(src))
    soundfile.write(str(src), np.flip(data), fs)  # same utt id, same rate, other audio
    dumps = {u: recipe / f"dump/raw/org/train/format.1/data/{u}.wav" for u in utts}
    before = {u: sha(p) for u, p in dumps.items()}
    old_model = sha(recipe / "exp" / TAG / "valid.loss.ave.pth")
    proc = run(recipe, "--stage", "3", "--stop_stage", "8")
    assert re.search(r"Stage 3: inputs changed: .*audio of data/train/wav.scp: 1 file\(s\) changed", proc.stderr)
    after = {u: sha(p) for u, p in dumps.items()}
    assert after[utts[0]] != before[utts[0]]
    assert all(after[u] == before[u] for u in utts[1:])  # unchanged sources are reused
    assert "Stage 7: the model in exp/asr_mtl_test was trained from other inputs" in proc.stderr
    assert sha(recipe / "exp" / TAG / "valid.loss.ave.pth") != old_model
    (stale,) = (recipe / "exp" / "stale").iterdir()
    conf = yaml.safe_load((stale / "config.yaml").read_text())
    assert conf["normalize_conf"]["stats_file"] == f"exp/stale/{stale.name}/feats_stats.npz"


@pytest.mark.parametrize("change, args, reason", [
    ("text", (), "data/train/text_surface changed"),
    ("fs", ("--fs", "8000"), "fs 16000 -> 8000"),
    ("format", ("--audio_format", "flac"), "audio_format wav -> flac"),
    ("drop", (), "data/train/utt2l1 is gone"),
])
def test_stage3_redoes_its_work_when_any_input_changes(base, tmp_path, change, args, reason) -> None:
    recipe = clone(base, tmp_path)
    if change == "text":
        p = recipe / "data/train/text_surface"
        lines = p.read_text(encoding="utf-8").splitlines()
        utt, text = lines[0].split(maxsplit=1)
        lines[0] = f"{utt} {text} QQ"
        p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if change == "drop":
        (recipe / "data/train/utt2l1").unlink()
    proc = run(recipe, "--stage", "3", "--stop_stage", "5", *args)
    assert f"Stage 3: inputs changed: {reason}" in proc.stderr
    assert "Stage 4: inputs changed" in proc.stderr
    dump = recipe / "dump/raw/train"
    if change == "text":
        assert "QQ" in (dump / "text_surface").read_text(encoding="utf-8")
        assert "Stage 5: inputs changed" in proc.stderr
        assert "Q" in (recipe / "data/token_list/surface/char/tokens.txt").read_text(encoding="utf-8").split()
    elif change == "drop":  # a table the source no longer has does not survive in the dumps
        assert not (recipe / "dump/raw/org/train/utt2l1").exists() and not (dump / "utt2l1").exists()
    elif change == "fs":
        first = (dump / "wav.scp").read_text().splitlines()[0].split()[1]
        assert soundfile.info(str(recipe / first)).samplerate == 8000
    else:
        assert (dump / "wav.scp").read_text().splitlines()[0].endswith(".flac")


def test_stage5_records_the_token_setup_and_later_stages_follow_it(base, tmp_path) -> None:
    recipe = clone(base, tmp_path)
    run(recipe, "--stage", "5", "--stop_stage", "5", "--surface_token_type", "word")
    setup = json.loads((recipe / "data/token_list/setup.json").read_text())
    assert setup["surface"] == {"token_type": "word", "dir": "data/token_list/surface/word"}
    char_list = recipe / "data/token_list/surface/char/tokens.txt"
    assert char_list.is_file()  # two settings, two directories
    # forgetting the option later is fine: stage 6 uses the recorded setup
    proc = run(recipe, "--stage", "6", "--stop_stage", "6")
    assert (recipe / "exp/stats_raw_word_char/train/feats_stats.npz").is_file()
    # contradicting it is an error, not a silent switch
    proc = run(recipe, "--stage", "7", "--stop_stage", "7", "--surface_token_type", "char", check=False)
    assert proc.returncode != 0
    assert "--surface_token_type char (stage 5 recorded word)" in proc.stderr


def test_resume_after_a_kill_and_after_a_corrupt_checkpoint(base, tmp_path) -> None:
    recipe = clone(base, tmp_path)
    conf = yaml.safe_load((recipe / CONFIG).read_text())
    conf["max_epoch"] = 3
    (recipe / CONFIG).write_text(yaml.safe_dump(conf))
    exp = recipe / "exp" / TAG
    cmd = ["./run.sh", *COMMON, "--stage", "7", "--stop_stage", "7"]
    proc = subprocess.Popen(cmd, cwd=recipe, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.time() + 300
    # the config changed (max_epoch), so the old model is moved aside first; wait for the new epoch 1
    while time.time() < deadline and not ((recipe / "exp/stale").is_dir() and (exp / "1epoch.pth").exists()):
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # mid-training, possibly mid-save
    proc.communicate()
    assert (exp / ".stage7.pending.json").is_file() and not (exp / ".stage7.json").exists()

    resumed = run(recipe, "--stage", "7", "--stop_stage", "7")
    assert "finishing the interrupted run" in resumed.stderr
    assert (exp / ".stage7.json").is_file() and (exp / "3epoch.pth").is_file()
    assert (exp / "logs/train.1.log").is_file()  # the killed run's log is kept

    # a checkpoint broken by something else (full disk, an older toolkit): named, set aside
    (exp / ".stage7.json").rename(exp / ".stage7.pending.json")
    (exp / "checkpoint.pth").write_bytes((exp / "checkpoint.pth").read_bytes()[:1000])
    again = run(recipe, "--stage", "7", "--stop_stage", "7")
    assert f"note: {exp.relative_to(recipe)}/checkpoint.pth is truncated or not a torch checkpoint" in again.stderr
    assert "training starts again from epoch 1" in again.stderr  # on the console, not only in the log
    log = (exp / "logs/train.log").read_text(encoding="utf-8")
    assert f"{exp.relative_to(recipe)}/checkpoint.pth is truncated or not a torch checkpoint" in log
    assert (exp / "checkpoint.pth.corrupt").is_file() and (exp / ".stage7.json").is_file()
    assert "training starts again from epoch 1" in log
    assert again.returncode == 0


def test_one_run_per_recipe_dir(base, tmp_path) -> None:
    recipe = clone(base, tmp_path)
    lock = recipe / ".l2dual.lock"
    with open(lock, "a+") as fd:
        fcntl.flock(fd, fcntl.LOCK_EX)
        lock.write_text("PID 4242 (a test holding the lock)\n")
        proc = run(recipe, "--stage", "4", "--stop_stage", "4", check=False)  # refuses, does not wait
        assert proc.returncode != 0
        assert "another run is using" in proc.stderr and "PID 4242" in proc.stderr
        threading.Timer(3.0, lambda: fcntl.flock(fd, fcntl.LOCK_UN)).start()
        waited = run(recipe, "--stage", "4", "--stop_stage", "4", "--wait_lock", "true")
        assert "waiting for the run holding" in waited.stderr


def test_per_model_runs_share_the_recipe_dir(base, tmp_path) -> None:
    """Configs train side by side (shared recipe lock); a data stage or the same model waits."""
    recipe = clone(base, tmp_path)
    with open(recipe / ".l2dual.lock", "a+") as fd:
        fcntl.flock(fd, fcntl.LOCK_SH)  # another model's stages 7-9 are running
        per_model = run(recipe, "--stage", "9", "--stop_stage", "9")
        assert "another run" not in per_model.stderr
        data = run(recipe, "--stage", "4", "--stop_stage", "4", check=False)
        assert data.returncode != 0 and "another run is using" in data.stderr
    model_lock = recipe / "exp" / f".{TAG}.lock"
    with open(model_lock, "a+") as fd:
        fcntl.flock(fd, fcntl.LOCK_EX)
        model_lock.write_text("PID 4343 (a test training this model)\n")
        same = run(recipe, "--stage", "9", "--stop_stage", "9", check=False)
        assert same.returncode != 0 and f"another run is using exp/{TAG}" in same.stderr and "PID 4343" in same.stderr


def _weights(exp: Path) -> Dict[str, Any]:
    import torch

    return torch.load(exp / "1epoch.pth", map_location="cpu")


def test_a_seed_reproduces_its_model_and_another_seed_differs(base, tmp_path) -> None:
    """Same seed, same machine, one thread: bit-identical weights; another seed: other weights.

    Across machines the same seed can still differ (BLAS kernels, thread counts, CPU vector
    units); README "Seeds" says so."""
    import torch

    recipe = clone(base, tmp_path)
    first = run(recipe, "--stage", "7", "--stop_stage", "7", "--seed", "1")
    assert "Stage 7: train" in first.stderr
    again = run(recipe, "--stage", "7", "--stop_stage", "7", "--seed", "1", "--tag", f"{TAG}_seed1_again")
    other = run(recipe, "--stage", "7", "--stop_stage", "7", "--seed", "2")
    assert again.returncode == other.returncode == 0
    w1, w1b, w2 = (_weights(recipe / "exp" / t) for t in (f"{TAG}_seed1", f"{TAG}_seed1_again", f"{TAG}_seed2"))
    assert w1.keys() == w1b.keys() == w2.keys()
    assert all(torch.equal(w1[k], w1b[k]) for k in w1)
    assert not all(torch.equal(w1[k], w2[k]) for k in w1)
    conf = yaml.safe_load((recipe / "exp" / f"{TAG}_seed2" / "config.yaml").read_text())
    assert conf["seed"] == 2


def test_concurrent_data_preparation_never_installs_a_half_written_dir(base, tmp_path) -> None:
    recipe = clone(base, tmp_path)
    cmd = ["scripts/mini_data.sh", "--lang", "en", "--nj", "1", *DATA_OPTS.split()]
    env = dict(os.environ, PATH=f"{recipe}/utils:{recipe}/scripts:{os.environ['PATH']}")
    procs = [subprocess.Popen(["bash", "-c", ". ./path.sh && " + " ".join(cmd)], cwd=recipe, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    errs = [p.communicate(timeout=300)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), errs
    check = run_recipe(["bash", "-c", ". ./path.sh && python -m espnet_l2dual.bin.validate_data_dir data/train"],
                       cwd=recipe, timeout=60)
    assert check.returncode == 0, check.stderr
    assert not list((recipe / "data").glob(".*.tmp"))
