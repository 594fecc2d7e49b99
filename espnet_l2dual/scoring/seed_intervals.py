"""Intervals for a difference between two systems trained with several seeds.

One seed's paired bootstrap (:mod:`espnet_l2dual.scoring.paired_bootstrap`) covers only
which test utterances were drawn; a re-trained model moves the numbers as much. Two
intervals over seeds, both on the same test utterances:

* ``seed_t_interval``: Student-t interval of the seed-level paired differences
  (``b_s - a_s`` for each seed ``s``, both trained with seed ``s``): seed variation only,
  exact under normality, wide with few seeds (t at 2 degrees of freedom is 4.30);
* ``crossed_bootstrap``: seeds and utterances resampled together (a two-way bootstrap:
  seeds with replacement, and one utterance resample shared by all seeds, since every
  seed is scored on the same utterances); the statistic is the mean over the drawn seeds
  of the error-rate difference on the drawn utterances. It covers both sources; with few
  seeds it underestimates the seed part, which the t interval does not.

The report calls a difference resolved only where both exclude zero.
"""

from __future__ import annotations

import math
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

import numpy as np
from scipy import stats

UtteranceErrors = Mapping[str, Tuple[int, int]]


def mean_sd(values: Sequence[float]) -> Dict[str, Optional[float]]:
    """Mean and sample standard deviation (``sd`` None for a single value)."""
    v = [float(x) for x in values]
    if not v:
        return {"mean": None, "sd": None, "n": 0}
    sd = float(np.std(v, ddof=1)) if len(v) > 1 else None
    return {"mean": float(np.mean(v)), "sd": sd, "n": len(v)}


def seed_t_interval(diffs: Sequence[float], confidence: float = 0.95) -> Dict[str, Any]:
    """Mean of the per-seed differences and its t interval; ``lo``/``hi`` None below 2 seeds."""
    d = [float(x) for x in diffs]
    out: Dict[str, Any] = {"diff": float(np.mean(d)) if d else None, "n_seeds": len(d)}
    if len(d) < 2:
        out.update(lo=None, hi=None, no_ci=f"{len(d)} seed(s): a t interval needs at least 2")
        return out
    half = stats.t.ppf(0.5 + confidence / 2, len(d) - 1) * float(np.std(d, ddof=1)) / math.sqrt(len(d))
    out.update(lo=out["diff"] - half, hi=out["diff"] + half)
    return out


def crossed_bootstrap(
    a: Sequence[UtteranceErrors], b: Sequence[UtteranceErrors], confidence: float = 0.95,
    n_resamples: int = 2000, seed: int = 0,
) -> Dict[str, Any]:
    """Error rate of ``b`` minus ``a`` in points, averaged over seeds; ``a[i]``, ``b[i]`` = seed i.

    Only utterances scored by every model enter; their reference lengths must agree.
    """
    if len(a) != len(b) or not a:
        raise ValueError(f"need the same number (>0) of seeds for both systems, got {len(a)} and {len(b)}")
    utts = sorted(set.intersection(*(set(x) for x in [*a, *b])))
    if not utts:
        return {"diff": None, "lo": None, "hi": None, "n_utt": 0, "n_seeds": len(a),
                "no_ci": "the models share no scored utterance"}
    n = np.array([a[0][u][1] for u in utts], dtype=float)
    for x in [*a, *b]:
        if any(x[u][1] != n[i] for i, u in enumerate(utts)):
            raise ValueError("reference lengths differ between the models: not scored against the same references")
    d = np.array([[bs[u][0] - as_[u][0] for u in utts] for as_, bs in zip(a, b)], dtype=float)  # seeds x utts
    point = float(np.mean(100.0 * d.sum(axis=1) / max(n.sum(), 1.0)))
    out: Dict[str, Any] = {"diff": point, "n_utt": len(utts), "n_seeds": len(a)}
    if len(utts) < 2:
        out.update(lo=None, hi=None, no_ci=f"{len(utts)} shared utterance(s), too few to resample")
        return out
    rng = np.random.default_rng(seed)
    w_utt = rng.multinomial(len(utts), np.full(len(utts), 1.0 / len(utts)), size=n_resamples)  # R x U
    w_seed = rng.multinomial(len(a), np.full(len(a), 1.0 / len(a)), size=n_resamples) / len(a)  # R x S
    per_seed = 100.0 * (w_utt @ d.T) / np.maximum(w_utt @ n, 1.0)[:, None]  # R x S
    reps = (w_seed * per_seed).sum(axis=1)
    alpha = (1.0 - confidence) / 2
    out.update(lo=float(np.quantile(reps, alpha)), hi=float(np.quantile(reps, 1 - alpha)))
    return out


def seed_interval_record(boot: Mapping[str, Any], t: Mapping[str, Any], digits: int = 2) -> Dict[str, Any]:
    """Both intervals as stored in report.json; ``ci95`` is their hull (what a verdict reads)."""
    def pair(r: Mapping[str, Any]) -> Optional[list]:
        return None if r.get("lo") is None else [round(r["lo"], digits), round(r["hi"], digits)]

    out: Dict[str, Any] = {"diff": None if boot["diff"] is None else round(boot["diff"], digits),
                           "n_seeds": boot["n_seeds"], "n_utt": boot.get("n_utt", 0),
                           "ci95_bootstrap": pair(boot), "ci95_t": pair(t)}
    if out["ci95_bootstrap"] is None or out["ci95_t"] is None:
        out.update(ci95=None, no_ci=boot.get("no_ci") or t.get("no_ci") or "no interval")
    else:
        out["ci95"] = [min(out["ci95_bootstrap"][0], out["ci95_t"][0]), max(out["ci95_bootstrap"][1], out["ci95_t"][1])]
    return out
