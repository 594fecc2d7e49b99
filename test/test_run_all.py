"""run_all.sh: its markers are keyed by what made them, a grid resumes after a kill, and
models of one language train side by side (--config_jobs). Each case in a scratch copy of the
repository's layout on a tiny corpus.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from recipe_helpers import TINY_DATA_OPTS, make_recipe, repo_tree, run_recipe, write_tiny_config

from espnet_l2dual.data.dir_tables import read_any_table

pytestmark = pytest.mark.slow

TINY_EVAL = "--eval_speakers 2 --eval_utts_per_speaker 2"  # the held-out set, as small as the others
DATA_OPTS = TINY_DATA_OPTS


def test_run_all_markers_are_keyed_by_what_made_them(tmp_path) -> None:
    """A changed --local_data_opts or YAML is new work for run_all.sh, not 'already done'."""
    recipe = make_recipe(repo_tree(tmp_path), "l2en")  # with tmp_path/egs2/TEMPLATE (conf/ a copy)

    def run_all(opts: str) -> str:
        cmd = ["./run_all.sh", "--langs", "en", "--configs", "mtl", "--stop_stage", "6", "--nj", "1",
               "--parallel", "false", "--local_data_opts", opts]
        proc = run_recipe(cmd, cwd=tmp_path, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return proc.stderr

    run_all(f"--num_train 16 --num_dev 4 --num_test 4 {TINY_EVAL}")
    assert "already done" in run_all(f"--num_train 16 --num_dev 4 --num_test 4 {TINY_EVAL}")
    log = run_all(f"--num_train 12 --num_dev 4 --num_test 4 {TINY_EVAL}")
    assert "already done" not in log
    assert len((recipe / "data/train/wav.scp").read_text().splitlines()) == 12
    assert len((recipe / "dump/raw/train/wav.scp").read_text().splitlines()) <= 12
    # an edit of the shared TEMPLATE base (the recipe's file links to it) is new work too
    assert (recipe / "conf/tuning/train_mtl_tiny.yaml").is_symlink()
    conf = tmp_path / "egs2/TEMPLATE/asr1/conf/tuning/train_mtl_tiny.yaml"
    conf.write_text(conf.read_text().replace("n_mels: 80", "n_mels: 40"))
    log = run_all(f"--num_train 12 --num_dev 4 --num_test 4 {TINY_EVAL}")
    assert "already done" not in log and "Stage 6: inputs changed: config:" in log


def test_run_all_grid_resumes_after_a_kill(tmp_path) -> None:
    """Each grid level is a working dir of its own; a killed grid run picks up where it stopped."""
    recipe = make_recipe(repo_tree(tmp_path), "l2en")  # with tmp_path/egs2/TEMPLATE (conf/ a copy)
    cmd = ["./run_all.sh", "--langs", "en", "--configs", "mtl", "--stop_stage", "4", "--nj", "1", "--parallel", "false",
           "--grid_error_scales", "0 2", "--local_data_opts", f"--num_train 16 --num_dev 4 --num_test 4 {TINY_EVAL}"]
    first_done = lambda: list((recipe / "grid" / "es0_epconfig" / "exp" / "run_all").glob("data.1-4.*.done"))  # noqa: E731
    env = dict(os.environ)
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    t0 = time.time()
    while not first_done() and proc.poll() is None and time.time() - t0 < 600:
        time.sleep(0.5)
    assert first_done(), proc.stderr.read() if proc.poll() is not None else "first level not done in 600 s"
    os.killpg(proc.pid, signal.SIGKILL)  # somewhere in the second level
    proc.wait()
    again = run_recipe(cmd, cwd=tmp_path, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "es0_epconfig: data stages 1-4 already done" in again.stderr
    div = {}
    for level in ("es0_epconfig", "es2_epconfig"):
        d = recipe / "grid" / level / "dump" / "raw" / "test"
        values = [float(v) for v in read_any_table(d / "utt2divergence").values()]
        div[level] = sum(values) / len(values)
    assert div["es0_epconfig"] == 0.0 < div["es2_epconfig"]  # the knob reached the data


def test_run_all_config_jobs_trains_models_side_by_side_and_names_a_failure(tmp_path) -> None:
    """--config_jobs 2: the two models of a language train at the same time, each with its own log;
    a model that fails is named, and the other one still finishes."""
    recipe = make_recipe(repo_tree(tmp_path), "l2en")  # with tmp_path/egs2/TEMPLATE (conf/ a copy)
    base = tmp_path / "egs2/TEMPLATE/asr1/conf/tuning/train_mtl_tiny.yaml"  # the scratch copy both build on
    small = write_tiny_config(recipe)  # the shrunk MTL config, written over the shared tiny base
    base.write_text(small.read_text())
    cmd = ["./run_all.sh", "--langs", "en", "--configs", "stl_surface mtl", "--stop_stage", "7", "--nj", "1",
           "--parallel", "false", "--config_jobs", "2", "--local_data_opts", DATA_OPTS]
    proc = run_recipe(cmd, cwd=tmp_path, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = {}
    for model in ("stl_surface_tiny", "mtl_tiny"):
        assert (recipe / f"exp/run_all/{model}.7-9.log").is_file()
        exp = recipe / "exp" / f"asr_{model}"
        header = (exp / "logs" / "train.log").read_text().splitlines()
        started = next(line for line in header if line.startswith("# Started at"))
        runs[model] = (time.mktime(time.strptime(started[len("# Started at "):].strip(), "%a %b %d %H:%M:%S %Z %Y")),
                       (exp / "1epoch.pth").stat().st_mtime)
    (s1, e1), (s2, e2) = runs.values()
    assert s1 < e2 and s2 < e1, runs  # the two trainings overlapped
    # a broken config: named in the error; the other model is already done and stays so
    bad = recipe / "conf/tuning/train_stl_surface_tiny.yaml"
    bad.unlink()
    bad.write_text("base: train_mtl_tiny.yaml\nmodel_conf:\n    tasks: [surface]\nno_such_option: 1\n")
    proc = run_recipe(cmd, cwd=tmp_path, timeout=900)
    assert proc.returncode != 0
    assert "no_such_option" in proc.stderr  # the model's own error, from the tail of its log
    assert "stages 7-9 failed for stl_surface_tiny" in proc.stderr, proc.stderr[-3000:]
    # the markers are keyed by every config of the list, so MTL's is re-checked: stage 7 finds it up to date
    assert "up to date (inputs unchanged), skipping" in (recipe / "exp/run_all/mtl_tiny.7-9.log").read_text()
    assert (recipe / "exp/asr_mtl_tiny/1epoch.pth").stat().st_mtime == runs["mtl_tiny"][1]
