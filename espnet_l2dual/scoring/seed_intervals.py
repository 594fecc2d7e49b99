"""Intervals for a difference between two systems trained with several seeds.

One seed's paired bootstrap (:mod:`espnet_l2dual.scoring.paired_bootstrap`) covers only
which test utterances were drawn; a re-trained model moves the numbers as much. Two
intervals over seeds, both on the same test utterances:

* ``seed_t_interval``: Student-t interval of the seed-level paired differences
  (``b_s - a_s`` for each seed ``s``, both trained with seed ``s``): seed variation only,
  exact under normality, wide with few seeds (t at 2 degrees of freedom is 4.30);
* ``crossed_bootstrap``: seeds and utterances resampled together (seeds with replacement,
  crossed with one speakers-then-utterances resample shared by all seeds, since every
  seed is scored on the same utterances); the statistic is the mean over the drawn seeds
  of the error-rate difference on the drawn utterances. It covers both sources; with few
  seeds it underestimates the seed part, which the t interval does not.

Both use the same per-utterance counts (sclite's) and are centred on the same estimate,
the mean over seeds of the per-seed difference. The report calls a difference resolved
only where both exclude zero (after the family's Holm adjustment).
"""

from __future__ import annotations

import math
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

import numpy as np
from scipy import stats

from espnet_l2dual.scoring.blocked_bootstrap import DEFAULT_RESAMPLES, METHOD, SPEAKERS, resample, speaker_of, unit_label

UtteranceErrors = Mapping[str, Tuple[int, int]]


def mean_sd(values: Sequence[float]) -> Dict[str, Optional[float]]:
    """Mean and sample standard deviation (``sd`` None for a single value)."""
    v = [float(x) for x in values]
    if not v:
        return {"mean": None, "sd": None, "n": 0}
    sd = float(np.std(v, ddof=1)) if len(v) > 1 else None
    return {"mean": float(np.mean(v)), "sd": sd, "n": len(v)}


def seed_t_interval(diffs: Sequence[float], confidence: float = 0.95) -> Dict[str, Any]:
    """Mean of the per-seed differences, its t interval and p-value; ``lo``/``hi`` None below 2
    seeds or where the seeds do not differ (zero spread: the t interval is not defined)."""
    d = [float(x) for x in diffs]
    out: Dict[str, Any] = {"diff": float(np.mean(d)) if d else None, "n_seeds": len(d)}
    if len(d) < 2:
        out.update(lo=None, hi=None, p=None, no_ci=f"{len(d)} seed(s): a t interval needs at least 2")
        return out
    sd = float(np.std(d, ddof=1))
    if not sd > 0:
        out.update(lo=None, hi=None, p=None, no_ci="not defined: every seed gives the same difference (zero spread)")
        return out
    se, df = sd / math.sqrt(len(d)), len(d) - 1
    half = stats.t.ppf(0.5 + confidence / 2, df) * se
    out.update(lo=out["diff"] - half, hi=out["diff"] + half, p=float(2 * stats.t.sf(abs(out["diff"]) / se, df)))
    out["interval_at"] = lambda level: (out["diff"] - stats.t.ppf(0.5 + level / 2, df) * se,
                                        out["diff"] + stats.t.ppf(0.5 + level / 2, df) * se)
    return out


def welch(a: Sequence[float], b: Sequence[float]) -> Dict[str, Any]:
    """mean(b) − mean(a) of two independent sets of seeds, with Welch's p and ``interval_at``."""
    a, b = [float(x) for x in a], [float(x) for x in b]
    out: Dict[str, Any] = {"diff": float(np.mean(b) - np.mean(a)) if a and b else None,
                           "method": "Welch t over seeds (independent trainings)"}
    if len(a) < 2 or len(b) < 2:
        return dict(out, p=None, no_ci="not defined: fewer than 2 seeds on a side")
    if np.ptp(a) == 0 and np.ptp(b) == 0:
        return dict(out, p=None, no_ci="not defined: no spread over seeds on either side")
    res = stats.ttest_ind(b, a, equal_var=False)

    def interval_at(level: float) -> Tuple[float, float]:
        ci = res.confidence_interval(level)
        return float(ci.low), float(ci.high)

    return dict(out, p=float(res.pvalue), interval_at=interval_at)


def over_seeds(a: Sequence[UtteranceErrors], b: Sequence[UtteranceErrors], confidence: float = 0.95,
               n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0, unit: str = SPEAKERS) -> Dict[str, Any]:
    """``b − a`` over seeds: the crossed bootstrap and the t interval of the same per-seed differences.

    The comparison's ``p`` is the larger of the two (a difference is resolved only where both
    intervals exclude 0) and ``interval_at(level)`` the hull of both, for the family adjustment.
    """
    boot = crossed_bootstrap(a, b, confidence, n_resamples, seed, unit)
    t = seed_t_interval(boot["per_seed"], confidence)
    out = dict(boot, t=t, p_bootstrap=boot.get("p"), p_t=t.get("p"))
    if boot.get("p") is None or t.get("p") is None:
        out.update(p=None, interval_at=None)
        return out
    out["p"] = max(boot["p"], t["p"])

    def hull(level: float) -> Optional[Tuple[float, float]]:
        x, y = boot["interval_at"](level), t["interval_at"](level)
        return None if x is None or y is None else (min(x[0], y[0]), max(x[1], y[1]))

    out["interval_at"] = hull
    return out


def crossed_bootstrap(
    a: Sequence[UtteranceErrors], b: Sequence[UtteranceErrors], confidence: float = 0.95,
    n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0, unit: str = SPEAKERS,
) -> Dict[str, Any]:
    """Error rate of ``b`` minus ``a`` in points, averaged over seeds; ``a[i]``, ``b[i]`` = seed i.

    Only utterances scored by every model enter; their reference lengths must agree. Keys are
    sclite trn ids ``spk-utt``: speakers, then utterances within them, are drawn once per
    replicate and shared by all seeds (every seed is scored on the same utterances), seeds
    with replacement on top. ``per_seed`` holds the seed-level differences from the same
    counts, so the t interval over them is centred on the same estimate.
    """
    if len(a) != len(b) or not a:
        raise ValueError(f"need the same number (>0) of seeds for both systems, got {len(a)} and {len(b)}")
    utts = sorted(set.intersection(*(set(x) for x in [*a, *b])))
    if not utts:
        return {"diff": None, "lo": None, "hi": None, "n_utt": 0, "n_seeds": len(a), "per_seed": [],
                "no_ci": "the models share no scored utterance"}
    n = np.array([a[0][u][1] for u in utts], dtype=float)
    for x in [*a, *b]:
        if any(x[u][1] != n[i] for i, u in enumerate(utts)):
            raise ValueError("reference lengths differ between the models: not scored against the same references")
    d = np.array([[bs[u][0] - as_[u][0] for u in utts] for as_, bs in zip(a, b)], dtype=float)  # seeds x utts
    cols = np.concatenate([d.T, n[:, None]], axis=1)  # utts x (seeds + 1)

    def stat(sums: np.ndarray, seed_w: np.ndarray) -> np.ndarray:
        per_seed = 100.0 * sums[:, :-1] / np.maximum(sums[:, -1:], 1.0)
        return (seed_w * per_seed).sum(axis=1)

    r = resample(cols, [speaker_of(u) for u in utts], stat, unit, n_resamples, seed, n_seeds=len(a))
    out: Dict[str, Any] = {"diff": r.point, "n_utt": r.n_utt, "n_spk": r.n_spk, "n_seeds": len(a),
                           "unit": unit_label(r.unit, seeds=True), "method": METHOD,
                           "per_seed": [float(x) for x in 100.0 * d.sum(axis=1) / max(n.sum(), 1.0)]}
    ci = r.interval(confidence)
    if ci is None:
        out.update(lo=None, hi=None, p=None, no_ci=r.no_ci)
    else:
        out.update(lo=ci[0], hi=ci[1], p=r.p_value(), n_resamples=len(r.reps), interval_at=r.interval)
    return out


def seed_interval_record(boot: Mapping[str, Any], t: Mapping[str, Any], digits: int = 2) -> Dict[str, Any]:
    """Both intervals as stored in report.json; ``ci95`` is their hull (what a verdict reads),
    ``ci_adj`` the hull at the comparison's Holm level once its family was adjusted."""
    def pair(r: Mapping[str, Any]) -> Optional[list]:
        return None if r.get("lo") is None else [round(r["lo"], digits), round(r["hi"], digits)]

    out: Dict[str, Any] = {"diff": None if boot["diff"] is None else round(boot["diff"], digits),
                           "n_seeds": boot["n_seeds"], "n_utt": boot.get("n_utt", 0),
                           "ci95_bootstrap": pair(boot), "ci95_t": pair(t)}
    out.update({k: boot[k] for k in ("n_spk", "unit", "method", "n_resamples", "family", "adjustment",
                                     "p_bootstrap", "p_t") if k in boot})
    if out["ci95_bootstrap"] is None or out["ci95_t"] is None:
        out.update(ci95=None, no_ci=boot.get("no_ci") or t.get("no_ci") or "no interval")
    else:
        out["ci95"] = [min(out["ci95_bootstrap"][0], out["ci95_t"][0]), max(out["ci95_bootstrap"][1], out["ci95_t"][1])]
        if boot.get("p") is not None:
            out["p"] = boot["p"]
        if boot.get("lo_adj") is not None:
            out.update(ci_adj=[round(boot["lo_adj"], digits), round(boot["hi_adj"], digits)],
                       level_adj=boot["level_adj"], p_adj=boot["p_adj"])
    return out
