"""Intervals over seeds: a hand-computed t interval, and the seeds x utterances bootstrap."""

from __future__ import annotations

import numpy as np
import pytest

from espnet_l2dual.scoring.paired_bootstrap import paired_difference
from espnet_l2dual.scoring.seed_intervals import crossed_bootstrap, mean_sd, seed_interval_record, seed_t_interval


def test_t_interval_by_hand() -> None:
    # d = 1, 2, 3: mean 2, sd 1, se 1/sqrt(3); t(0.975, 2) = 4.302653 -> half width 2.484138
    r = seed_t_interval([1.0, 2.0, 3.0])
    assert r["diff"] == 2.0 and r["n_seeds"] == 3
    assert r["lo"] == pytest.approx(2 - 2.484138, abs=1e-5) and r["hi"] == pytest.approx(2 + 2.484138, abs=1e-5)
    one = seed_t_interval([1.5])
    assert one["lo"] is None and "at least 2" in one["no_ci"]


def test_mean_sd() -> None:
    assert mean_sd([1.0, 2.0, 3.0]) == {"mean": 2.0, "sd": 1.0, "n": 3}
    assert mean_sd([4.0])["sd"] is None


def _errors(edits, length=10):
    return {f"u{i}": (e, length) for i, e in enumerate(edits)}


def test_crossed_bootstrap_of_a_constant_difference_is_a_point() -> None:
    a = [_errors([1, 2, 3, 4]), _errors([0, 1, 2, 3])]
    b = [_errors([2, 3, 4, 5]), _errors([1, 2, 3, 4])]  # one more edit per utterance, every seed
    r = crossed_bootstrap(a, b)
    assert r["diff"] == pytest.approx(10.0) and r["lo"] == pytest.approx(10.0) and r["hi"] == pytest.approx(10.0)


def test_crossed_bootstrap_with_one_seed_matches_the_paired_bootstrap() -> None:
    rng = np.random.default_rng(1)
    a = _errors(rng.integers(0, 5, 200).tolist())
    b = _errors(rng.integers(0, 6, 200).tolist())
    crossed, paired = crossed_bootstrap([a], [b], n_resamples=4000), paired_difference(a, b, n_resamples=4000)
    assert crossed["diff"] == pytest.approx(paired["diff"])
    assert crossed["lo"] == pytest.approx(paired["lo"], abs=0.6) and crossed["hi"] == pytest.approx(paired["hi"], abs=0.6)


def test_seed_variation_widens_the_crossed_interval() -> None:
    rng = np.random.default_rng(2)
    base = rng.integers(0, 5, 300).tolist()
    a = [_errors(base)] * 3
    same = [_errors([e + 1 for e in base])] * 3
    varied = [_errors([e + k for e in base]) for k in (0, 1, 2)]  # seeds disagree: +0, +1, +2 edits
    w_same = np.subtract(*reversed([crossed_bootstrap(a, same)[k] for k in ("lo", "hi")]))
    w_varied = np.subtract(*reversed([crossed_bootstrap(a, varied)[k] for k in ("lo", "hi")]))
    assert w_varied > w_same + 5


def test_mismatched_inputs() -> None:
    with pytest.raises(ValueError, match="same number"):
        crossed_bootstrap([_errors([1])], [])
    with pytest.raises(ValueError, match="reference lengths differ"):
        crossed_bootstrap([_errors([1, 2], 10)], [_errors([1, 2], 11)])


def test_record_uses_the_hull_of_both_intervals() -> None:
    rec = seed_interval_record({"diff": 1.0, "lo": 0.2, "hi": 1.8, "n_seeds": 3, "n_utt": 50},
                               {"diff": 1.0, "lo": -0.5, "hi": 2.5, "n_seeds": 3})
    assert rec["ci95"] == [-0.5, 2.5] and rec["ci95_bootstrap"] == [0.2, 1.8] and rec["ci95_t"] == [-0.5, 2.5]
    none = seed_interval_record({"diff": 1.0, "lo": 0.2, "hi": 1.8, "n_seeds": 1},
                                {"diff": 1.0, "lo": None, "hi": None, "n_seeds": 1, "no_ci": "1 seed(s)"})
    assert none["ci95"] is None and "1 seed" in none["no_ci"]


def test_bootstrap_and_t_over_seeds_are_centred_on_one_estimate_from_the_counts() -> None:
    from espnet_l2dual.analysis.tables import finish_over_seeds, versus_over_seeds
    from espnet_l2dual.analysis.tables import Scored
    from espnet_l2dual.scoring.units import headline

    rng = np.random.default_rng(4)
    keys = [f"s{s}-u{u}" for s in range(5) for u in range(6)]

    def errs(lo: int, hi: int) -> dict:
        return {k: (int(rng.integers(lo, hi)), 12) for k in keys}

    stl = [errs(0, 4) for _ in range(3)]
    mtl = [errs(1, 6) for _ in range(3)]
    h = headline("char")
    # values as results.json rounds them, deliberately off the counts: the intervals must not read them
    scored = lambda e: Scored(h, {"cer": round(100.0 * sum(x for x, _ in e.values()) / (12 * len(keys)), 0) + 0.4},
                              {"cer": e})
    rec = finish_over_seeds(versus_over_seeds([scored(e) for e in mtl], [scored(e) for e in stl], "cer"))
    per_seed = [100.0 * sum(m[k][0] - s[k][0] for k in keys) / (12 * len(keys)) for s, m in zip(stl, mtl)]
    assert rec["per_seed"] == [round(x, 2) for x in per_seed]
    assert rec["diff"] == round(float(np.mean(per_seed)), 2)
    lo, hi = rec["ci95_t"]
    assert (lo + hi) / 2 == pytest.approx(rec["diff"], abs=0.011)                 # t centred on the same estimate
    b_lo, b_hi = rec["ci95_bootstrap"]
    assert b_lo <= rec["diff"] <= b_hi
    assert rec["unit"] == "speakers x utterances x seeds" and rec["n_spk"] == 5


def test_zero_spread_over_seeds_is_not_defined() -> None:
    from espnet_l2dual.analysis.seed_study import _scalar_over_seeds, welch_interval

    t = seed_t_interval([2.0, 2.0, 2.0])
    assert t["lo"] is None and "not defined" in t["no_ci"]
    w = welch_interval([0.5, 0.5], [0.7, 0.7])
    assert w["ci95"] is None and "not defined" in w["no_ci"]
    # inputs are not rounded: a spread below the third decimal is still a spread
    w = welch_interval([0.5, 0.5001, 0.5002], [0.7, 0.7001, 0.7002])
    assert w["ci95"] is not None and w["ci95"][0] > 0
    p = _scalar_over_seeds([0.01, 0.6, 0.2], "  (p-value)")
    assert "mean" not in p and p["per_seed"] == [0.01, 0.6, 0.2] and "not averaged" in p["note"]
