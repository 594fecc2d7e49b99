"""Speaker-blocked bootstrap of statistics that are functions of summed per-utterance counts.

Utterances of one speaker share a voice, an accent and an error pattern, so they are not
independent draws: resampling utterances alone gives intervals that are too narrow when
speakers differ (Bisani & Ney 2004; Peng & Liu 2020 for the blockwise version). Here
speakers are drawn with replacement, then utterances with replacement within every drawn
speaker (a two-stage bootstrap). Both systems are resampled with the same draw (paired),
and every statistic -- an error rate difference, an F1 difference, a mean over seeds --
is computed from the same summed counts as its point estimate, so the interval and the
printed number come from one scorer.

The interval is the percentile interval of the bootstrap replicates; its p-value is the
two-sided percentile-inversion one, ``(1 + #{reps on the far side of 0}) / (R + 1)``
doubled, so a (1 - alpha) interval excludes 0 essentially where p < alpha. With
``unit="utterances"`` every utterance is its own block: the plain utterance bootstrap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

SPEAKERS, UTTERANCES = "speakers", "utterances"
UNITS = (SPEAKERS, UTTERANCES)
METHOD = "percentile"
DEFAULT_RESAMPLES = 9999
_CHUNK = 1000  # replicates per weight matrix (bounds memory for large test sets)


def speaker_of(trn_id: str) -> str:
    """The speaker of a sclite trn id ``spk-utt`` (the part before the first '-', as sclite's ``-i rm``)."""
    return trn_id.split("-", 1)[0]


def unit_label(unit: str, seeds: bool = False) -> str:
    """"speakers x utterances" (x seeds): what an interval resamples, as tables print it."""
    base = "speakers x utterances" if unit == SPEAKERS else "utterances"
    return base + (" x seeds" if seeds else "")


def percentile_interval(reps: np.ndarray, level: float = 0.95) -> Optional[Tuple[float, float]]:
    """Percentile interval of bootstrap replicates (NaN replicates dropped); None if none is finite."""
    reps = np.asarray(reps, dtype=np.float64)
    reps = reps[np.isfinite(reps)]
    if reps.size == 0:
        return None
    a = (1.0 - level) / 2.0
    lo, hi = np.quantile(reps, [a, 1.0 - a])
    return float(lo), float(hi)


@dataclass
class Resampled:
    """Point estimate and bootstrap replicates of one statistic (None where no interval exists)."""

    point: float
    reps: Optional[np.ndarray]
    n_utt: int
    n_spk: int
    unit: str
    no_ci: Optional[str] = None
    extra: Dict[str, object] = field(default_factory=dict)

    def interval(self, confidence: float = 0.95) -> Optional[Tuple[float, float]]:
        """Percentile interval at ``confidence``; None where there are no replicates."""
        return None if self.reps is None else percentile_interval(self.reps, confidence)

    def p_value(self) -> Optional[float]:
        """Two-sided bootstrap p-value of "no difference" (inverts the percentile interval)."""
        if self.reps is None:
            return None
        r = len(self.reps)
        below, above = int(np.sum(self.reps <= 0)), int(np.sum(self.reps >= 0))
        return float(min(1.0, 2.0 * (1 + min(below, above)) / (r + 1)))


def speaker_blocks(speakers: Sequence[str], unit: str) -> List[np.ndarray]:
    if unit not in UNITS:
        raise ValueError(f"resampling unit must be one of {', '.join(UNITS)}, got '{unit}'")
    if unit == UTTERANCES:
        return [np.array([i]) for i in range(len(speakers))]
    index: Dict[str, List[int]] = {}
    for i, s in enumerate(speakers):
        index.setdefault(s, []).append(i)
    return [np.array(v) for v in index.values()]


def block_weights(blocks: Sequence[np.ndarray], n_utt: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n x n_utt`` counts: blocks drawn with replacement, then utterances within each drawn block.

    A block drawn ``c`` times in a replicate contributes ``c`` within-block resamples of its
    size, i.e. ``c * size`` utterances drawn uniformly, with replacement, from the block.
    """
    k = len(blocks)
    picks = rng.integers(0, k, size=(n, k))
    times = np.bincount((np.arange(n)[:, None] * k + picks).ravel(), minlength=n * k).reshape(n, k)
    w = np.zeros((n, n_utt), dtype=np.int64)
    single = [j for j, b in enumerate(blocks) if len(b) == 1]
    if single:
        w[:, np.array([blocks[j][0] for j in single])] = times[:, single]
    for j, idx in enumerate(blocks):
        if len(idx) == 1:
            continue
        draws = times[:, j] * len(idx)                      # utterances drawn from block j, per replicate
        rows = np.repeat(np.arange(n), draws)
        within = rng.integers(0, len(idx), size=len(rows))
        w[:, idx] = np.bincount(rows * len(idx) + within, minlength=n * len(idx)).reshape(n, len(idx))
    return w


def resample(cols: np.ndarray, speakers: Sequence[str], statistic: Callable[..., np.ndarray],
             unit: str = SPEAKERS, n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0,
             n_seeds: Optional[int] = None) -> Resampled:
    """Bootstrap ``statistic(sums)`` where ``sums`` are column sums of ``cols`` (utterances x K).

    ``statistic`` maps an ``R x K`` array of (weighted) sums to ``R`` values; the point estimate
    is its value on the unweighted sums. With ``n_seeds``, training seeds are resampled too
    (crossed with the utterance draw): ``statistic(sums, seed_weights)`` gets ``R x n_seeds``
    weights summing to 1 per row (uniform for the point estimate).
    With one speaker the speaker level cannot be resampled: the interval is then over
    utterances and ``unit`` says so.
    """
    cols = np.asarray(cols, dtype=float)
    n_utt = cols.shape[0]
    n_spk = len(set(speakers))
    if n_seeds is None:
        call: Callable[[np.ndarray, Optional[np.ndarray]], np.ndarray] = lambda s, e: statistic(s)
        point_seeds = None
    else:
        call, point_seeds = statistic, np.full((1, n_seeds), 1.0 / n_seeds)
    point = float(call(np.ones((1, n_utt)) @ cols, point_seeds)[0])
    if unit == SPEAKERS and n_spk < 2:
        unit = UTTERANCES
    if n_utt < 2:
        return Resampled(point, None, n_utt, n_spk, unit,
                         f"{n_utt} utterance(s) shared by the systems, too few to resample")
    blocks = speaker_blocks(speakers, unit)
    rng = np.random.default_rng(seed)
    reps = []
    for start in range(0, n_resamples, _CHUNK):
        n = min(_CHUNK, n_resamples - start)
        w = block_weights(blocks, n_utt, n, rng)
        e = None if n_seeds is None else rng.multinomial(n_seeds, np.full(n_seeds, 1.0 / n_seeds), size=n) / n_seeds
        reps.append(call(w @ cols, e))
    out = np.concatenate(reps)
    if not np.all(np.isfinite(out)):
        return Resampled(point, None, n_utt, n_spk, unit, "the bootstrap replicates are not all finite")
    return Resampled(point, out, n_utt, n_spk, unit)
