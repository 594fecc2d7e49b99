"""Stage 10's error following on hand-made decodes of a tiny twin set, its REPORT.md table, and the
recipe's choice of the sets it decodes (the twin set only where stage 1 made it)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from espnet_l2dual.analysis.exp_models import ModelInfo
from espnet_l2dual.analysis.twin_following import NO_TWIN_SET, error_following
from espnet_l2dual.report.stage10 import FOLLOWING_TITLE, _error_following, following_sentence

ROOT = Path(__file__).resolve().parents[1]
INFER = "decode_beam5_ctc0.3"
CANONICAL = "I COME FROM THIS PLACE"
ERRORS = [("f_to_p", 2, "FROM", "PROM"), ("th_stopping", 3, "THIS", "DIS")]


def _write(path: Path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{k} {v}\n" for k, v in rows), encoding="utf-8")


def make_twin_set(root: Path, n_speakers: int = 4) -> dict:
    """dump/raw/eval_twins: per speaker one original with both errors, its canonical and two single-error twins."""
    d = root / "dump" / "raw" / "eval_twins"
    twins, surface, spk = [], [], []
    for i in range(n_speakers):
        orig = f"s{i}-u1"
        rows = [(orig, "original", "I COME PROM DIS PLACE"), (f"{orig}-c", "canonical", CANONICAL)]
        for n, (kind, word, canon, surf) in enumerate(ERRORS, start=1):
            words = CANONICAL.split()
            words[word] = surf
            rows.append((f"{orig}-e{n:02d}", f"{kind}@{word}:{canon}>{surf}", " ".join(words)))
        for utt, what, text in rows:
            twins.append((utt, f"{orig} {what}"))
            surface.append((utt, text))
            spk.append((utt, f"s{i}"))
    _write(d / "utt2twin", twins)
    _write(d / "text_surface", surface)
    _write(d / "text_canonical", [(u, CANONICAL) for u, _ in surface])
    _write(d / "utt2spk", spk)
    return dict(surface)


def make_model(root: Path, tag: str, tasks, hyps=None) -> ModelInfo:
    d = root / "exp" / tag
    if hyps is not None:
        _write(d / INFER / "eval_twins" / "surface" / "text", sorted(hyps.items()))
    return ModelInfo(tag, d, tasks, "tiny")


@pytest.fixture
def twin_recipe(tmp_path):
    """An STL-surface model that copies what was said, an MTL model that always writes the canonical form."""
    surface = make_twin_set(tmp_path)
    group = {"stl_surface": make_model(tmp_path, "asr_stl_surface_tiny", ["surface"], surface),
             "stl_meaning": make_model(tmp_path, "asr_stl_meaning_tiny", ["meaning"]),
             "mtl": [make_model(tmp_path, "asr_mtl_tiny", ["surface", "meaning"], {u: CANONICAL for u in surface})]}
    return tmp_path, group


def _analyse(root: Path, group: dict, twin_set="eval_twins") -> dict:
    return error_following(group, root / "dump" / "raw", twin_set, INFER, n_resamples=300, seed=0)


def test_copying_follows_and_canonical_normalises_with_a_paired_difference_of_one(twin_recipe):
    root, group = twin_recipe
    ef = _analyse(root, group)
    assert (ef["n_errors"], ef["n_originals"], ef["n_speakers"]) == (8, 4, 4)
    assert list(ef["models"]) == ["asr_stl_surface_tiny", "asr_mtl_tiny"]  # the models with a surface output
    stl, mtl = ef["models"]["asr_stl_surface_tiny"], ef["models"]["asr_mtl_tiny"]
    assert stl["kind"] == "stl_surface" and mtl["kind"] == "mtl"
    assert [stl["overall"][o]["rate"] for o in ("follows", "normalises", "other")] == [1, 0, 0]
    assert [mtl["overall"][o]["rate"] for o in ("follows", "normalises", "other")] == [0, 1, 0]
    assert mtl["overall"]["normalises"]["ci95"] == [1, 1] and mtl["overall"]["normalises"]["n_speakers"] == 4
    assert mtl["overall"]["normalises"]["unit"] == "speakers"
    assert sorted(mtl["by_error_kind"]) == ["f_to_p", "th_stopping"]
    assert mtl["by_error_kind"]["f_to_p"]["n_errors"] == 4 and mtl["by_error_kind"]["f_to_p"]["normalises"]["rate"] == 1
    (d,) = ef["normalisation_difference"]
    assert (d["mtl"], d["stl_surface"], d["diff"], d["ci95"], d["ci_adj"]) == (
        "asr_mtl_tiny", "asr_stl_surface_tiny", 1, [1, 1], [1, 1])
    assert d["n_spk"] == 4 and d["n_utt"] == 4 and d["p"] < 0.05 and "speakers, then" in d["unit"]
    assert "interval_at" not in d


def test_the_difference_is_paired_resampled_once_for_both_models(twin_recipe):
    """Half the speakers normalised by both models, the MTL model one more error per utterance:
    the difference is the same in every replicate although each model's rate varies."""
    root, group = twin_recipe
    surface = make_twin_set(root, n_speakers=8)

    def hyps(extra):
        out = dict(surface)
        for i in range(8):
            for n in range(1, 3):
                if n <= (1 if i < 4 else 0) + extra:
                    out[f"s{i}-u1-e{n:02d}"] = CANONICAL
        return out

    group["stl_surface"] = make_model(root, "asr_stl_surface_tiny", ["surface"], hyps(0))
    group["mtl"] = [make_model(root, "asr_mtl_tiny", ["surface", "meaning"], hyps(1))]
    ef = _analyse(root, group)
    lo, hi = ef["models"]["asr_mtl_tiny"]["overall"]["normalises"]["ci95"]
    assert lo < hi
    (d,) = ef["normalisation_difference"]
    assert d["diff"] == 0.5 and d["ci95"] == [0.5, 0.5]


def test_without_a_twin_set_or_its_decode_the_block_is_skipped_with_the_reason(twin_recipe):
    root, group = twin_recipe
    assert _analyse(root, group, twin_set=None) == {"skipped": NO_TWIN_SET}
    assert "--twins true" in NO_TWIN_SET
    assert "not found" in _analyse(root, group, twin_set="test_twins")["skipped"]
    (root / "exp" / "asr_mtl_tiny" / INFER / "eval_twins" / "surface" / "text").unlink()
    reason = _analyse(root, group)["skipped"]
    assert "asr_mtl_tiny" in reason and "asr_stl_surface_tiny" not in reason and "stages 8-9" in reason


def test_a_twin_without_a_hypothesis_is_refused_naming_the_file(twin_recipe):
    from espnet_l2dual.errors import DataError

    root, group = twin_recipe
    path = root / "exp" / "asr_mtl_tiny" / INFER / "eval_twins" / "surface" / "text"
    path.write_text("".join(line + "\n" for line in path.read_text().splitlines() if "s2-u1-e01" not in line))
    with pytest.raises(DataError, match="no surface hypothesis for twin 's2-u1-e01'") as e:
        _analyse(root, group)
    assert str(path) in str(e.value)


def test_report_table_has_rates_and_the_worded_difference(twin_recipe):
    root, group = twin_recipe
    text = "\n".join(_error_following({"error_following": _analyse(root, group)}))
    assert FOLLOWING_TITLE in text
    assert "(unit: speakers, then utterances; percentile bootstrap)" in text
    assert "|asr_stl_surface_tiny|8|1.00 [1.00, 1.00]|0.00 [0.00, 0.00]|0.00 [0.00, 0.00]|" in text
    assert "|asr_mtl_tiny|8|0.00 [0.00, 0.00]|1.00 [1.00, 1.00]|0.00 [0.00, 0.00]|" in text
    assert "|asr_mtl_tiny|+1.00|[+1.00, +1.00]|[+1.00, +1.00] (95.0%)|" in text
    assert "asr_mtl_tiny normalises learner errors more often than asr_stl_surface_tiny" in text
    assert "not resolved" not in text


def test_a_difference_whose_interval_spans_zero_is_not_resolved():
    d = {"mtl": "asr_mtl_tiny", "stl_surface": "asr_stl_surface_tiny", "diff": 0.04, "ci95": [-0.02, 0.1],
         "ci_adj": [-0.03, 0.11], "level_adj": 0.95}
    s = following_sentence(d)
    assert "not resolved" in s and "more often than asr" in s and " more often than asr_stl_surface_tiny (" not in s
    assert "not resolved" in following_sentence({**d, "ci95": None, "ci_adj": None, "no_ci": "too few"})


def test_a_small_rate_difference_that_excludes_zero_is_resolved():
    """Rates are judged in percentage points: [+0.004, +0.048] excludes 0 (2 decimals of a rate would not)."""
    d = {"mtl": "asr_twin_subspace_tiny", "stl_surface": "asr_stl_surface_tiny", "diff": 0.025,
         "ci95": [0.006, 0.045], "ci_adj": [0.004, 0.048], "level_adj": 0.975}
    s = following_sentence(d)
    assert s.startswith("asr_twin_subspace_tiny normalises learner errors more often than asr_stl_surface_tiny")
    assert "+2.50 percentage points, Holm-adjusted 97.5% CI [+0.40, +4.80]" in s


def test_report_says_skipped_and_an_old_analysis_has_no_section():
    text = "\n".join(_error_following({"error_following": {"skipped": NO_TWIN_SET}}))
    assert FOLLOWING_TITLE in text and "Skipped: no twin set" in text
    assert _error_following({}) == []


# ------------------------------------------------------------------ the recipe's set selection


def _scratch_recipe(tmp_path: Path) -> Path:
    """A recipe dir whose files link to egs2/l2en/asr1's (its own data/ is empty)."""
    d = tmp_path / "asr1"
    d.mkdir()
    for f in (ROOT / "egs2" / "l2en" / "asr1").iterdir():
        (d / f.name).symlink_to(f.resolve() if f.is_symlink() else f)
    return d


def _decoded(recipe: Path, *opts: str) -> str:
    out = subprocess.run(["./run.sh", *opts, "--help"], cwd=recipe, capture_output=True, text=True,
                         env={**os.environ, "L2DUAL_CALLER": "./run.sh"}, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.split("decoded and scored here: ", 1)[1].split(")", 1)[0]


def test_the_twin_set_is_decoded_only_where_stage_1_made_it(tmp_path):
    recipe = _scratch_recipe(tmp_path)
    assert _decoded(recipe) == "test eval"
    (recipe / "data" / "eval_twins").mkdir(parents=True)
    assert _decoded(recipe) == "test eval"  # a dir without utt2twin is no twin set
    (recipe / "data" / "eval_twins" / "utt2twin").write_text("s1-u1 s1-u1 original\n")
    assert _decoded(recipe) == "test eval eval_twins"
    assert _decoded(recipe, "--test_sets", "test") == "test"  # the twins of the report set only
    assert _decoded(recipe, "--test_sets", "eval eval_twins") == "eval eval_twins"  # never twice
