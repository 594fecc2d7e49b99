"""utils/parse_options.sh: options set the caller's variables, typos fail loudly."""

import subprocess
from pathlib import Path

import pytest

UTILS = Path(__file__).resolve().parents[1] / "egs2" / "TEMPLATE" / "asr1" / "utils"

SCRIPT = """#!/usr/bin/env bash
set -euo pipefail
stage=1
stop_stage=100
foo_bar=default
use_lm=false
help_message="Usage: demo.sh [--stage N] [--stop_stage N] [--foo_bar X] <dir>"
. {utils}/parse_options.sh
echo "stage=$stage stop_stage=$stop_stage foo_bar=$foo_bar use_lm=$use_lm"
echo "args=$#"
for a in "$@"; do echo "arg=$a"; done
"""


@pytest.fixture
def demo(tmp_path):
    script = tmp_path / "demo.sh"
    script.write_text(SCRIPT.format(utils=UTILS))
    script.chmod(0o755)

    def run(*args):
        return subprocess.run([str(script), *args], capture_output=True, text=True, timeout=20)

    return run


def test_defaults_untouched(demo):
    r = demo()
    assert r.returncode == 0, r.stderr
    assert "stage=1 stop_stage=100 foo_bar=default use_lm=false" in r.stdout
    assert "args=0" in r.stdout


def test_stage_and_stop_stage(demo):
    r = demo("--stage", "3", "--stop_stage", "5")
    assert r.returncode == 0, r.stderr
    assert "stage=3 stop_stage=5" in r.stdout


def test_dash_and_equals_forms(demo):
    r = demo("--foo-bar", "x y", "--stop-stage=7")
    assert r.returncode == 0, r.stderr
    assert "stop_stage=7 foo_bar=x y" in r.stdout
    r = demo("--foo_bar=a=b")
    assert "foo_bar=a=b" in r.stdout


def test_positional_args_remain(demo):
    r = demo("--stage", "2", "data/train", "two words", "--stage", "9")
    assert r.returncode == 0, r.stderr
    assert "stage=2 " in r.stdout
    assert r.stdout.splitlines()[1:] == ["args=4", "arg=data/train", "arg=two words", "arg=--stage", "arg=9"]


def test_boolean(demo):
    assert "use_lm=true" in demo("--use_lm", "true").stdout
    r = demo("--use_lm", "yes")
    assert r.returncode == 1
    assert "--use_lm" in r.stderr and "true or false" in r.stderr


def test_unknown_option_is_named(demo):
    r = demo("--stagee", "3")
    assert r.returncode == 1
    assert "unknown option --stagee" in r.stderr
    assert r.stdout == ""


def test_help(demo):
    for flag in ("--help", "-h"):
        r = demo("--stage", "2", flag)
        assert r.returncode == 0
        assert r.stdout.strip() == "Usage: demo.sh [--stage N] [--stop_stage N] [--foo_bar X] <dir>"


def test_missing_value_names_option(demo):
    r = demo("--stage", "2", "--stop_stage")
    assert r.returncode == 1
    assert "--stop_stage" in r.stderr and "needs a value" in r.stderr


def test_no_leftover_variables(tmp_path):
    script = tmp_path / "leak.sh"
    script.write_text(
        f"#!/usr/bin/env bash\nset -euo pipefail\nstage=1\n. {UTILS}/parse_options.sh\n"
        'compgen -v | grep "^_po_" || echo clean\n'
    )
    script.chmod(0o755)
    r = subprocess.run([str(script), "--stage", "4"], capture_output=True, text=True, timeout=20)
    assert r.stdout.strip() == "clean"
