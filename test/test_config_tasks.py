"""config_tasks: the outputs a training config trains, or one line naming the problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from espnet_l2dual.bin.config_tasks import main


@pytest.mark.parametrize("text, out", [
    ("model_conf:\n  tasks: [meaning, surface]\n", "surface meaning"),
    ("model_conf:\n  tasks: surface\n", "surface"),
    ("encoder: conformer\n", "surface meaning"),
])
def test_tasks_in_canonical_order(tmp_path: Path, capsys, text: str, out: str) -> None:
    (tmp_path / "c.yaml").write_text(text)
    assert main([str(tmp_path / "c.yaml")]) == 0
    assert capsys.readouterr().out.strip() == out


@pytest.mark.parametrize("text, reason", [
    ("model_conf:\n  tasks: [surface, foo]\n", "unknown output 'foo'"),
    ("model_conf:\n  tasks: []\n", "model_conf.tasks is empty"),
    ("model_conf:\n  tasks: [surface, surface]\n", "duplicate output"),
    ("a: 1\nb: [2\nc: 3\n", "c.yaml:3: not valid YAML"),
    ("- just\n- a list\n", "a training config is a mapping"),
    ("model_conf: 3\n", "model_conf must be a mapping"),
])
def test_problems_are_one_line(tmp_path: Path, capsys, text: str, reason: str) -> None:
    (tmp_path / "c.yaml").write_text(text)
    assert main([str(tmp_path / "c.yaml")]) == 1
    err = capsys.readouterr().err
    assert reason in err and len(err.strip().splitlines()) == 1


def test_missing_file(tmp_path: Path, capsys) -> None:
    assert main([str(tmp_path / "none.yaml")]) == 1
    assert "cannot read the config" in capsys.readouterr().err


L2DUAL_SH = Path(__file__).resolve().parents[1] / "egs2" / "TEMPLATE" / "asr1" / "l2dual.sh"


def test_l2dual_sh_asks_python_not_the_shell(tmp_path: Path) -> None:
    """l2dual.sh's config_tasks is one call of bin.config_tasks (an earlier shell version split a
    scalar `tasks: surface` into letters): run that very definition on a scalar and on a list."""
    lines = L2DUAL_SH.read_text(encoding="utf-8").splitlines()
    defs = [line for line in lines if line.startswith("config_tasks()")]
    assert defs == ['config_tasks() { ${python} -m espnet_l2dual.bin.config_tasks "$1"; }']
    assert not [line for line in lines if "tasks:" in line and ("sed" in line or "awk" in line or "grep" in line)]
    (tmp_path / "scalar.yaml").write_text("model_conf:\n  tasks: surface\n")
    (tmp_path / "list.yaml").write_text("model_conf:\n  tasks: [meaning, surface]\n")
    script = f'{defs[0]}\nfor c in scalar list; do echo "[$(config_tasks {tmp_path}/$c.yaml)]"; done'
    out = subprocess.run(["bash", "-c", script], env={"python": sys.executable, "PATH": "/usr/bin:/bin",
                                                      "PYTHONPATH": str(L2DUAL_SH.parents[3])},
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["[surface]", "[surface", "meaning]"]
