"""CKA of two models' layers as stage 10 reports it: aligned rows, a null and intervals.

A CKA value alone cannot be read: with few examples the biased estimator is far
above 0 for unrelated features, and two values differ by chance.  Each pair here gets

- the debiased estimator (unbiased HSIC, Song et al. 2012) as the headline and the
  biased one beside it;
- a permutation null at the last layer: the utterance pairing shuffled
  (:func:`cka.permutation_null`), its mean, 95th percentile and p-value;
- a percentile interval per layer and for the mean over layers, from a bootstrap that
  resamples speakers, then utterances within them (:mod:`analysis.resample`); the
  replicates are kept so that differences of CKAs on the same utterances get paired
  intervals (:func:`difference`).

Rows of two models are the same instants only where both models have the same number
of frames (tokens) in every utterance; otherwise the pair is refused with one line
naming both frame rates.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from espnet_l2dual.analysis import cka
from espnet_l2dual.scoring.blocked_bootstrap import percentile_interval


@dataclass
class Rows:
    """Where a layer list's rows come from: per utterance, the sequence length and the rows kept."""

    lengths: np.ndarray
    kept: np.ndarray
    unit: str  # "frame", "token" or "utterance"
    seconds: Optional[np.ndarray] = None  # audio durations, for frame rates

    @property
    def row_utt(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.kept)), self.kept.astype(np.int64))

    def rate(self) -> str:
        """Frames per second of audio, in words (for a refusal)."""
        if self.seconds is not None and np.all(np.isfinite(self.seconds)) and self.seconds.sum() > 0:
            return f"{self.lengths.sum() / self.seconds.sum():.1f} {self.unit}s/s"
        return f"{int(self.lengths.sum())} {self.unit}s in all"


def rows_of(states: Mapping[str, np.ndarray], kind: str, n_utts: int) -> Optional[Rows]:
    """The row index of ``kind`` (``enc``, ``ssl``, ``dec.<o>``; ``ctxmean``: one row per utterance)."""
    if kind == "ctxmean":
        one = np.ones(n_utts)
        return Rows(one, one, "utterance")
    if f"index.len.{kind}" not in states:
        return None
    dur = states.get("index.dur")
    return Rows(np.asarray(states[f"index.len.{kind}"]).ravel(), np.asarray(states[f"index.rows.{kind}"]).ravel(),
                "token" if kind.startswith("dec.") else "frame", None if dur is None else np.asarray(dur).ravel())


def alignment_problem(ra: Optional[Rows], rb: Optional[Rows], a: str, b: str) -> Optional[str]:
    """None where row k of ``a`` and of ``b`` are the same instant of the same utterance, else why not."""
    if ra is None or rb is None:
        return "no row index recorded (hidden states from an older cache: delete exp/analysis/feats)"
    if len(ra.lengths) != len(rb.lengths):
        return f"different utterances ({len(ra.lengths)} vs {len(rb.lengths)})"
    if np.array_equal(ra.lengths, rb.lengths) and np.array_equal(ra.kept, rb.kept):
        return None
    if ra.unit == "token":
        return (f"different token sequences: {a} {int(ra.lengths.sum())} tokens, {b} {int(rb.lengths.sum())} "
                "(different tokenizers); CKA needs the same positions on both sides")
    return (f"different frame rates: {a} {ra.rate()}, {b} {rb.rate()}; CKA needs frames aligned in time")


@dataclass
class Settings:
    """How every pair of one analysis group is resampled (one set of weights: paired differences)."""

    weights: np.ndarray  # [B, U] counts per utterance
    n_perm: int
    seed: int
    unit: str  # "5 speakers x 100 utterances"

    @property
    def method(self) -> str:
        return (f"percentile bootstrap, {self.weights.shape[0]} resamples of speakers then utterances "
                f"within them ({self.unit})")


def mean_over_layers(reps: np.ndarray) -> np.ndarray:
    """Per replicate, the mean of the finite layers (NaN where none is finite)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(reps, axis=0)


def _clean(x):
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    return None if x is None or not np.isfinite(x) else float(x)


def _ci(reps: np.ndarray) -> Optional[List[float]]:
    iv = percentile_interval(reps)
    return None if iv is None else list(iv)


def cka_pair(xs: Sequence[np.ndarray], ys: Sequence[np.ndarray], a: str, b: str, ra: Optional[Rows],
             rb: Optional[Rows], st: Settings) -> Tuple[dict, Optional[np.ndarray]]:
    """The pair's record for analysis.json and the ``[layers, B]`` bootstrap replicates of the
    debiased diagonal (None where none were drawn)."""
    if not xs or not ys:
        return {"a": a, "b": b, "skipped": "no layers recorded"}, None
    problem = alignment_problem(ra, rb, a, b)
    if problem is None and xs[0].shape[0] != ys[0].shape[0]:
        problem = f"different numbers of rows ({xs[0].shape[0]} vs {ys[0].shape[0]})"
    if problem is not None:
        return {"a": a, "b": b, "skipped": problem}, None
    n = int(xs[0].shape[0])
    out: dict = {"a": a, "b": b, "n": n, "unit": ra.unit}
    for est in ("linear", "debiased"):
        if est == "debiased" and n < 4:
            out[est] = None
            continue
        m = cka.cka_matrix(xs, ys, debiased=est == "debiased")
        out[est] = {"matrix": _clean(m.tolist()), "diag": _clean([m[i, i] for i in range(min(m.shape))])}
    if out["debiased"] is None:
        return out, None
    row_utt = ra.row_utt
    if len(np.unique(row_utt)) < 2:
        out["null"] = out["interval"] = {"skipped": "fewer than 2 utterances"}
        return out, None
    diag = out["debiased"]["diag"]
    last = len(diag) - 1
    null = cka.permutation_null(xs[last], ys[last], row_utt, st.n_perm, st.seed)
    out["null"] = {"layer": last, "shuffled": "utterance pairing", **cka.null_summary(diag[last], null)}
    reps = np.stack([cka.bootstrap_cka(xs[i], ys[i], row_utt, st.weights) for i in range(len(diag))])
    finite = [v for v in diag if v is not None]
    out["interval"] = {"method": st.method, "level": 0.95,
                       "ci95": [_ci(r) if v is not None else None for r, v in zip(reps, diag)],
                       "mean": float(np.mean(finite)) if finite else None,
                       "mean_ci95": _ci(mean_over_layers(reps)) if finite else None}
    return out, reps




def difference(a: Optional[float], b: Optional[float], reps_a: Optional[np.ndarray],
               reps_b: Optional[np.ndarray], family_size: int, what: str) -> dict:
    """``a - b`` with its paired 95% interval and a Bonferroni-adjusted one (``family_size``
    comparisons of CKA in this group); words follow the adjusted interval."""
    rec: Dict[str, object] = {"what": what, "diff": None if a is None or b is None else float(a - b),
                              "family_size": family_size, "adjustment": "Bonferroni"}
    if rec["diff"] is None or reps_a is None or reps_b is None:
        rec.update(ci95=None, ci_adjusted=None, no_ci="a CKA of the comparison is missing")
        return rec
    d = reps_a - reps_b
    rec["ci95"] = _ci(d)
    adj = percentile_interval(d, 1.0 - 0.05 / max(1, family_size))
    rec["ci_adjusted"] = None if adj is None else list(adj)
    rec["level_adjusted"] = 1.0 - 0.05 / max(1, family_size)
    return rec


def over_seeds(points: Sequence[Optional[float]], reps: Sequence[Optional[np.ndarray]], n_boot: int,
               seed: int, family_size: int = 1) -> dict:
    """One quantity measured in several seeds' groups: the mean over seeds and an interval that
    resamples seeds, then, for each drawn seed, one of its speakers x utterances replicates, so
    both sources of variation are in it (95%, and Bonferroni-adjusted over ``family_size``)."""
    pairs = [(p, np.asarray(r, dtype=np.float64)) for p, r in zip(points, reps) if p is not None and r is not None]
    out: dict = {"per_seed": [None if p is None else float(p) for p in points], "n_seeds": len(pairs),
                 "family_size": family_size}
    if not pairs:
        out.update(mean=None, ci95=None, ci_adjusted=None, no_ci="no seed has this quantity")
        return out
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(pairs), size=(n_boot, len(pairs)))  # seeds drawn with replacement
    vals = np.empty(draws.shape)
    for j, (_, rep) in enumerate(pairs):
        mask = draws == j
        vals[mask] = rep[rng.integers(0, rep.size, size=int(mask.sum()))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        means = np.nanmean(vals, axis=1)
    out["mean"] = float(np.mean([p for p, _ in pairs]))
    out["ci95"] = _ci(means)
    adj = percentile_interval(means, 1.0 - 0.05 / max(1, family_size))
    out["ci_adjusted"] = None if adj is None else list(adj)
    return out
