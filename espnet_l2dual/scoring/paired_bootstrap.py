"""Paired bootstrap of the difference of two systems' error rates (or MDD F1).

The same draw for both systems (Bisani & Ney, 2004), and by default speakers, then
utterances within them (:mod:`espnet_l2dual.scoring.blocked_bootstrap`): utterances of one
speaker are correlated, so an utterance-only interval is too narrow where speakers differ
(``unit="utterances"`` keeps that one as an option). The per-utterance counts are sclite's
own (:func:`sclite_utterance_errors`, from its alignments), so the printed difference and
its interval come from one scorer. It says nothing about seed-to-seed variation of
training, which comes on top (:mod:`espnet_l2dual.scoring.seed_intervals`).
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from espnet_l2dual.errors import DataError
from espnet_l2dual.scoring.blocked_bootstrap import (DEFAULT_RESAMPLES, METHOD, SPEAKERS, Resampled, resample,
                                                     speaker_of, unit_label)
from espnet_l2dual.utils.fileio import PathLike, iter_utf8_lines


def sclite_utterance_errors(score_dir: PathLike) -> Dict[str, Tuple[int, int]]:
    """{trn id: (S + D + I, reference length)} from sclite's own per-utterance alignments.

    The sums are sclite's totals, so a rate computed from them is the one results.json reports.
    """
    from espnet_l2dual.scoring.sclite_alignment import utterance_counts

    return {u: (s + d + i, c + s + d) for u, (c, s, d, i) in utterance_counts(score_dir).items()}


def _speakers(utts: Sequence[str], speakers: Optional[Mapping[str, str]]) -> List[str]:
    """Speaker of each utterance: from ``speakers`` where given, else from the trn id ``spk-utt``."""
    if speakers is None:
        return [speaker_of(u) for u in utts]
    missing = [u for u in utts if u not in speakers]
    if missing:
        raise ValueError(f"no speaker known for utterance '{missing[0]}' ({len(missing)} in all)")
    return [speakers[u] for u in utts]


def paired_difference(
    a: Mapping[str, Tuple[int, int]], b: Mapping[str, Tuple[int, int]],
    confidence: float = 0.95, n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0,
    unit: str = SPEAKERS, speakers: Optional[Mapping[str, str]] = None,
) -> Optional[Dict[str, Any]]:
    """Error rate of ``b`` minus ``a`` in points, with a percentile bootstrap interval.

    Both must score the same utterances against the same references (lengths equal);
    None when they share no utterance. The keys are sclite trn ids ``spk-utt`` (the speaker
    is read from them) unless ``speakers`` maps each key to its speaker.
    """
    utts = [u for u in a if u in b]
    if not utts:
        return None
    bad = [u for u in utts if a[u][1] != b[u][1]]
    if bad:
        raise ValueError(f"reference length of '{bad[0]}' differs between the two systems: "
                         "they were not scored against the same reference")
    cols = np.array([[a[u][0], b[u][0], a[u][1]] for u in utts], dtype=float)

    def diff(s: np.ndarray) -> np.ndarray:
        return 100.0 * (s[:, 1] - s[:, 0]) / np.maximum(s[:, 2], 1.0)

    return _record(resample(cols, _speakers(utts, speakers), diff, unit, n_resamples, seed), confidence)


def _record(r: Resampled, confidence: float) -> Dict[str, Any]:
    """Point value, percentile interval and p-value; ``lo``/``hi`` None with ``no_ci`` where no interval
    exists (a zero-width interval there would read as a resolved difference). ``interval_at(level)``
    gives the interval at another level, for a family's multiplicity adjustment."""
    out: Dict[str, Any] = {"diff": r.point, "n_utt": r.n_utt, "n_spk": r.n_spk, "unit": unit_label(r.unit),
                           "method": METHOD, "interval_at": r.interval}
    ci = r.interval(confidence)
    if ci is None:
        out.update(lo=None, hi=None, p=None, no_ci=r.no_ci or "no interval")
    else:
        out.update(lo=ci[0], hi=ci[1], p=r.p_value(), n_resamples=len(r.reps))
    return out


def paired_f1_difference(
    a: Mapping[str, Tuple[int, int, int]], b: Mapping[str, Tuple[int, int, int]],
    confidence: float = 0.95, n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0,
    unit: str = SPEAKERS, speakers: Optional[Mapping[str, str]] = None,
) -> Optional[Dict[str, Any]]:
    """MDD F1 of ``b`` minus ``a`` in points, resampled in pairs as for error rates.

    ``a``/``b``: {utt: (TR, FR, FA)}; F1 = 2 TR / (2 TR + FR + FA) over the resampled set.
    """
    utts = [u for u in a if u in b]
    if not utts:
        return None
    cols = np.array([[x[u][k] for x in (a, b) for k in range(3)] for u in utts], dtype=float)

    def f1(s: np.ndarray, o: int) -> np.ndarray:
        t, r, f = s[:, o], s[:, o + 1], s[:, o + 2]
        return 100.0 * 2 * t / np.maximum(2 * t + r + f, 1.0)

    def diff(s: np.ndarray) -> np.ndarray:
        return f1(s, 3) - f1(s, 0)

    return _record(resample(cols, _speakers(utts, speakers), diff, unit, n_resamples, seed), confidence)


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

    ``{"diff", "ci95": [lo, hi], "p", "n_utt", "n_spk", "unit", "method"}`` plus, once a family
    was adjusted (:mod:`espnet_l2dual.scoring.multiplicity`), ``ci_adj``, ``level_adj``, ``p_adj``
    and ``family``; or ``ci95: None`` with ``no_ci`` (the reason) where no interval exists.
    """
    if r is None:
        return {"diff": None, "ci95": None, "n_utt": 0, "no_ci": "the two systems share no utterance"}
    out: Dict[str, Any] = {"diff": round(r["diff"], digits), "n_utt": r["n_utt"]}
    out.update({k: r[k] for k in ("n_spk", "unit", "method", "n_resamples", "family", "adjustment") if k in r})
    if r.get("lo") is None or r.get("hi") is None:
        out.update(ci95=None, no_ci=r.get("no_ci", "no interval"))
    else:
        out["ci95"] = [round(r["lo"], digits), round(r["hi"], digits)]
        out["p"] = r.get("p")
        if r.get("lo_adj") is not None:
            out.update(ci_adj=[round(r["lo_adj"], digits), round(r["hi_adj"], digits)],
                       level_adj=r["level_adj"], p_adj=r["p_adj"])
    return out
