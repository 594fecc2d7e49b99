"""Audio files of a corpus as wav.scp entries, and their durations for the corpus summary.

Supported inputs: ``.wav`` and ``.flac`` (listed by path; ESPnet reads them
directly) and ``.pcm``, the headerless 16 kHz 16-bit signed little-endian mono
PCM of KsponSpeech, listed as a ``sox ... |`` command that adds a WAV header on
the fly, so no converted copy of the corpus is needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Union

import soundfile

from espnet_l2dual.errors import DataError

PathLike = Union[str, Path]

PCM_RATE = 16000
PCM_BYTES_PER_SAMPLE = 2
AUDIO_SUFFIXES = (".wav", ".flac", ".pcm")


def wav_scp_entry(path: PathLike) -> str:
    """The wav.scp value for ``path``; raises ValueError for an unsupported or unlistable path."""
    path = Path(path)
    text = str(path)
    if any(c.isspace() for c in text):
        raise ValueError(f"audio path '{text}' contains whitespace, which wav.scp cannot hold")
    suffix = path.suffix.lower()
    if suffix == ".pcm":
        return f"sox -t raw -r {PCM_RATE} -b 16 -e signed-integer -c 1 {text} -t wav - |"
    if suffix in (".wav", ".flac"):
        return text
    raise ValueError(f"unsupported audio format '{path.suffix}' of '{text}' (expected {', '.join(AUDIO_SUFFIXES)})")


def listed_audio(audio: Path, source: PathLike, line: Optional[int]) -> str:
    """The wav.scp entry of an audio file a corpus listing names; DataError at ``source:line``
    if the file is missing or cannot be listed."""
    if not audio.is_file():
        raise DataError(source, line, f"missing audio: '{audio}' does not exist")
    try:
        entry = wav_scp_entry(audio.resolve())
    except ValueError as e:
        raise DataError(source, line, str(e)) from None
    problem = audio_problem(audio)
    if problem:
        raise DataError(source, line, f"audio '{audio}' {problem}")
    return entry


def audio_problem(path: Path) -> Optional[str]:
    """Why ``path`` cannot be used as audio (empty, undecodable, no samples), or None.

    Reads the header only (libsndfile), so a corpus of thousands of files is checked in seconds.
    """
    size = path.stat().st_size
    if size == 0:
        return "is empty (0 bytes)"
    if path.suffix.lower() == ".pcm":
        return "has an odd number of bytes (not 16-bit PCM)" if size % PCM_BYTES_PER_SAMPLE else None
    try:
        info = soundfile.info(str(path))
    except Exception as e:  # libsndfile's errors are RuntimeError/LibsndfileError/TypeError
        reason = str(e).split(": ", 1)[-1].strip() or type(e).__name__
        return f"cannot be decoded ({reason})"
    if info.frames <= 0:
        return "holds no samples (a header without audio)"
    if info.format == "WAV":
        return _wav_truncated(path)
    return None


def _wav_truncated(path: Path) -> Optional[str]:
    """A RIFF header that promises more audio than the file holds (a cut copy or download).

    libsndfile silently reads what is there, so the header is compared with the size here.
    A data size of 0 or 0xFFFFFFFF (written by streaming tools) promises nothing.
    """
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        pos = 12
        while pos + 8 <= size:
            f.seek(pos)
            chunk = f.read(8)
            cid, csize = chunk[:4], int.from_bytes(chunk[4:8], "little")
            if cid == b"data":
                if csize not in (0, 0xFFFFFFFF) and pos + 8 + csize > size:
                    have = size - pos - 8
                    return (f"is truncated: its header promises {csize} bytes of audio, the file holds {have} "
                            f"({100 * have // csize}%)")
                return None
            pos += 8 + csize + (csize & 1)
    return None


def audio_duration(path: PathLike) -> float:
    """Seconds of audio in ``path``: from the byte count for ``.pcm``, else from the file header."""
    path = Path(path)
    if path.suffix.lower() == ".pcm":
        return path.stat().st_size / (PCM_RATE * PCM_BYTES_PER_SAMPLE)
    info = soundfile.info(str(path))
    return info.frames / info.samplerate
