"""Does the MTL−STL penalty grow with divergence? The grid's slope, with two intervals.

The grid intervenes on divergence: each level is the same sentences and voices with every
learner error rate scaled. The trend of one language, output and budget is the least-squares
slope of MTL−STL (points of the headline error rate) on the level's mean surface–meaning
divergence, over every trained pair (level x seed). Two 95% intervals, hull taken, as over
seeds (:mod:`espnet_l2dual.scoring.seed_intervals`):

* **t**: the OLS slope's t interval over the trainings (levels x seeds, n − 2 degrees of
  freedom): training variation, the utterances fixed;
* **boot**: speakers, then utterances within them, resampled once and shared by every level
  and seed (every level is scored on the same utterance ids and speakers), the slope recomputed
  per replicate: utterance variation, the trainings fixed.

A level's utterances enter only where every model of every level scored them.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
from scipy import stats

from espnet_l2dual.scoring.blocked_bootstrap import DEFAULT_RESAMPLES, METHOD, SPEAKERS, resample, speaker_of, unit_label

Errors = Mapping[str, Tuple[int, int]]  # utterance -> (errors, reference length)
UNIT = "trainings (levels x seeds) for t; speakers x utterances, shared by all levels, for boot"


class LevelPoint:
    """One level of the grid: its divergence and, per seed, the MTL and STL per-utterance errors."""

    def __init__(self, divergence: float, mtl: Sequence[Errors], stl: Sequence[Errors]) -> None:
        if len(mtl) != len(stl) or not mtl:
            raise ValueError(f"need the same number (>0) of MTL and STL seeds, got {len(mtl)} and {len(stl)}")
        self.divergence, self.mtl, self.stl = float(divergence), list(mtl), list(stl)


def _t_part(x: np.ndarray, y: np.ndarray) -> Dict[str, Any]:
    n = len(x)
    if n < 3 or np.ptp(x) == 0:
        return {"p": None, "no_ci": f"{n} training(s) over {len(set(x.tolist()))} divergence(s): an OLS interval "
                                    "needs at least 3 trainings and 2 divergences"}
    fit = stats.linregress(x, y)
    if not fit.stderr > 0:
        return {"p": None, "no_ci": "not defined: the trainings lie exactly on a line (zero residual spread)"}
    df = n - 2

    def interval_at(level: float) -> Tuple[float, float]:
        half = stats.t.ppf(0.5 + level / 2, df) * fit.stderr
        return fit.slope - half, fit.slope + half

    return {"p": float(fit.pvalue), "interval_at": interval_at, "stderr": float(fit.stderr), "df": df}


def divergence_trend(points: Sequence[LevelPoint], n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0,
                     unit: str = SPEAKERS) -> Dict[str, Any]:
    """The slope of MTL−STL on divergence (points per unit of divergence); ``p`` the larger of the two
    parts' and ``interval_at`` their hull (for the family adjustment), as :func:`seed_intervals.over_seeds`."""
    models = [e for p in points for e in (*p.mtl, *p.stl)]
    utts = sorted(set.intersection(*(set(e) for e in models))) if models else []
    out: Dict[str, Any] = {"n_levels": len(points), "n_trainings": sum(len(p.mtl) for p in points),
                           "n_utt": len(utts), "method": f"{METHOD} bootstrap and OLS t, hull", "unit": UNIT}
    if not utts:
        return dict(out, slope=None, p=None, no_ci="the levels share no scored utterance")
    cols, x_obs, owner = [], [], []  # one difference column per training, one length column per level
    for i, p in enumerate(points):
        n = np.array([p.stl[0][u][1] for u in utts], dtype=float)
        for m, s in zip(p.mtl, p.stl):
            if any(m[u][1] != s[u][1] for u in utts):
                raise ValueError(f"level {i}: MTL and STL reference lengths differ: not scored against the same text")
            cols.append(np.array([m[u][0] - s[u][0] for u in utts], dtype=float))
            x_obs.append(p.divergence)
            owner.append(len(cols) - 1)
        cols.append(n)
    width = [len(p.mtl) for p in points]
    x = np.array(x_obs)
    matrix = np.stack(cols, axis=1)

    def per_training(sums: np.ndarray) -> np.ndarray:
        """R x K sums -> R x trainings differences in points (each over its level's reference length)."""
        out_cols, k = [], 0
        for w in width:
            length = np.maximum(sums[:, k + w:k + w + 1], 1.0)
            out_cols.append(100.0 * sums[:, k:k + w] / length)
            k += w + 1
        return np.concatenate(out_cols, axis=1)

    def slopes(sums: np.ndarray) -> np.ndarray:
        y = per_training(sums)
        xc = x - x.mean()
        return (y - y.mean(axis=1, keepdims=True)) @ xc / max(float(xc @ xc), 1e-300)

    total = matrix.sum(axis=0, keepdims=True)
    y_point = per_training(total)[0]
    out.update(slope=float(slopes(total)[0]) if np.ptp(x) > 0 else None,
               per_training=[[float(a), float(b)] for a, b in zip(x, y_point)])
    if np.ptp(x) == 0:
        return dict(out, p=None, no_ci="every level has the same divergence: no slope")
    t = _t_part(x, y_point)
    boot = resample(matrix, [speaker_of(u) for u in utts], slopes, unit, n_resamples, seed)
    out["unit_boot"] = unit_label(boot.unit)
    ci_b = boot.interval()
    out["ci95_bootstrap"] = None if ci_b is None else [float(ci_b[0]), float(ci_b[1])]
    out["ci95_t"] = None if t.get("interval_at") is None else [float(v) for v in t["interval_at"](0.95)]
    if ci_b is None or t.get("interval_at") is None:
        return dict(out, p=None, no_ci=t.get("no_ci") or boot.no_ci or "no interval")
    t_at: Callable[[float], Tuple[float, float]] = t["interval_at"]

    def hull(level: float) -> Optional[Tuple[float, float]]:
        b = boot.interval(level)
        a = t_at(level)
        return None if b is None else (min(a[0], b[0]), max(a[1], b[1]))

    lo, hi = hull(0.95)
    return dict(out, lo=lo, hi=hi, p=max(float(boot.p_value()), t["p"]), interval_at=hull)


def trend_record(d: Mapping[str, Any], digits: int = 2) -> Dict[str, Any]:
    """What grid.json keeps of a trend (no callables), after the family adjustment."""
    r = lambda v: None if v is None else round(float(v), digits)  # noqa: E731
    keep = ("n_levels", "n_trainings", "n_utt", "method", "unit", "unit_boot", "p", "p_adj", "level_adj",
            "family", "adjustment", "no_ci")
    out: Dict[str, Any] = {k: d[k] for k in keep if k in d}
    out["slope"] = r(d.get("slope"))
    out["ci95"] = None if d.get("lo") is None else [r(d["lo"]), r(d["hi"])]
    for k in ("ci95_bootstrap", "ci95_t"):
        out[k] = None if d.get(k) is None else [r(v) for v in d[k]]
    if d.get("lo_adj") is not None:
        out["ci_adj"] = [r(d["lo_adj"]), r(d["hi_adj"])]
    out["per_training"] = [[round(a, 4), r(b)] for a, b in d.get("per_training", [])]
    return out


def language_trends(rows: List[Dict[str, Any]], errors: Mapping[str, Mapping[str, Tuple[List[Errors], List[Errors]]]],
                    outputs: Sequence[str]) -> List[Dict[str, Any]]:
    """Per budget and output, the trend over that budget's levels (raw: adjust, then :func:`trend_record`).

    ``errors[level name][output]``: (MTL per seed, STL per seed) per-utterance errors."""
    out = []
    for epochs in dict.fromkeys(r["epochs"] for r in rows):
        at = [r for r in rows if r["epochs"] == epochs and r["divergence"] is not None]
        if len(at) < 2:
            continue
        for o in outputs:
            pts = [LevelPoint(r["divergence"], *errors[r["name"]][o]) for r in at]
            out.append({"epochs": epochs, "output": o, "levels": [r["name"] for r in at],
                        "raw": divergence_trend(pts)})
    return out
