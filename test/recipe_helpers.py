"""Scratch recipe directories for tests that run ./run.sh (never the repo's own data/ exp/)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "egs2" / "TEMPLATE" / "asr1"
TEMPLATE_LINKS = ("l2dual.sh", "utils", "scripts", "pyscripts", "path.sh", "cmd.sh", "db.sh")


def make_recipe(tmp: Path, lang_dir: str) -> Path:
    """Copy a recipe's run.sh, conf/ and local/ under ``tmp``; symlink the TEMPLATE parts."""
    src = ROOT / "egs2" / lang_dir / "asr1"
    dst = tmp / "egs2" / lang_dir / "asr1"
    dst.mkdir(parents=True)
    shutil.copy2(src / "run.sh", dst / "run.sh")
    shutil.copytree(src / "conf", dst / "conf")
    shutil.copytree(src / "local", dst / "local", symlinks=True)
    for name in TEMPLATE_LINKS:
        (dst / name).symlink_to(TEMPLATE / name)
    return dst


def run_recipe(cmd: list, cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    """Run a recipe command in its own process group; on timeout kill the whole group.

    subprocess's own timeout only kills the direct child (run.sh), which would leave the
    trainer and decoders it started running after the test has failed.
    """
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(f"{' '.join(cmd)} timed out after {timeout} s\n{err[-3000:]}") from None
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)
