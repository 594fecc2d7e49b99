"""config_tasks: the outputs a training config trains, or one line naming the problem."""

from __future__ import annotations

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
