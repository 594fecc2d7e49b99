"""One interpreter, ${python} of tools/python.sh, for every shell script: no script may depend
on which `python3` comes first on PATH or on an activated venv."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Dict, List

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "egs2" / "TEMPLATE" / "asr1"
HAS_VENV = (ROOT / "tools" / "venv" / "bin" / "python").is_file()

# `python3 -m x`, `$(python ...`, `exec python ...`, `| python ...`, `${PYTHON:-python3}`: any way of
# running an interpreter other than "${python}" (help texts such as "Details: python -m x" are not runs)
OTHER_INTERPRETER = re.compile(
    r"\$\{?PYTHON\b"  # the old ${PYTHON:-python3}
    r"|(^|[;&|(`]|\bexec|\bthen|\bdo|\$\()\s*(\w+=\S*\s+)*\"?python3?\"?(\s|$)")  # python(3) as the command


def shell_scripts() -> List[Path]:
    """Every shell script of the checkout (git-tracked or new; symlinks skipped: they point at one of these)."""
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    out = []
    for name in files:
        path = ROOT / name
        if path.is_symlink() or not path.is_file():
            continue
        if name.endswith(".sh") or name == ".ci/run" or path.read_bytes()[:40].startswith(b"#!/usr/bin/env bash"):
            out.append(path)
    return out


def test_the_scan_finds_the_scripts() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in shell_scripts()}
    for name in ("run_all.sh", "test/run.sh", "tools/install.sh", "tools/python.sh", "egs2/TEMPLATE/asr1/l2dual.sh",
                 "egs2/TEMPLATE/asr1/scripts/mini_data.sh", "egs2/TEMPLATE/asr1/utils/split_scp.sh",
                 "egs2/l2en/asr1/run.sh", "egs2/l2ko/asr1/local/data.sh"):
        assert name in names


@pytest.mark.parametrize("script", shell_scripts(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_scripts_run_python_only_as_dollar_python(script: Path) -> None:
    if script.name == "python.sh":  # the one place that chooses it
        return
    bad = [f"{script.relative_to(ROOT)}:{no}: {line.strip()}"
           for no, line in enumerate(script.read_text(encoding="utf-8").splitlines(), 1)
           if not line.lstrip().startswith("#") and OTHER_INTERPRETER.search(line)]
    assert not bad, "use \"${python}\" (tools/python.sh):\n" + "\n".join(bad)


def test_the_pattern_catches_the_old_ways() -> None:
    for line in ('python3 -m espnet_l2dual.bin.make_mini_corpus --lang x', 'exec "${PYTHON:-python3}" -m x',
                 'x=$(python3 -m y)', 'exec python -m pytest "$@"', '    PYTHONPATH=a python3 -m x'):
        assert OTHER_INTERPRETER.search(line), line
    for line in ('"${python}" -m x', '${python} -m x', '  Details: python -m espnet_l2dual.bin.x --help"',
                 'base_python=python3.11'):
        assert not OTHER_INTERPRETER.search(line), line


# ---------------------------------------------------------------- tools/python.sh itself


def _choose(tools: Path, env: Dict[str, str]) -> str:
    script = f'. "{tools}/python.sh"; echo "${{python}}"; echo "${{PYTHONPATH}}"'
    return subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, check=True).stdout


def test_python_sh_prefers_the_venv_then_python3_and_a_value_set_before(tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    shutil.copy2(ROOT / "tools" / "python.sh", tools / "python.sh")
    env = {"PATH": "/usr/bin:/bin"}
    python, pythonpath = _choose(tools, env).splitlines()
    assert (python, pythonpath) == ("python3", str(tmp_path))  # no venv: ESPnet's python=python3
    venv_python = tools / "venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    venv_python.write_text("#!/bin/sh\n")
    venv_python.chmod(0o755)
    assert _choose(tools, env).splitlines()[0] == str(venv_python)
    assert _choose(tools, dict(env, python="/opt/py/bin/python")).splitlines()[0] == "/opt/py/bin/python"
    # sourced twice (path.sh, then a script): the checkout is on PYTHONPATH once, first
    assert _choose(tools, dict(env, PYTHONPATH=f"{tmp_path}:/x")).splitlines()[1] == f"{tmp_path}:/x"
    assert _choose(tools, dict(env, PYTHONPATH="/x")).splitlines()[1] == f"{tmp_path}:/x"


def test_python_sh_selects_the_stack_venv_with_l2dual_espnet(tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    shutil.copy2(ROOT / "tools" / "python.sh", tools / "python.sh")
    env = {"PATH": "/usr/bin:/bin", "L2DUAL_ESPNET": "202611"}
    r = subprocess.run(["bash", "-c", f'set -e; . "{tools}/python.sh"; echo "reached"'], env=env,
                       capture_output=True, text=True)
    assert r.returncode != 0 and "reached" not in r.stdout  # never another stack's python silently
    assert "run tools/install.sh --espnet 202611" in r.stderr
    for venv in ("venv", "venv-espnet202611"):
        python = tools / venv / "bin" / "python"
        python.parent.mkdir(parents=True)
        python.write_text("#!/bin/sh\n")
        python.chmod(0o755)
    assert _choose(tools, env).splitlines()[0] == str(tools / "venv-espnet202611" / "bin" / "python")
    assert _choose(tools, dict(env, L2DUAL_ESPNET="202511")).splitlines()[0] == str(tools / "venv" / "bin" / "python")


# ---------------------------------------------------------------- scripts with a broken python3 first on PATH


@pytest.fixture
def broken_python3_env(tmp_path: Path) -> Dict[str, str]:
    """PATH starts with a `python3` and a `python` that fail; no venv activated, no ${python} set."""
    fake = tmp_path / "fakebin"
    fake.mkdir()
    for name in ("python3", "python"):
        (fake / name).write_text("#!/bin/sh\necho \"the wrong python ($0) was run\" >&2\nexit 1\n")
        (fake / name).chmod(0o755)
    path = [p for p in os.environ["PATH"].split(os.pathsep) if "venv" not in p]
    env = {k: v for k, v in os.environ.items()
           if k not in ("python", "PYTHON", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = os.pathsep.join([str(fake), *path])
    return env


@pytest.mark.skipif(not HAS_VENV, reason="needs tools/venv")
def test_utils_run_with_a_broken_python3_first_on_path(tmp_path: Path, broken_python3_env) -> None:
    (tmp_path / "wav.scp").write_text("a x.wav\nb y.wav\nc z.wav\n")
    r = subprocess.run([str(TEMPLATE / "utils" / "split_scp.sh"), "wav.scp", "p.1", "p.2"], cwd=tmp_path,
                       env=broken_python3_env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "p.1").read_text() + (tmp_path / "p.2").read_text() == "a x.wav\nb y.wav\nc z.wav\n"
    for name in ("validate_data_dir.sh", "filter_scp.sh", "utt2spk_to_spk2utt.sh", "spk2utt_to_utt2spk.sh"):
        r = subprocess.run([str(TEMPLATE / "utils" / name), "--help"], cwd=tmp_path, env=broken_python3_env,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and "wrong python" not in r.stderr, (name, r.stderr)


@pytest.mark.skipif(not HAS_VENV, reason="needs tools/venv")
def test_run_slurm_maps_its_options_with_a_broken_python3_first_on_path(tmp_path: Path, broken_python3_env) -> None:
    fake = Path(broken_python3_env["PATH"].split(os.pathsep)[0])
    (fake / "sbatch").write_text('#!/usr/bin/env bash\nSLURM_JOB_ID=7 SLURM_ARRAY_TASK_ID=1 bash "${@: -1}"\n'
                                 'echo "7;cluster"\n')
    (fake / "squeue").write_text("#!/usr/bin/env bash\nexit 0\n")
    for name in ("sbatch", "squeue"):
        (fake / name).chmod(0o755)
    env = dict(broken_python3_env, RUN_SLURM_GRACE="0")
    r = subprocess.run([str(TEMPLATE / "utils" / "run_slurm.sh"), "--mem", "2G", "JOB=1:1", "log/x.JOB.log",
                        "echo", "task", "JOB"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "task 1" in (tmp_path / "log" / "x.1.log").read_text()


@pytest.mark.skipif(not (HAS_VENV and shutil.which("espeak-ng") and shutil.which("sox")),
                    reason="needs tools/venv, espeak-ng and sox")
def test_mini_data_sh_with_a_broken_python3_first_on_path(tmp_path: Path, broken_python3_env) -> None:
    r = subprocess.run(["scripts/mini_data.sh", "--lang", "en", "--corpus_dir", str(tmp_path / "mini"),
                        "--data_dir", str(tmp_path / "data"), "--nj", "1",
                        "--num_train", "1", "--num_dev", "1", "--num_test", "1",
                        "--eval_speakers", "1", "--eval_utts_per_speaker", "1"],
                       cwd=ROOT / "egs2" / "l2en" / "asr1", env=broken_python3_env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert "wrong python" not in r.stderr
    assert (tmp_path / "data" / "train" / "wav.scp").is_file()
