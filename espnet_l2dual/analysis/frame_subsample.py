"""Which frames (and token positions) CKA keeps: a subsample drawn from a generator seeded by
(seed, utterance id), so every model keeps the same rows, with a per-utterance quota that caps
the total; memory is then bounded by the subsample, not by the test set."""

from __future__ import annotations

import math
import zlib

import numpy as np


def keep_indices(utt_id: str, length: int, quota: int, seed: int, salt: str) -> np.ndarray:
    """Sorted positions kept from a sequence of ``length``; the same for every model."""
    if length <= quota:
        return np.arange(length)
    rng = np.random.default_rng([seed, zlib.crc32(f"{salt}/{utt_id}".encode("utf-8"))])
    return np.sort(rng.choice(length, size=quota, replace=False))


def per_utt_quota(max_frames: int, n_utts: int) -> int:
    """Rows kept per utterance so that all utterances together keep about ``max_frames``."""
    return max(1, math.ceil(max_frames / max(1, n_utts)))
