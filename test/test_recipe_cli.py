"""Recipe shells: --help, unknown options, symlinks to TEMPLATE."""

import re
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


# what each recipe's run.sh gives l2dual.sh: its --help shows these, not l2dual.sh's own defaults
RECIPE_VALUES = {"l2ko": {"lang": "ko", "decode_ctc_weight": "0.5", "surface_token_type": "jamo", "meaning_token_type": "jamo"},
                 "l2en": {"lang": "en", "decode_ctc_weight": "0.5", "surface_token_type": "char", "meaning_token_type": "char"}}


@pytest.mark.parametrize("recipe", ["l2ko", "l2en"])
def test_run_sh_help_shows_the_recipe_values(recipe: str) -> None:
    out = subprocess.run(["./run.sh", "--help"], cwd=ROOT / "egs2" / recipe / "asr1", capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    usage = out.stdout.splitlines()[0]
    assert usage.startswith("Usage: ./run.sh ") and "l2dual.sh --lang" not in usage, usage
    for name, value in RECIPE_VALUES[recipe].items():
        assert f"--{name} ({value})" in out.stdout, name
    assert "--tag (asr_mtl_tiny)" in out.stdout and "--inference_tag (decode_beam5_ctc0.5)" in out.stdout
    assert "--train_config (conf/tuning/train_mtl_tiny.yaml)" in out.stdout
    # an option the user gives before --help is shown too
    out = subprocess.run(["./run.sh", "--beam_size", "7", "--help"], cwd=ROOT / "egs2" / recipe / "asr1",
                         capture_output=True, text=True)
    assert "--beam_size (7)" in out.stdout and "--inference_tag (decode_beam7_ctc0.5)" in out.stdout


@pytest.mark.parametrize("recipe", ["l2ko", "l2en"])
def test_l2dual_sh_help_alone_shows_its_own_defaults(recipe: str) -> None:
    out = subprocess.run(["./l2dual.sh", "--help"], cwd=ROOT / "egs2" / recipe / "asr1", capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0].startswith("Usage: ./l2dual.sh --lang ko|en --train_config ")
    assert "--decode_ctc_weight (0.3)" in out.stdout and "--lang (required: ko|en)" in out.stdout
    assert "--inference_config (none" in out.stdout
    assert "--surface_token_type (by --lang: ko jamo, en char)" in out.stdout


@pytest.mark.parametrize("script", ["./run.sh", "./l2dual.sh"])
def test_help_points_only_at_files_that_exist(script: str) -> None:
    out = subprocess.run([script, "--help"], cwd=ROOT / "egs2" / "l2en" / "asr1", capture_output=True, text=True)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in re.findall(r"\b([\w./-]+\.md)\b", out.stdout):
        assert (ROOT / name).is_file(), f"--help points at {name}, which is not in the repository"
    for section in re.findall(r'"([^"]+)"', out.stdout.split("Options")[0]):
        assert f"## {section}" in readme, f"--help names README section '{section}', which does not exist"


def test_a_bad_option_names_the_script_the_user_ran() -> None:
    out = subprocess.run(["./run.sh", "--ctc_weight", "1.5", "--stage", "1", "--stop_stage", "1"],
                         cwd=ROOT / "egs2" / "l2en" / "asr1", capture_output=True, text=True)
    assert out.returncode == 1
    assert "--ctc_weight must be in [0, 1], got '1.5' (./run.sh --help lists the options)" in out.stderr


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


def test_the_stage_engine_names_the_outputs_of_outputs_py():
    from espnet_l2dual.outputs import OUTPUTS

    engine = (ROOT / "egs2/TEMPLATE/asr1/l2dual.sh").read_text(encoding="utf-8")
    assert re.search(r'^outputs="([^"]*)"', engine, re.M).group(1).split() == list(OUTPUTS)


def test_run_all_help_lists_every_size_and_exits_zero():
    out = subprocess.run(["./run_all.sh", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and not out.stderr.strip(), out.stderr
    assert "wavlm" in out.stdout and "--report_dir" in out.stdout
