"""Stage 10's CKA as reported: frame alignment or refusal, and words that follow the intervals."""

from __future__ import annotations

import numpy as np
import pytest

from espnet_l2dual.analysis import cka_pairs
from espnet_l2dual.analysis.gradient_conflict import batch_interval
from espnet_l2dual.analysis.resample import speaker_blocked_weights
from espnet_l2dual.report.stage10 import comparison_sentence, gradient_sentence


def _rows(lengths, kept, seconds) -> cka_pairs.Rows:
    return cka_pairs.Rows(np.asarray(lengths, float), np.asarray(kept, float), "frame", np.asarray(seconds, float))


def _settings(n_utts: int) -> cka_pairs.Settings:
    return cka_pairs.Settings(speaker_blocked_weights([str(i) for i in range(n_utts)], 100, 0), 50, 0, "test")


def test_frames_at_different_rates_are_refused_in_one_line_naming_both_rates():
    a = _rows([50, 100], [10, 10], [2.0, 4.0])  # 25 frames/s
    b = _rows([25, 50], [10, 10], [2.0, 4.0])  # 12.5 frames/s: as many rows, other instants
    xs = [np.random.default_rng(0).standard_normal((20, 4))]
    rec, reps = cka_pairs.cka_pair(xs, xs, "A", "B", a, b, _settings(2))
    assert reps is None and "debiased" not in rec
    assert rec["skipped"] == "different frame rates: A 25.0 frames/s, B 12.5 frames/s; CKA needs frames aligned in time"
    assert "\n" not in rec["skipped"]


def test_tokens_of_different_tokenizers_are_refused():
    a = cka_pairs.Rows(np.array([5.0, 7.0]), np.array([5.0, 7.0]), "token")
    b = cka_pairs.Rows(np.array([9.0, 3.0]), np.array([9.0, 3.0]), "token")
    assert "different token sequences: A 12 tokens, B 12" in cka_pairs.alignment_problem(a, b, "A", "B")


def test_aligned_frames_get_estimates_null_and_intervals():
    rng = np.random.default_rng(1)
    n_utts, per = 12, 5
    x = rng.standard_normal((n_utts * per, 6))
    r = _rows([per] * n_utts, [per] * n_utts, [0.2] * n_utts)
    rec, reps = cka_pairs.cka_pair([x, x], [x, rng.standard_normal(x.shape)], "A", "B", r, r, _settings(n_utts))
    assert rec["debiased"]["diag"][0] == pytest.approx(1.0) and abs(rec["debiased"]["diag"][1]) < 0.3
    assert reps.shape == (2, 100) and rec["null"]["layer"] == 1 and rec["null"]["n_perm"] == 50
    assert np.allclose(rec["interval"]["ci95"][0], 1.0)


def _comparison(diff, ci_adjusted, name="encoder_last"):
    return {"name": name, "mtl": "asr_mtl", "diff": diff, "ci95": ci_adjusted, "ci_adjusted": ci_adjusted,
            "family_size": 3}


def test_a_gap_of_0_002_whose_interval_spans_0_is_not_resolved():
    s = comparison_sentence(_comparison(0.002, [-0.010, 0.014]), "asr_mtl")
    assert "not resolved" in s and "resembles STL-surface more" not in s
    s = comparison_sentence(_comparison(0.002, [0.001, 0.003]), "asr_mtl")
    assert "resembles STL-surface more than STL-meaning" in s
    s = comparison_sentence(_comparison(-0.05, [-0.08, -0.02]), "asr_mtl")
    assert "resembles STL-meaning more than STL-surface" in s
    # judged as printed (3 decimals): an end that prints as 0.000 does not exclude 0
    assert "not resolved" in comparison_sentence(_comparison(0.002, [0.0002, 0.004]), "asr_mtl")


def test_decoder_sentence_follows_the_interval():
    s = comparison_sentence(_comparison(0.024, [-0.01, 0.05], "decoder_mean"), "asr_mtl")
    assert "not resolved" in s and "departs more from its STL counterpart than" not in s
    s = comparison_sentence(_comparison(0.024, [0.01, 0.05], "decoder_mean"), "asr_mtl")
    assert "the meaning decoder departs more from its STL counterpart than the surface decoder" in s


def test_gradient_cosine_gets_words_only_with_an_interval():
    few = {"n_batches": 4, "batch_size": 8,
           "all": {"mean": -0.2, "ci95": None, "no_ci": "4 batches, an interval needs 10"},
           "layers": [{"layer": "block0", "mean": -0.3, "ci95": None}]}
    assert "no statement is made" in gradient_sentence("m", few) and "conflict" not in gradient_sentence("m", few)
    assert batch_interval([0.1] * 9, 0) is None
    ci = batch_interval(list(-0.2 + 0.01 * np.random.default_rng(0).standard_normal(12)), 0)
    assert ci[1] < 0
    many = {"n_batches": 12, "batch_size": 8, "all": {"mean": -0.2, "ci95": ci},
            "layers": [{"layer": "block0", "mean": -0.2, "ci95": ci}, {"layer": "block1", "mean": 0.0,
                                                                          "ci95": [-0.1, 0.1]}]}
    s = gradient_sentence("m", many)
    assert "below 0 (the tasks conflict) in block0." in s and "block1" not in s


def test_over_seeds_interval_holds_both_seed_and_utterance_variation():
    rng = np.random.default_rng(7)
    # three seeds whose differences sit at 0.01, 0.03, 0.05, each with a tight within-seed bootstrap
    reps = [p + 0.001 * rng.standard_normal(1000) for p in (0.01, 0.03, 0.05)]
    rec = cka_pairs.over_seeds([0.01, 0.03, 0.05], reps, 2000, 0, family_size=3)
    assert rec["mean"] == pytest.approx(0.03) and rec["n_seeds"] == 3
    lo, hi = rec["ci95"]
    assert lo < 0.02 and hi > 0.04  # wider than any one seed's interval: seeds vary
    assert rec["ci_adjusted"][0] <= lo and rec["ci_adjusted"][1] >= hi
    # one seed: its own bootstrap interval
    one = cka_pairs.over_seeds([0.03], [reps[1]], 2000, 0)
    assert one["ci95"][0] == pytest.approx(0.03, abs=0.003) and one["ci95"][1] - one["ci95"][0] < 0.01
    assert cka_pairs.over_seeds([None, None], [None, None], 100, 0)["ci95"] is None


def test_over_seeds_section_words_follow_the_interval():
    from espnet_l2dual.report.stage10 import _over_seeds

    row = {"mtl": "asr_mtl_tiny", "name": "encoder_last", "what": "last layer", "per_seed": [0.001, 0.003],
           "mean": 0.002, "ci95": [-0.004, 0.008], "ci_adjusted": [-0.006, 0.01], "family_size": 3}
    text = "\n".join(_over_seeds({"tiny": {"groups": ["tiny_seed1", "tiny_seed2"], "method": "m",
                                           "comparisons": [row]}}))
    assert "not resolved" in text and "resembles STL-surface more" not in text


def test_stage10_combines_the_seed_groups_of_one_size():
    from pathlib import Path

    from espnet_l2dual.analysis.exp_models import ModelInfo
    from espnet_l2dual.analysis.pipeline import cka_over_seeds

    def group(seed):
        return {"stl_surface": ModelInfo(f"asr_stl_surface_tiny_seed{seed}", Path("."), ["surface"], "tiny", seed)}

    rng = np.random.default_rng(0)
    kept = {f"tiny_seed{s}": {("asr_mtl_tiny", "encoder_last"): (d, d + 0.002 * rng.standard_normal(500), "w")}
            for s, d in ((1, 0.02), (2, 0.04))}
    groups = {"tiny_seed1": group(1), "tiny_seed2": group(2), "tiny": {"stl_surface": ModelInfo(
        "asr_stl_surface_tiny", Path("."), ["surface"], "tiny", None)}}
    out = cka_over_seeds(groups, kept, 500, 0)
    assert list(out) == ["tiny"] and out["tiny"]["groups"] == ["tiny_seed1", "tiny_seed2"]
    (row,) = out["tiny"]["comparisons"]
    assert row["mtl"] == "asr_mtl_tiny" and row["mean"] == pytest.approx(0.03) and row["per_seed"] == [0.02, 0.04]
    assert cka_over_seeds({"tiny_seed1": group(1)}, kept, 500, 0) == {}  # one seed: nothing to combine
