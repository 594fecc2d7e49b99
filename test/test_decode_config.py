"""A recipe's conf/decode_asr.yaml (--inference_config): read, checked, and below the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from espnet_l2dual.errors import DataError
from espnet_l2dual.inference.decode_config import read
from recipe_helpers import ROOT, make_recipe, run_recipe


@pytest.mark.parametrize("lang", ["l2en", "l2ko"])
def test_the_recipe_files_keep_the_decode_dir_of_before(lang):
    """Same settings, same text: decode_beam5_ctc0.5 (and stage 8's record) stays found."""
    assert read(ROOT / "egs2" / lang / "asr1/conf/decode_asr.yaml") == {
        "beam_size": "5", "decode_ctc_weight": "0.5", "penalty": "0.0", "maxlenratio": "0.0",
        "inference_batch_size": "32"}


@pytest.mark.parametrize("text, line, reason", [
    ("beam_size: 5\nctc_weight: 0.5\n", 2, "'ctc_weight': use decode_ctc_weight"),
    ("beam_size: 5\nbeam: 3\n", 2, "unknown decoding option 'beam'"),
    ("decode_ctc_weight: 1.5\n", 1, "decode_ctc_weight must be in [0, 1], got 1.5"),
    ("beam_size: five\n", 1, "beam_size must be an integer, got 'five'"),
    ("batch_size: 0\n", 1, "batch_size must be >= 1, got 0"),
    ("penalty: '0.5'\n", 1, "penalty must be a number"),
    ("beam_size: [5\n", 2, "not valid YAML"),
    ("- beam_size\n", 1, "expected a mapping"),
])
def test_a_bad_entry_is_named_with_its_line(tmp_path, text, line, reason):
    path = tmp_path / "decode.yaml"
    path.write_text(text)
    with pytest.raises(DataError) as e:
        read(path)
    assert str(e.value).startswith(f"{path}:{line}: ") and reason in str(e.value)


def _help(recipe: Path, *args: str) -> str:
    proc = run_recipe(["./run.sh", *args, "--help"], cwd=recipe, timeout=120)
    assert proc.returncode == 0, proc.stderr[-1500:]
    return proc.stdout


def test_the_command_line_wins_over_the_file_and_the_file_over_the_defaults(tmp_path):
    recipe = make_recipe(tmp_path, "l2en")
    (recipe / "conf/decode_asr.yaml").write_text("beam_size: 4\ndecode_ctc_weight: 0.4\n")
    out = _help(recipe)
    assert "--inference_tag (decode_beam4_ctc0.4)" in out and "--penalty (0.0)" in out
    assert "--inference_batch_size (32:" in out  # not in the file: l2dual.sh's default
    out = _help(recipe, "--beam_size", "7", "--ctc_weight", "0.2")  # the alias of --decode_ctc_weight
    assert "--inference_tag (decode_beam7_ctc0.2)" in out and "--decode_ctc_weight (0.2)" in out
    out = _help(recipe, "--inference_config", "")  # no file: the defaults
    assert "--inference_tag (decode_beam5_ctc0.3)" in out


def test_a_bad_file_stops_the_run_before_any_stage(tmp_path):
    recipe = make_recipe(tmp_path, "l2en")
    (recipe / "conf/decode_asr.yaml").write_text("beam_size: 5\nctc_weight: 0.5\n")
    proc = run_recipe(["./run.sh", "--stage", "1", "--stop_stage", "1"], cwd=recipe, timeout=120)
    assert proc.returncode == 1
    assert "decode_config: error: conf/decode_asr.yaml:2: 'ctc_weight': use decode_ctc_weight" in proc.stderr
    proc = run_recipe(["./run.sh", "--inference_config", "conf/none.yaml"], cwd=recipe, timeout=120)
    assert proc.returncode == 1 and "--inference_config must be an existing YAML file" in proc.stderr
    proc = run_recipe(["./run.sh", "--ctc_weight", "0.2", "--decode_ctc_weight", "0.4"], cwd=recipe, timeout=120)
    assert proc.returncode == 1 and "--ctc_weight is an alias of --decode_ctc_weight" in proc.stderr
    assert not (recipe / "data").exists()
