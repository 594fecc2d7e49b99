"""Read a wav.scp value (a path, a ``cmd |`` pipe or an ``x.ark:offset`` entry) as float samples.

Every reader of audio (stage 3, decoding, analysis, transcribe, bench) goes through
``read_audio`` so that they all accept exactly what a data dir may hold.
"""

from __future__ import annotations

import io
import subprocess
from typing import Tuple

import numpy as np
import soundfile

from espnet_l2dual.utils.digest import ARK_ENTRY

def read_audio(entry: str) -> Tuple[np.ndarray, int]:
    """Load a wav.scp value as ``(float32 samples [time, channel], rate)``.

    Raises ``OSError``/``RuntimeError``/``subprocess.CalledProcessError`` on unreadable input.
    """
    entry = entry.strip()
    if entry.endswith("|"):
        # bash + pipefail: a failing command early in the pipe is an error, not empty audio.
        proc = subprocess.run(
            ["bash", "-o", "pipefail", "-c", entry[:-1]], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        if proc.returncode != 0:
            tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            raise RuntimeError(f"command exited with {proc.returncode}: {' / '.join(tail)}")
        data, rate = soundfile.read(io.BytesIO(proc.stdout), dtype="float32", always_2d=True)
        return data, rate
    if ARK_ENTRY.search(entry):
        import kaldiio

        loaded = kaldiio.load_mat(entry)
        if not isinstance(loaded, tuple):
            raise RuntimeError("the ark entry holds a matrix, not audio")
        rate, data = loaded
        data = np.asarray(data)
        if np.issubdtype(data.dtype, np.integer):
            data = data.astype(np.float32) / float(np.iinfo(data.dtype).max + 1)
        data = data.astype(np.float32)
        return (data[:, None] if data.ndim == 1 else data), int(rate)
    data, rate = soundfile.read(entry, dtype="float32", always_2d=True)
    return data, rate


def to_mono(data: np.ndarray) -> np.ndarray:
    """Average the channels of ``[time, channel]`` samples."""
    return data[:, 0] if data.shape[1] == 1 else data.mean(axis=1)
