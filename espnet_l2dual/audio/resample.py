"""Resample 1-D float samples (torchaudio when it imports, else scipy: same output length)."""

from __future__ import annotations

import functools
from math import gcd
from typing import Optional

import numpy as np

def resample(samples: np.ndarray, orig_fs: int, new_fs: int, backend: Optional[str] = None) -> np.ndarray:
    """Resample 1-D float samples; ``backend`` is "torchaudio", "scipy" or None (torchaudio if importable).

    Both give ``ceil(len * new_fs / orig_fs)`` samples.
    """
    if orig_fs == new_fs:
        return samples
    if backend is None:
        backend = "torchaudio" if _has_torchaudio() else "scipy"
    if backend == "torchaudio":
        import torch
        import torchaudio.functional

        out = torchaudio.functional.resample(torch.from_numpy(np.ascontiguousarray(samples)), orig_fs, new_fs)
        return out.numpy()
    if backend == "scipy":
        from scipy.signal import resample_poly

        g = gcd(orig_fs, new_fs)
        return resample_poly(samples, new_fs // g, orig_fs // g).astype(np.float32)
    raise ValueError(f"unknown resampling backend '{backend}'")


@functools.lru_cache(maxsize=None)
def _has_torchaudio() -> bool:
    try:
        import torchaudio.functional  # noqa: F401
    except Exception:  # a broken torch install must not stop the dump: scipy does the same job
        return False
    return True
