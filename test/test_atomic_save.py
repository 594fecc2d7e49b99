"""Checkpoints are whole or absent: a kill or a full disk during torch.save never tears one."""

from __future__ import annotations

import errno
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from espnet_l2dual.train.atomic_save import atomic_torch_save, checkpoint_problem, remove_stale_temps


def _save_killed_midway(target: Path, guarded: bool) -> int:
    """Save epoch 1, then a child process that dies by SIGKILL half-way through saving over it."""
    torch.save({"epoch": 1}, target)
    save = f"torch.save({{'w': torch.zeros(100000), 'x': Die()}}, {str(target)!r})"
    code = textwrap.dedent("""
        import os, signal, torch
        from espnet_l2dual.train.atomic_save import atomic_torch_save
        class Die:
            def __reduce__(self):
                os.kill(os.getpid(), signal.SIGKILL)
    """) + (f"with atomic_torch_save():\n    {save}\n" if guarded else save + "\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True).returncode


def test_a_kill_during_the_save_leaves_the_old_checkpoint(tmp_path: Path) -> None:
    target = tmp_path / "checkpoint.pth"
    assert _save_killed_midway(target, guarded=True) == -9
    assert torch.load(target) == {"epoch": 1}
    assert checkpoint_problem(target) is None
    assert remove_stale_temps(tmp_path) == 1 and [p.name for p in tmp_path.iterdir()] == ["checkpoint.pth"]


def test_without_the_guard_the_same_kill_tears_the_file(tmp_path: Path) -> None:
    """The failure the guard exists for (so the test above can fail)."""
    target = tmp_path / "checkpoint.pth"
    assert _save_killed_midway(target, guarded=False) == -9
    assert checkpoint_problem(target) is not None


def test_problems_are_named(tmp_path: Path) -> None:
    good = tmp_path / "good.pth"
    torch.save({"a": torch.ones(3)}, good)
    empty = tmp_path / "empty.pth"
    empty.write_bytes(b"")
    cut = tmp_path / "cut.pth"
    cut.write_bytes(good.read_bytes()[:200])
    assert checkpoint_problem(good) is None
    assert checkpoint_problem(empty) == "is empty (0 bytes)"
    assert "truncated" in checkpoint_problem(cut)
    assert "cannot be read" in checkpoint_problem(tmp_path / "missing.pth")


def test_full_disk_names_the_path(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "checkpoint.pth"

    def no_space(obj, f, *a, **k):
        raise RuntimeError("PytorchStreamWriter failed writing file data/0: file write failed")

    monkeypatch.setattr(torch, "save", no_space)
    with atomic_torch_save():
        with pytest.raises(OSError) as e:
            torch.save({"a": 1}, target)
    assert e.value.errno == errno.ENOSPC and str(target) in str(e.value)
    assert list(tmp_path.iterdir()) == []
    assert torch.save is no_space  # restored


def test_saves_to_a_stream_pass_through(tmp_path: Path) -> None:
    with atomic_torch_save(), open(tmp_path / "x.pth", "wb") as f:
        torch.save({"a": 1}, f)
    assert torch.load(tmp_path / "x.pth") == {"a": 1}
    assert (tmp_path / "x.pth").stat().st_mode & 0o644 == 0o644
