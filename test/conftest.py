"""Session fixtures shared by several test modules, and the order CI runs modules in (pytest loads this file itself)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import List

import pytest
from filelock import FileLock
from recipe_helpers import TINY_COMMON, make_recipe, run_recipe, write_tiny_config

from espnet_l2dual.utils import offline

offline.guard()  # the tests import the library directly, as a user's script would: no downloads

# Modules that take minutes (each a recipe run or more), longest first: with ``-n 2 --dist loadfile``
# (CI) a long module that starts last would finish alone on one core while the other idles.
LONG_MODULES = ("test_e2e_recipe.py", "test_rerun.py", "test_run_all.py", "test_slurm.py", "test_bad_inputs.py",
                "test_ddp.py", "test_faults.py", "test_ssl_recipe.py", "test_study_store.py", "test_l2dual_task.py")


def pytest_collection_modifyitems(config: pytest.Config, items: List[pytest.Item]) -> None:
    """Run the long modules first (a stable sort: the order inside a module is kept)."""
    rank = {name: i for i, name in enumerate(LONG_MODULES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture(scope="session")
def tiny_recipe(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An l2en scratch recipe through stages 1-11 on the tiny corpus and config (recipe_helpers.TINY_*).

    Built once per test run, also under pytest-xdist (the workers share it through a file lock);
    a test that changes it works on ``clone_recipe(tiny_recipe, tmp_path)``.
    """
    root = tmp_path_factory.getbasetemp()
    if hasattr(request.config, "workerinput"):  # an xdist worker: the run's directory is the parent
        root = root.parent
    recipe_root = root / "tiny_recipe"
    done = root / "tiny_recipe.done"
    with FileLock(str(root / "tiny_recipe.lock")):
        if not done.is_file():
            if recipe_root.exists():
                shutil.rmtree(recipe_root)  # a worker that failed to build it left it half done
            recipe = make_recipe(recipe_root, "l2en")
            write_tiny_config(recipe)
            proc = run_recipe(["./run.sh", *TINY_COMMON, "--stage", "1", "--stop_stage", "11"], cwd=recipe,
                              timeout=1800)
            assert proc.returncode == 0, proc.stderr[-4000:]
            done.touch()
    return recipe_root / "egs2" / "l2en" / "asr1"
