"""The grid's trend: the slope of MTL−STL on divergence, with known answers."""

from __future__ import annotations

from typing import Dict, Tuple

import pytest

from espnet_l2dual.report.grid import trend_lines
from espnet_l2dual.scoring.multiplicity import families
from espnet_l2dual.study.grid_trend import LevelPoint, divergence_trend, trend_record

SPEAKERS, UTTS, LENGTH = 10, 6, 10


def _errors(extra: Dict[int, int], base: int = 1) -> Dict[str, Tuple[int, int]]:
    """``base`` errors per utterance plus ``extra[speaker]`` (ids as sclite's: speaker-utterance)."""
    return {f"s{k:02d}-u{j}": (base + extra.get(k, 0), LENGTH) for k in range(SPEAKERS) for j in range(UTTS)}


def _level(divergence: float, per_seed_extra: Tuple[int, ...]) -> LevelPoint:
    """MTL has ``e`` extra errors per utterance of every speaker over STL (seed s: e = per_seed_extra[s])."""
    mtl = [_errors({k: e for k in range(SPEAKERS)}) for e in per_seed_extra]
    stl = [_errors({}) for _ in per_seed_extra]
    return LevelPoint(divergence, mtl, stl)


def test_a_penalty_that_grows_with_divergence_has_its_slope_and_a_positive_interval() -> None:
    # MTL−STL per training: 0/10 points at divergence 0, 10/20 at 0.1, 20/30 at 0.2 (two seeds)
    pts = [_level(0.0, (0, 1)), _level(0.1, (1, 2)), _level(0.2, (2, 3))]
    d = divergence_trend(pts, n_resamples=999)
    assert d["slope"] == pytest.approx(100.0)  # 10 points per 0.1 of divergence
    assert d["n_trainings"] == 6 and d["n_levels"] == 3 and d["n_utt"] == SPEAKERS * UTTS
    assert d["lo"] > 0 and d["lo"] <= d["ci95_t"][0] and d["hi"] >= d["ci95_t"][1]  # the hull holds the t interval
    assert sorted(x for x, _ in d["per_training"]) == [0.0, 0.0, 0.1, 0.1, 0.2, 0.2]


def test_a_flat_penalty_is_not_resolved_and_words_follow_the_adjusted_interval() -> None:
    flat = [_level(0.0, (2, 0)), _level(0.1, (0, 2)), _level(0.2, (1, 1))]
    grows = [_level(0.0, (0, 1)), _level(0.1, (3, 4)), _level(0.2, (6, 7))]
    raw = {"surface": divergence_trend(flat, n_resamples=999), "meaning": divergence_trend(grows, n_resamples=999)}
    assert raw["surface"]["lo"] < 0 < raw["surface"]["hi"]
    families({"en grid trends": list(raw.values())})
    trends = [{"epochs": "16", "output": o, "levels": ["a", "b", "c"], **trend_record(d)} for o, d in raw.items()]
    assert all(t["adjustment"].startswith("Holm, 2 comparisons") for t in trends)
    md = "\n".join(trend_lines({"trends": {"en": trends}}))
    assert "- **en, 16 epochs: not resolved.**" in md
    (row,) = [x for x in md.splitlines() if x.startswith("| en | 16 | meaning |")]
    assert row.endswith("| grows |")


def test_no_slope_without_two_divergences_or_three_trainings() -> None:
    same = divergence_trend([_level(0.1, (0,)), _level(0.1, (1,))], n_resamples=99)
    assert same["slope"] is None and "same divergence" in same["no_ci"]
    two = divergence_trend([_level(0.0, (0,)), _level(0.2, (1,))], n_resamples=99)
    assert two["slope"] == pytest.approx(50.0) and two["p"] is None and "at least 3 trainings" in two["no_ci"]
