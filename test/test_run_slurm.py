"""utils/run_slurm.sh without a cluster: a fake sbatch runs the array tasks in place.

The fake records its arguments, so these tests pin the submission (array spec,
conf-mapped options, output paths); test_slurm.py runs the real thing.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UTILS = ROOT / "egs2" / "TEMPLATE" / "asr1" / "utils"

FAKE_SBATCH = """#!/usr/bin/env bash
# Record the call, run each array task (except those in $FAKE_SKIP), print a job id.
printf '%s\\n' "$@" > "$FAKE_DIR/sbatch.args"
array=""; script="${@: -1}"
while [ $# -gt 1 ]; do
    case "$1" in --array) array="$2"; shift 2 ;; *) shift ;; esac
done
array="${array%%%*}"
if [ -n "$array" ]; then
    for ((i = ${array%-*}; i <= ${array#*-}; i++)); do
        [[ " ${FAKE_SKIP:-} " == *" $i "* ]] && continue
        SLURM_JOB_ID=42 SLURM_ARRAY_TASK_ID=$i bash "$script" >/dev/null 2>&1 || true
    done
else
    SLURM_JOB_ID=42 bash "$script" >/dev/null 2>&1 || true
fi
echo "42;cluster"
"""


def _setup(tmp_path: Path) -> dict:
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    (bin_dir / "sbatch").write_text(FAKE_SBATCH)
    (bin_dir / "squeue").write_text("#!/usr/bin/env bash\nexit 0\n")  # the job is no longer queued
    (bin_dir / "scancel").write_text("#!/usr/bin/env bash\nexit 0\n")
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    return dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", FAKE_DIR=str(tmp_path), RUN_SLURM_GRACE="0")


def run(script: str, *args: str, cwd: Path, env: dict):
    return subprocess.run([str(UTILS / script), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def sbatch_args(tmp_path: Path) -> list:
    return (tmp_path / "sbatch.args").read_text().splitlines()


def test_array_submission_and_logs_match_local(tmp_path):
    env = _setup(tmp_path)
    (tmp_path / "s").mkdir()
    (tmp_path / "l").mkdir()
    cmd = ["echo", "job=JOB", "two words", "|", "tr", "a-z", "A-Z"]
    r = run("run_slurm.sh", "--max_jobs_run", "2", "--gpu", "1", "--num_threads", "3",
            "JOB=1:4", "exp/log/x.JOB.log", *cmd, cwd=tmp_path / "s", env=env)
    assert r.returncode == 0, r.stderr
    args = sbatch_args(tmp_path)
    assert args[0] == "--export=PATH"
    assert args[args.index("--array") + 1] == "1-4%2"
    assert args[args.index("--job-name") + 1] == "x"
    assert args[args.index("--output") + 1] == "exp/log/q/x.%a.out"
    assert "--gres=gpu:1" in args and args[args.index("--cpus-per-task") + 1] == "3"
    assert args[-1] == "exp/log/q/x.JOB.sh"
    assert run("run_local.sh", "JOB=1:4", "exp/log/x.JOB.log", *cmd, cwd=tmp_path / "l", env=env).returncode == 0
    for i in range(1, 5):
        slog, llog = (tmp_path / d / f"exp/log/x.{i}.log" for d in ("s", "l"))
        body = [line for line in slog.read_text().splitlines() if not line.startswith("#")]
        assert body == [line for line in llog.read_text().splitlines() if not line.startswith("#")]
        assert body == [f"JOB={i} TWO WORDS"]
        assert "threads=3" in slog.read_text()
        assert (tmp_path / "s" / f"exp/log/x.{i}.log.done").read_text() == "0\n"


def test_single_job_has_no_array_and_stale_markers_are_removed(tmp_path):
    env = _setup(tmp_path)
    (tmp_path / "log").mkdir()
    (tmp_path / "log/one.log.done").write_text("0\n")
    env["FAKE_SKIP"] = ""
    r = run("run_slurm.sh", "--time", "1:00:00", "log/one.log", "exit 4", cwd=tmp_path, env=env)
    assert r.returncode != 0
    assert "1/1 jobs failed, see: log/one.log" in r.stderr
    args = sbatch_args(tmp_path)
    assert "--array" not in args and args[args.index("--time") + 1] == "1:00:00"
    assert args[args.index("--output") + 1] == "log/q/one.out"
    assert (tmp_path / "log/one.log.done").read_text() == "4\n"


def test_failed_and_vanished_tasks_are_reported(tmp_path):
    env = dict(_setup(tmp_path), FAKE_SKIP="3")
    r = run("run_slurm.sh", "JOB=1:4", "log/f.JOB.log", "test $((JOB % 2)) -eq 0", cwd=tmp_path, env=env)
    assert r.returncode != 0
    assert "2/4 jobs failed, see: log/f.1.log log/f.3.log" in r.stderr
    assert "task 3 ended without an exit code" in r.stderr and "log/q/f.3.out" in r.stderr


def test_job_in_directory_part_and_range_offset(tmp_path):
    env = _setup(tmp_path)
    r = run("run_slurm.sh", "JOB=3:5", "exp/JOB/log/t.log", "echo JOB", cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "exp/q/t.sh").is_file()
    assert sbatch_args(tmp_path)[sbatch_args(tmp_path).index("--array") + 1] == "3-5"
    assert "\n4\n" in (tmp_path / "exp/4/log/t.log").read_text()


def test_config_file_and_bad_usage(tmp_path):
    env = _setup(tmp_path)
    conf = tmp_path / "my.conf"
    conf.write_text("command sbatch --account=l2\noption gpu=* -p gpu --gres=gpu:$0\n")
    r = run("run_slurm.sh", "--config", str(conf), "--gpu", "2", "log/g.log", "true", cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    assert sbatch_args(tmp_path)[:4] == ["--account=l2", "-p", "gpu", "--gres=gpu:2"]
    (tmp_path / "sbatch.args").unlink()
    r = run("run_slurm.sh", "--config", str(conf), "--mem", "2G", "log/g.log", "true", cwd=tmp_path, env=env)
    assert r.returncode != 0 and "no rule for --mem" in r.stderr
    assert not (tmp_path / "sbatch.args").exists()  # nothing submitted
    assert run("run_slurm.sh", "JOB=1:2", "log/same.log", "true", cwd=tmp_path, env=env).returncode != 0
    assert run("run_slurm.sh", "--max_jobs_run", "0", "log/x.log", "true", cwd=tmp_path, env=env).returncode != 0
    assert run("run_slurm.sh", "--help", cwd=tmp_path, env=env).returncode == 0


def test_espnet_multinode_launch_goes_through_srun(tmp_path):
    """Stage 7's call: espnet2.bin.launch --cmd "${cuda_cmd}" --ngpu 2 --num_nodes 2 (cmd_backend=slurm)."""
    if importlib.util.find_spec("espnet2") is None:
        pytest.skip("espnet2 is not installed in this python")
    env = _setup(tmp_path)
    (tmp_path / "fakebin" / "srun").write_text(
        "#!/usr/bin/env bash\n"
        'echo "srun $*" > "$FAKE_DIR/srun.args"\n'
        'while [[ "$1" == --* ]]; do shift; done\n'
        'exec "$@"\n')
    (tmp_path / "fakebin" / "srun").chmod(0o755)
    env["PATH"] = f"{UTILS}:{env['PATH']}"
    cuda_cmd = subprocess.run(["bash", "-c", ". ./cmd.sh; echo \"${cuda_cmd}\""], cwd=UTILS.parent,
                              env=dict(env, cmd_backend="slurm"), capture_output=True, text=True).stdout.strip()
    assert cuda_cmd.split()[0] == "slurm.pl"
    cuda_cmd = cuda_cmd.replace("conf/slurm.conf", str(ROOT / "egs2/l2en/asr1/conf/slurm.conf"))
    r = subprocess.run([sys.executable, "-m", "espnet2.bin.launch", "--cmd", cuda_cmd,
                        "--log", "exp/logs/train.log", "--ngpu", "2", "--num_nodes", "2",
                        "--init_file_prefix", "exp/.dist_init_", "--",
                        "python3", "-c", "import sys; print('ARGS', sys.argv[1:])"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    joined = " ".join(sbatch_args(tmp_path))
    assert "--nodes 2 --ntasks-per-node 1" in joined and "--gres=gpu:2" in joined
    assert "--export=ALL" in (tmp_path / "srun.args").read_text()
    log = (tmp_path / "exp/logs/train.log").read_text()
    assert "ARGS" in log and "'--dist_launcher', 'slurm'" in log and "(code 0)" in log
