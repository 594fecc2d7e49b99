"""Session fixtures shared by several test modules (pytest loads this file itself)."""

from __future__ import annotations

from pathlib import Path

import pytest
from recipe_helpers import TINY_COMMON, make_recipe, run_recipe, write_tiny_config

from espnet_l2dual.utils import offline

offline.guard()  # the tests import the library directly, as a user's script would: no downloads


@pytest.fixture(scope="session")
def tiny_recipe(tmp_path_factory) -> Path:
    """An l2en scratch recipe through stages 1-11 on the tiny corpus and config (recipe_helpers.TINY_*).

    Built once per session; a test that changes it works on ``clone_recipe(tiny_recipe, tmp_path)``.
    """
    recipe = make_recipe(tmp_path_factory.mktemp("tiny_recipe"), "l2en")
    write_tiny_config(recipe)
    proc = run_recipe(["./run.sh", *TINY_COMMON, "--stage", "1", "--stop_stage", "11"], cwd=recipe, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return recipe
