"""Paired bootstrap over test utterances for the difference of two systems' error rates.

With one training run per config, the test sample is the noise that can be measured
cheaply: resampling utterances with replacement, the same draw for both systems
(Bisani & Ney, 2004), gives a confidence interval for "B's CER minus A's CER".
An interval that contains 0 means the 150-utterance test set cannot tell the two
apart. It says nothing about seed-to-seed variation of training, which comes on top.
The resampling is ``scipy.stats.bootstrap(paired=True)``.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Tuple

import numpy as np
from scipy import stats

from espnet_l2dual.errors import DataError
from espnet_l2dual.scoring.by_divergence import edit_distance
from espnet_l2dual.utils.fileio import PathLike, iter_utf8_lines


def read_trn(path: PathLike) -> Dict[str, List[str]]:
    """``u1 u2 ... (id)`` lines -> {id: units}; the units are what sclite scored."""
    out: Dict[str, List[str]] = {}
    for no, line in iter_utf8_lines(path):
        line = line.strip()
        if not line:
            continue
        start = line.rfind("(")
        if start < 0 or not line.endswith(")"):
            raise DataError(path, no, "a trn line must end with '(id)'")
        utt = line[start + 1:-1]
        if utt in out:
            raise DataError(path, no, f"duplicate id '{utt}'")
        out[utt] = line[:start].split()
    return out


def utterance_errors(ref_trn: PathLike, hyp_trn: PathLike) -> Dict[str, Tuple[int, int]]:
    """{utt: (edits, reference length)}; a hypothesis id not in the reference is an error."""
    ref, hyp = read_trn(ref_trn), read_trn(hyp_trn)
    extra = [u for u in hyp if u not in ref]
    if extra:
        raise DataError(hyp_trn, None, f"{len(extra)} ids not in the reference {ref_trn}, e.g. '{extra[0]}'")
    return {u: (edit_distance(r, hyp.get(u, [])), len(r)) for u, r in ref.items()}


def paired_difference(
    a: Mapping[str, Tuple[int, int]], b: Mapping[str, Tuple[int, int]],
    confidence: float = 0.95, n_resamples: int = 2000, seed: int = 0,
) -> Optional[Dict[str, Any]]:
    """Error rate of ``b`` minus ``a`` in points, with a percentile bootstrap interval.

    Both must score the same utterances against the same references (lengths equal);
    None when they share no utterance.
    """
    utts = [u for u in a if u in b]
    if not utts:
        return None
    bad = [u for u in utts if a[u][1] != b[u][1]]
    if bad:
        raise ValueError(f"reference length of '{bad[0]}' differs between the two systems: "
                         "they were not scored against the same reference")
    ea = np.array([a[u][0] for u in utts], dtype=float)
    eb = np.array([b[u][0] for u in utts], dtype=float)
    n = np.array([a[u][1] for u in utts], dtype=float)

    def diff(ea_: np.ndarray, eb_: np.ndarray, n_: np.ndarray, axis: int = -1) -> np.ndarray:
        return 100.0 * (eb_.sum(axis=axis) - ea_.sum(axis=axis)) / np.maximum(n_.sum(axis=axis), 1.0)

    return _bootstrap((ea, eb, n), diff, confidence, n_resamples, seed)


def _bootstrap(cols: Tuple[np.ndarray, ...], statistic, confidence: float, n_resamples: int,
               seed: int) -> Dict[str, Any]:
    """Point value and percentile interval of ``statistic`` over utterances resampled in pairs.

    With fewer than 2 utterances there is nothing to resample: ``lo``/``hi`` are None and
    ``no_ci`` says why (a zero-width interval there would read as a resolved difference).
    """
    point = float(statistic(*cols))
    n_utt = len(cols[0])
    if n_utt < 2:
        return {"diff": point, "lo": None, "hi": None, "n_utt": n_utt,
                "no_ci": f"{n_utt} utterance(s) shared by both systems, too few to resample"}
    res = stats.bootstrap(cols, statistic, paired=True, vectorized=True, n_resamples=n_resamples,
                          confidence_level=confidence, method="percentile", random_state=seed)
    ci = res.confidence_interval
    lo, hi = float(ci.low), float(ci.high)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return {"diff": point, "lo": None, "hi": None, "n_utt": n_utt, "no_ci": "the bootstrap interval is undefined"}
    return {"diff": point, "lo": lo, "hi": hi, "n_utt": n_utt}


def paired_f1_difference(
    a: Mapping[str, Tuple[int, int, int]], b: Mapping[str, Tuple[int, int, int]],
    confidence: float = 0.95, n_resamples: int = 2000, seed: int = 0,
) -> Optional[Dict[str, Any]]:
    """MDD F1 of ``b`` minus ``a`` in points, utterances resampled in pairs (as for CER).

    ``a``/``b``: {utt: (TR, FR, FA)}; F1 = 2 TR / (2 TR + FR + FA) over the resampled set.
    """
    utts = [u for u in a if u in b]
    if not utts:
        return None
    cols = [np.array([x[u][k] for u in utts], dtype=float) for x in (a, b) for k in range(3)]

    def f1(tr: np.ndarray, fr: np.ndarray, fa: np.ndarray, axis: int) -> np.ndarray:
        t, r, f = tr.sum(axis=axis), fr.sum(axis=axis), fa.sum(axis=axis)
        return 100.0 * 2 * t / np.maximum(2 * t + r + f, 1.0)

    def diff(tra, fra, faa, trb, frb, fab, axis: int = -1) -> np.ndarray:
        return f1(trb, frb, fab, axis) - f1(tra, fra, faa, axis)

    return _bootstrap(tuple(cols), diff, confidence, n_resamples, seed)


def read_mdd_counts(path: PathLike) -> Dict[str, Tuple[int, int, int]]:
    """{utt: (TR, FR, FA)} from a stage-9 ``score_mdd/<reference>.tsv`` (utt ta fr fa tr cd de)."""
    out: Dict[str, Tuple[int, int, int]] = {}
    for no, line in iter_utf8_lines(path):
        parts = line.split()
        if no == 1 and parts and parts[0] == "utt":
            continue
        if len(parts) != 7:
            raise DataError(path, no, f"expected 7 columns (utt ta fr fa tr cd de), got {len(parts)}")
        try:
            ta, fr, fa, tr, cd, de = (int(x) for x in parts[1:])
        except ValueError:
            raise DataError(path, no, "counts must be integers") from None
        out[parts[0]] = (tr, fr, fa)
    return out


def interval_record(r: Optional[Mapping[str, Any]], digits: int = 2) -> Dict[str, Any]:
    """A :func:`paired_difference` result as stored in analysis.json / report.json.

    ``{"diff", "ci95": [lo, hi], "n_utt"}``, or ``ci95: None`` with ``no_ci`` (the reason)
    where no interval exists (no shared utterance, or too few to resample).
    """
    if r is None:
        return {"diff": None, "ci95": None, "n_utt": 0, "no_ci": "the two systems share no utterance"}
    out: Dict[str, Any] = {"diff": round(r["diff"], digits), "n_utt": r["n_utt"]}
    if r.get("lo") is None or r.get("hi") is None:
        out.update(ci95=None, no_ci=r.get("no_ci", "no interval"))
    else:
        out["ci95"] = [round(r["lo"], digits), round(r["hi"], digits)]
    return out
