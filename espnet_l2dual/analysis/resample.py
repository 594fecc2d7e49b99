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

from typing import Sequence

import numpy as np

from espnet_l2dual.scoring.blocked_bootstrap import SPEAKERS, block_weights, speaker_blocks


def speaker_blocked_weights(speakers: Sequence[str], n_boot: int, seed: int) -> np.ndarray:
    """``[n_boot, n_utts]`` counts: speakers drawn with replacement, then their utterances
    (the error-rate intervals' draw, :func:`espnet_l2dual.scoring.blocked_bootstrap.block_weights`)."""
    if n_boot < 1:
        raise ValueError(f"n_boot must be positive, got {n_boot}")
    if not len(speakers):
        raise ValueError("no utterances to resample")
    blocks = speaker_blocks([str(s) for s in speakers], SPEAKERS)
    return block_weights(blocks, len(speakers), n_boot, np.random.default_rng(seed))


def blocks_label(speakers: Sequence[str]) -> str:
    """The unit an interval resamples, in words, for tables."""
    n_spk, n_utt = len(set(speakers)), len(speakers)
    if n_spk == n_utt:
        return f"{n_utt} utterances (one per speaker or no utt2spk)"
    return f"{n_spk} speakers x {n_utt} utterances"
