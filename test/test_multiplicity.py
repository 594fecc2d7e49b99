"""Holm's adjustment on a hand-made family, and the adjusted intervals that verdicts read."""

from __future__ import annotations

import numpy as np
import pytest

from espnet_l2dual.scoring.blocked_bootstrap import Resampled
from espnet_l2dual.scoring.multiplicity import adjust_family, holm, holm_levels


def test_holm_by_hand() -> None:
    p = [0.01, 0.04, 0.03, 0.005]
    # sorted 0.005 x4 = 0.02; 0.01 x3 = 0.03; 0.03 x2 = 0.06; 0.04 x1 = 0.04 -> 0.06 (monotone)
    assert holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # levels: 0.005 <= 0.05/4 and 0.01 <= 0.05/3 rejected; 0.03 > 0.05/2 stops: it and the rest at 1 - 0.025
    assert holm_levels(p) == pytest.approx([1 - 0.05 / 3, 0.975, 0.975, 1 - 0.05 / 4])
    assert holm([0.2, 0.9]) == pytest.approx([0.4, 0.9])


def _item(mean: float, seed: int) -> dict:
    reps = np.random.default_rng(seed).normal(mean, 1.0, 20000)
    r = Resampled(mean, reps, 100, 10, "speakers")
    lo, hi = r.interval(0.95)
    return {"diff": mean, "lo": lo, "hi": hi, "p": r.p_value(), "interval_at": r.interval}


def test_adjusted_intervals_follow_holm_not_the_raw_95() -> None:
    # z = 2.2 alone is resolved at 95% (p ~ 0.028) but not after Holm in a family of 3
    items = [_item(4.0, 0), _item(2.2, 1), _item(0.3, 2)]
    assert all(x["lo"] > 0 for x in items[:2])
    adjust_family("toy", items)
    strong, borderline, null = items
    assert strong["p_adj"] < 0.05 and strong["lo_adj"] > 0 and strong["level_adj"] == pytest.approx(1 - 0.05 / 3, abs=1e-5)
    assert borderline["p_adj"] > 0.05 and borderline["lo_adj"] < 0 < borderline["hi_adj"]
    assert borderline["p_adj"] == pytest.approx(2 * borderline["p"]) and borderline["level_adj"] == 0.975
    assert null["lo_adj"] < 0 < null["hi_adj"]
    assert all(x["family"] == "toy" and x["adjustment"].startswith("Holm, 3 comparisons") for x in items)
    for x in items:                                       # an adjusted interval is never narrower than the raw one
        assert x["lo_adj"] <= x["lo"] and x["hi_adj"] >= x["hi"]


def test_a_comparison_without_interval_is_labelled_but_not_counted() -> None:
    items = [_item(4.0, 0), {"diff": 1.0, "lo": None, "hi": None, "p": None, "no_ci": "too few"}, None]
    adjust_family("f", items)
    assert items[0]["level_adj"] == 0.95 and items[1]["family"] == "f" and "p_adj" not in items[1]
