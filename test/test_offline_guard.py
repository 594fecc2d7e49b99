"""Run-time downloads are turned off by the command lines, not by importing the library."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "espnet_l2dual"


def _module_level_guard_calls(path: Path) -> bool:
    """Whether the module calls ``offline.guard()`` in its own body (i.e. on import)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            f = node.value.func
            if isinstance(f, ast.Attribute) and f.attr == "guard":
                return True
    return False


def test_only_the_command_line_package_guards_on_import() -> None:
    guarding = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if _module_level_guard_calls(p))
    assert guarding == ["bin/__init__.py"], guarding


def test_a_command_runs_offline_and_a_library_import_changes_nothing() -> None:
    """Checked in fresh interpreters: ``espnet_l2dual.bin`` sets the offline switches and silences
    nltk.download; importing a library module (here the atomic-write helpers) leaves both alone."""
    probe = ("import os, sys, nltk; import {mod}; "
             "print(os.environ.get('HF_HUB_OFFLINE'), os.environ.get('TRANSFORMERS_OFFLINE'), "
             "nltk.download.__module__)")
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    out = {}
    for mod in ("espnet_l2dual.bin", "espnet_l2dual.utils.fileio"):
        r = subprocess.run([sys.executable, "-c", probe.format(mod=mod)], capture_output=True, text=True,
                           env=env, timeout=120)
        assert r.returncode == 0, r.stderr[-2000:]
        out[mod] = r.stdout.split()
    assert out["espnet_l2dual.bin"] == ["1", "1", "espnet_l2dual.utils.offline"]
    assert out["espnet_l2dual.utils.fileio"][:2] == ["None", "None"]
    assert out["espnet_l2dual.utils.fileio"][2] != "espnet_l2dual.utils.offline"


def test_nltk_imported_after_a_command_starts_is_silenced_and_not_imported_before() -> None:
    """The guard costs a command nothing until something imports nltk (seconds of import time)."""
    probe = ("import sys; import espnet_l2dual.bin; before = 'nltk' in sys.modules; "
             "import nltk; print(before, nltk.download.__module__, nltk.download('punkt'))")
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split() == ["False", "espnet_l2dual.utils.offline", "False"]
