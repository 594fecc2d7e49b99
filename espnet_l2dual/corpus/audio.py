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
        return wav_scp_entry(audio.resolve())
    except ValueError as e:
        raise DataError(source, line, str(e)) from None


def audio_duration(path: PathLike) -> float:
    """Seconds of audio in ``path``: from the byte count for ``.pcm``, else from the file header."""
    path = Path(path)
    if path.suffix.lower() == ".pcm":
        return path.stat().st_size / (PCM_RATE * PCM_BYTES_PER_SAMPLE)
    info = soundfile.info(str(path))
    return info.frames / info.samplerate
