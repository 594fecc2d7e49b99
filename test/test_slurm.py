"""utils/run_slurm.sh against a real one-node Slurm cluster started by the test.

The fixture starts a private munged (own key and socket), slurmctld and slurmd from a
slurm.conf in a temp dir (their own ports), and stops all three at the end.  Debian's
slurm-wlm and munge come from tools/install.sh (an optional step, as root); the tests are
skipped when they are not installed or the daemons cannot start here, and the skip reason
quotes what they printed.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, Iterator, Sequence

import pytest
from recipe_helpers import make_recipe, write_tiny_config

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
UTILS = ROOT / "egs2" / "TEMPLATE" / "asr1" / "utils"
RUN_SLURM = UTILS / "run_slurm.sh"
RUN_LOCAL = UTILS / "run_local.sh"
TEMPLATE = ROOT / "egs2" / "TEMPLATE" / "asr1"
DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "sinfo")
MINI_OPTS = "--num_train 8 --num_dev 4 --num_test 4 --eval_speakers 2 --eval_utts_per_speaker 2"


def _tail(path: Path, n: int = 8) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return f"({path.name}: no log)"


def _free_ports(n: int) -> list:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def make_slurm_recipe(tmp: Path, lang_dir: str) -> Path:
    """A scratch recipe whose slurm.conf fits this node's memory."""
    dst = make_recipe(tmp, lang_dir)
    if _mem_mb() * 0.9 < 9000:  # the recipe's default --mem would not fit this node
        conf = dst / "conf" / "slurm.conf"
        conf.write_text(conf.read_text().replace("default mem=8G", "default mem=1G"))
    return dst


def _ensure_packages() -> None:
    """Skip unless Debian's slurm-wlm and munge are installed (tools/install.sh's optional step)."""
    missing = [d for d in DAEMONS if not (shutil.which(d) or Path("/usr/sbin", d).exists())]
    if missing:
        pytest.skip(f"slurm-wlm/munge not installed (no {', '.join(missing)}): tools/install.sh as root installs them")


def _mem_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    return 4096


SLURM_CONF = """\
ClusterName=l2dualtest
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={d}/sock/munge.sock
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool/%n
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.%n.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
InactiveLimit=0
MinJobAge=30
{nodes}
PartitionName=debug Nodes={node_names} Default=YES MaxTime=INFINITE State=UP
"""
NODE_LINE = "NodeName={name} NodeHostname=localhost NodeAddr=127.0.0.1 Port={port} CPUs={cpus} RealMemory={mem} State=UNKNOWN"


def _stop(pid_file: Path) -> None:
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@contextlib.contextmanager
def _cluster(node_names: Sequence[str]) -> Iterator[Dict[str, str]]:
    """A private munged, slurmctld and one slurmd per node name, all on this host; their env.

    Several nodes share this machine's CPUs and memory (each gets its share), each slurmd on
    its own port: Debian's slurm-wlm runs several slurmd on one host, so a multi-node job
    (``--nodes 2``, one ``srun`` task per node) really runs here.
    """
    _ensure_packages()
    if os.geteuid() != 0:
        pytest.skip("slurmd must run as root")
    # munged wants every directory above its socket to be world-executable (pytest's tmp is 0700).
    d = Path(tempfile.mkdtemp(prefix="l2dual_slurm.", dir="/tmp"))
    started = []
    try:
        d.chmod(0o755)
        for sub in ("sock", "state", "spool"):
            (d / sub).mkdir()
        (d / "sock").chmod(0o755)
        key = d / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o600)
        munged = shutil.which("munged") or "/usr/sbin/munged"
        r = subprocess.run([munged, f"--socket={d}/sock/munge.sock", f"--key-file={key}",
                            f"--pid-file={d}/munged.pid", f"--log-file={d}/munged.log",
                            f"--seed-file={d}/munged.seed"], capture_output=True, text=True, timeout=30)
        started.append(d / "munged.pid")
        if r.returncode != 0:
            pytest.skip(f"munged cannot start here: {r.stderr.strip()} {_tail(d / 'munged.log', 3)}")
        conf = d / "slurm.conf"
        ports = _free_ports(2 + len(node_names))
        cpus = max(1, (os.cpu_count() or 1) // len(node_names))
        mem = int(_mem_mb() * 0.9 / len(node_names))
        nodes = "\n".join(NODE_LINE.format(name=n, port=p, cpus=cpus, mem=mem) for n, p in zip(node_names, ports[2:]))
        conf.write_text(SLURM_CONF.format(d=d, ctld_port=ports[0], d_port=ports[1], nodes=nodes,
                                          node_names=",".join(node_names)))
        env = dict(os.environ, SLURM_CONF=str(conf))
        daemons = [("slurmctld", [], "slurmctld")] + [("slurmd", ["-N", n], f"slurmd.{n}") for n in node_names]
        for name, args, stem in daemons:
            exe = shutil.which(name) or f"/usr/sbin/{name}"
            r = subprocess.run([exe, "-f", str(conf), *args], capture_output=True, text=True, env=env, timeout=60)
            started.append(d / f"{stem}.pid")
            if r.returncode != 0:
                pytest.skip(f"{name} cannot start here: {r.stderr.strip()} {_tail(d / f'{stem}.log')}")
        state = ""
        for _ in range(60):
            r = subprocess.run(["sinfo", "-h", "-N", "-o", "%t"], capture_output=True, text=True, env=env)
            state = (r.stdout + r.stderr).strip()
            if state.split() == ["idle"] * len(node_names):
                break
            time.sleep(0.5)
        else:
            pytest.skip(f"the Slurm nodes never became idle (sinfo: '{state}'): "
                        f"slurmctld: {_tail(d / 'slurmctld.log')}; slurmd: {_tail(d / f'slurmd.{node_names[0]}.log')}")
        env["RUN_SLURM_GRACE"] = "5"
        yield env
    finally:
        for pid_file in reversed(started):
            _stop(pid_file)
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def slurm_env() -> Iterator[Dict[str, str]]:
    """Environment (SLURM_CONF set) for talking to a fresh one-node cluster."""
    with _cluster(["localhost"]) as env:
        yield env


def _run(script: Path, *args: str, cwd: Path, env: Dict[str, str], timeout: int = 120):
    return subprocess.run([str(script), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _body(log: Path) -> list:
    """A log without the header/footer lines (times, hosts and job ids differ)."""
    return [line for line in log.read_text().splitlines() if not line.startswith("#")]


def test_array_job_matches_local_launcher(slurm_env, tmp_path):
    cmd = "echo hello JOB | tr a-z A-Z > out.JOB.txt; python3 -c 'print(JOB * 7)'; echo to-stderr-JOB >&2"
    outs = {}
    for name, script in (("local", RUN_LOCAL), ("slurm", RUN_SLURM)):
        wd = tmp_path / name
        wd.mkdir()
        r = _run(script, "--num_threads", "2", "--mem", "1G", "--time", "0:10:00", "--max_jobs_run", "2",
                 "JOB=2:4", "exp/log/t.JOB.log", cmd, cwd=wd, env=slurm_env)
        assert r.returncode == 0, r.stderr
        outs[name] = wd
    for i in (2, 3, 4):
        local, slurm = (outs[n] / f"out.{i}.txt" for n in ("local", "slurm"))
        assert slurm.read_text() == local.read_text() == f"HELLO {i}\n"
        llog, slog = (outs[n] / f"exp/log/t.{i}.log" for n in ("local", "slurm"))
        assert _body(slog) == _body(llog) == [str(i * 7), f"to-stderr-{i}"]
        text = slog.read_text()
        assert text.startswith(f"# echo hello {i} | tr")
        assert "threads=2" in text and "(code 0)" in text.splitlines()[-1]
        assert (outs["slurm"] / f"exp/log/t.{i}.log.done").read_text().strip() == "0"
    assert not (outs["slurm"] / "exp/log/t.1.log").exists()
    assert (outs["slurm"] / "exp/log/q/t.JOB.sh").is_file()


def test_options_reach_slurm(slurm_env, tmp_path):
    r = _run(RUN_SLURM, "--time", "0:07:00", "--num_threads", "2", "log/o.log",
             "scontrol show job $SLURM_JOB_ID", cwd=tmp_path, env=slurm_env)
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "log/o.log").read_text()
    assert "TimeLimit=00:07:00" in text
    assert "CPUs/Task=2" in text


def test_failed_tasks_are_named(slurm_env, tmp_path):
    r = _run(RUN_SLURM, "JOB=1:4", "log/f.JOB.log", "test $((JOB % 2)) -eq 0", cwd=tmp_path, env=slurm_env)
    assert r.returncode != 0
    assert "2/4 jobs failed, see: log/f.1.log log/f.3.log" in r.stderr
    assert "(code 1)" in (tmp_path / "log/f.3.log").read_text()
    assert (tmp_path / "log/f.3.log.done").read_text().strip() == "1"
    r = _run(RUN_SLURM, "--gpus", "1", "log/x.log", "true", cwd=tmp_path, env=slurm_env)
    assert r.returncode != 0 and "no rule for --gpus" in r.stderr


def test_interrupt_cancels_the_job(slurm_env, tmp_path):
    # SIGINT back to default in the child: a pytest started in the background (nohup ... &)
    # passes SIGINT on as ignored, and bash cannot trap a signal ignored on entry
    proc = subprocess.Popen([str(RUN_SLURM), "JOB=1:2", "log/s.JOB.log", "sleep", "120"], cwd=tmp_path,
                            env=slurm_env, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    job_id = ""
    for _ in range(60):
        time.sleep(0.5)
        r = subprocess.run(["squeue", "-h", "-n", "s", "-o", "%F %T"], capture_output=True, text=True, env=slurm_env)
        if "RUNNING" in r.stdout:
            job_id = r.stdout.split()[0]
            break
    assert job_id, "the job never started"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert f"cancelled Slurm job {job_id}" in err
    for _ in range(40):
        r = subprocess.run(["squeue", "-h", "-j", job_id], capture_output=True, text=True, env=slurm_env)
        if not r.stdout.strip():
            break
        time.sleep(0.5)
    assert not r.stdout.strip(), f"job {job_id} still queued: {r.stdout}"


def _dump_contents(recipe: Path, dset: str) -> Dict[str, bytes]:
    """utt_id -> bytes of its dumped audio (paths differ between the two recipes)."""
    out = {}
    for line in (recipe / "dump/raw/org" / dset / "wav.scp").read_text().splitlines():
        utt, path = line.split(maxsplit=1)
        p = Path(path)
        out[utt] = (p if p.is_absolute() else recipe / p).read_bytes()
    return out


@pytest.fixture(scope="module")
def stage3_recipes(slurm_env, tmp_path_factory) -> Dict[str, Path]:
    """Two scratch recipes whose dump/ was formatted by the Slurm and the local launcher."""
    tmp = tmp_path_factory.mktemp("recipes")
    slurm_recipe = make_slurm_recipe(tmp / "slurm", "l2en")
    local_recipe = make_slurm_recipe(tmp / "local", "l2en")
    env = dict(slurm_env, cmd_backend="slurm")
    r = subprocess.run(["./run.sh", "--stage", "1", "--stop_stage", "3", "--local_data_opts", MINI_OPTS],
                       cwd=slurm_recipe, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "submitted Slurm job" in r.stderr
    # The synthetic corpus is not byte-identical between runs, so the local run
    # formats the same stage-1 data (its wav.scp holds absolute paths).
    shutil.copytree(slurm_recipe / "data", local_recipe / "data")
    env = dict(slurm_env, cmd_backend="local")
    r = subprocess.run(["./run.sh", "--stage", "3", "--stop_stage", "3"],
                       cwd=local_recipe, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "submitted Slurm job" not in r.stderr
    return {"slurm": slurm_recipe, "local": local_recipe}


def test_recipe_stage3_through_slurm(stage3_recipes):
    slurm_recipe, local_recipe = stage3_recipes["slurm"], stage3_recipes["local"]
    assert (slurm_recipe / "dump/raw/org/train/logs/q/format.JOB.sh").is_file()
    assert not (local_recipe / "dump/raw/org/train/logs/q").exists()
    for dset in ("train", "dev", "test"):
        slurm_dump, local_dump = _dump_contents(slurm_recipe, dset), _dump_contents(local_recipe, dset)
        assert len(slurm_dump) == {"train": 8, "dev": 4, "test": 4}[dset]
        assert slurm_dump == local_dump, dset
        for name in ("text_surface", "text_meaning", "utt2num_samples", "utt2spk"):
            rel = Path("dump/raw/org") / dset / name
            assert (slurm_recipe / rel).read_text() == (local_recipe / rel).read_text(), rel


def _install_tiny_model(model_dir: Path, recipes: list) -> None:
    """An untrained tiny dual model as ``exp/asr_tiny`` of each recipe (no training needed)."""
    import yaml
    from tiny_dual_model import make_tiny_model  # imports torch: only when this test runs

    files = make_tiny_model(model_dir)
    config = yaml.safe_load(files["config"].read_text(encoding="utf-8"))
    config["frontend_conf"]["fs"] = 16000  # the recipe dumps 16 kHz audio (the helper's model: 8 kHz)
    for recipe in recipes:
        exp = recipe / "exp" / "asr_tiny"
        exp.mkdir(parents=True)
        (exp / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        shutil.copy2(files["model"], exp / "valid.loss.ave.pth")


def test_recipe_stage8_through_slurm(slurm_env, stage3_recipes, tmp_path):
    """Decoding (stage 8, decode_cmd) gives the same hypotheses and scores on Slurm as locally."""
    recipes = stage3_recipes
    _install_tiny_model(tmp_path / "tiny", list(recipes.values()))
    args = ["./run.sh", "--stage", "8", "--stop_stage", "8", "--tag", "asr_tiny", "--inference_nj", "2",
            "--beam_size", "2", "--ctc_weight", "0.3", "--maxlenratio", "0.3"]
    for backend, recipe in recipes.items():
        # Stage 4 (no launcher) writes dump/raw/test, the decoder's input.
        r = subprocess.run(["./run.sh", "--stage", "4", "--stop_stage", "4"], cwd=recipe,
                           env=dict(slurm_env, cmd_backend=backend), capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, f"{backend} stage 4: {r.stderr[-3000:]}"
        r = subprocess.run(args, cwd=recipe, env=dict(slurm_env, cmd_backend=backend),
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, f"{backend}: {r.stderr[-3000:]}"
        assert ("submitted Slurm job" in r.stderr) == (backend == "slurm"), r.stderr[-3000:]
    decode = Path("exp/asr_tiny/decode_beam2_ctc0.3/test")
    assert (recipes["slurm"] / decode / "logdir/q/decode.JOB.sh").is_file()
    for i in (1, 2):
        assert (recipes["slurm"] / decode / f"logdir/decode.{i}.log.done").read_text().strip() == "0"
    for o in ("surface", "meaning"):
        for name in ("text", "token", "score"):
            slurm_file, local_file = (recipes[b] / decode / o / name for b in ("slurm", "local"))
            slurm_bytes = slurm_file.read_bytes()
            assert len(slurm_bytes.splitlines()) == 4, slurm_file
            assert slurm_bytes == local_file.read_bytes(), f"{o}/{name} differs"


def test_espnet_launch_single_node_through_slurm(slurm_env, tmp_path):
    """Stage 7's call with cmd_backend=slurm, --ngpu 0 --num_nodes 1 (one CPU job)."""
    if importlib.util.find_spec("espnet2") is None:
        pytest.skip("espnet2 is not installed in this python")
    env = dict(slurm_env, PATH=f"{UTILS}:{slurm_env['PATH']}")
    conf = ROOT / "egs2" / "l2en" / "asr1" / "conf" / "slurm.conf"
    r = subprocess.run([sys.executable, "-m", "espnet2.bin.launch", "--cmd", f"slurm.pl --config {conf}",
                        "--log", "exp/logs/train.log", "--ngpu", "0", "--num_nodes", "1", "--",
                        "python3", "-c", "import sys; print('ARGS', sys.argv[1:])"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    log = (tmp_path / "exp/logs/train.log").read_text()
    assert "ARGS ['--ngpu', '0'" in log and "Slurm job" in log and "(code 0)" in log


def test_two_node_ddp_training_through_espnet_launch_and_srun(tmp_path):
    """Stage 7 with ``cmd_backend=slurm --num_nodes 2`` on a real two-node cluster (two slurmd here).

    ESPnet's launcher writes one ``sbatch --nodes 2 --ntasks-per-node 1`` job whose ``srun`` starts
    one training process per node (``--dist_launcher slurm``, gloo on CPU, ``file://`` init):
    the model trains as rank 0 of 2 and the recipe finishes.
    """
    if importlib.util.find_spec("espnet2") is None:
        pytest.skip("espnet2 is not installed in this python")
    recipe = make_slurm_recipe(tmp_path, "l2en")
    config = write_tiny_config(recipe)
    with _cluster(["n1", "n2"]) as env:
        common = ["--nj", "1", "--local_data_opts", MINI_OPTS, "--train_config", str(config)]
        r = subprocess.run(["./run.sh", "--stage", "1", "--stop_stage", "6", *common], cwd=recipe,
                           env=dict(env, cmd_backend="local"), capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr[-3000:]
        r = subprocess.run(["./run.sh", "--stage", "7", "--stop_stage", "7", "--num_nodes", "2", *common], cwd=recipe,
                           env=dict(env, cmd_backend="slurm"), capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr[-3000:]
    exp = recipe / "exp" / "asr_mtl_test"
    assert "--nodes 2 --ntasks-per-node 1" in (exp / "logs" / "q" / "train.sh").read_text()
    log = (exp / "logs" / "train.log").read_text()
    command = log.splitlines()[0]  # the job's command line, as the task ran it
    assert command.startswith("# srun --export=ALL ") and "--dist_launcher slurm" in command
    assert "--dist_backend gloo" in command and "--dist_init_method file://" in command
    assert ":0/2]" in log and "(code 0)" in log, log[-2000:]  # rank 0 of a world of 2
    assert (exp / "1epoch.pth").is_file()
