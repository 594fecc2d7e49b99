"""Recipe shells: --help, unknown options, symlinks to TEMPLATE."""

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("recipe", ["l2ko", "l2en"])
def test_run_sh_help_lists_options(recipe: str) -> None:
    out = subprocess.run(["./run.sh", "--help"], cwd=ROOT / "egs2" / recipe / "asr1",
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    for opt in ("--stage", "--stop_stage", "--nj", "--ngpu", "--train_config", "--speed_perturb_factors"):
        assert opt in out.stdout


@pytest.mark.parametrize("recipe", ["l2ko", "l2en"])
def test_run_sh_unknown_option_fails_naming_it(recipe: str) -> None:
    out = subprocess.run(["./run.sh", "--no_such_option", "1"], cwd=ROOT / "egs2" / recipe / "asr1",
                         capture_output=True, text=True)
    assert out.returncode != 0
    assert "unknown option --no_such_option" in out.stderr


@pytest.mark.parametrize("recipe", ["l2ko", "l2en"])
def test_recipe_links_template(recipe: str) -> None:
    d = ROOT / "egs2" / recipe / "asr1"
    for name in ("l2dual.sh", "utils", "scripts", "pyscripts", "path.sh", "cmd.sh", "db.sh"):
        assert (d / name).is_symlink(), name
        assert (d / name).resolve().parent == (ROOT / "egs2" / "TEMPLATE" / "asr1").resolve()


def test_install_is_idempotent_and_fast() -> None:
    """A second tools/install.sh run only checks its stamp (the venv exists in tests)."""
    out = subprocess.run(["bash", str(ROOT / "tools" / "install.sh")], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "nothing to do" in out.stderr
