"""Bootstrap weights over utterances grouped by speaker, and percentile intervals.

Utterances of one speaker are correlated (voice, proficiency), so an interval that
resamples utterances as if independent is too narrow.  The speaker-blocked bootstrap
draws speakers with replacement, then utterances with replacement within each drawn
speaker (two-stage cluster bootstrap); a replicate is a vector of counts, one per
utterance, so every statistic of a replicate (a CKA, a difference of two CKAs on the
same utterances) is paired by construction.  With one utterance per speaker it is the
plain utterance bootstrap.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np


def speaker_blocked_weights(speakers: Sequence[str], n_boot: int, seed: int) -> np.ndarray:
    """``[n_boot, n_utts]`` counts: speakers drawn with replacement, then their utterances."""
    if n_boot < 1:
        raise ValueError(f"n_boot must be positive, got {n_boot}")
    if not len(speakers):
        raise ValueError("no utterances to resample")
    order: Dict[str, List[int]] = {}
    for i, s in enumerate(speakers):
        order.setdefault(str(s), []).append(i)
    groups = [np.asarray(v) for v in order.values()]
    rng = np.random.default_rng(seed)
    w = np.zeros((n_boot, len(speakers)), dtype=np.int64)
    rows = np.arange(n_boot)
    for b_spk in rng.integers(0, len(groups), size=(len(groups), n_boot)):  # one speaker draw per replicate
        for g in np.unique(b_spk):
            members = groups[g]
            sel = rows[b_spk == g]
            picks = members[rng.integers(0, len(members), size=(len(sel), len(members)))]
            np.add.at(w, (np.repeat(sel, len(members)), picks.ravel()), 1)
    return w


def percentile_interval(reps: np.ndarray, level: float = 0.95) -> Optional[Tuple[float, float]]:
    """Percentile interval of bootstrap replicates (NaN replicates dropped); None if none is finite."""
    reps = np.asarray(reps, dtype=np.float64)
    reps = reps[np.isfinite(reps)]
    if reps.size == 0:
        return None
    a = (1.0 - level) / 2.0
    lo, hi = np.quantile(reps, [a, 1.0 - a])
    return float(lo), float(hi)


def blocks_label(speakers: Sequence[str]) -> str:
    """The unit an interval resamples, in words, for tables."""
    n_spk, n_utt = len(set(speakers)), len(speakers)
    if n_spk == n_utt:
        return f"{n_utt} utterances (one per speaker or no utt2spk)"
    return f"{n_spk} speakers x {n_utt} utterances"
