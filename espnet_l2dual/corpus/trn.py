"""KsponSpeech-style ``.trn`` lists: ``<relative audio path> :: <dual transcript>`` per line.

The transcript follows the dual convention ``(meaning)/(surface)`` with Kspon
tags (see :mod:`espnet_l2dual.text.dual_transcript`). Audio paths are relative
to an audio root.

Speakers: a regular expression with one group, searched in the relative path
(with ``/`` separators). The default takes the parent directory name:
``KsponSpeech_01/KsponSpeech_0001/KsponSpeech_000001.pcm`` -> ``KsponSpeech_0001``.
KsponSpeech publishes no speaker ids; its 1000-file folders are the closest
stand-in (a folder holds consecutive recordings), so "speaker-disjoint" splits
of Kspon are folder-disjoint. The utterance id is ``<speaker>-<file stem>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Pattern, Tuple, Union

from espnet_l2dual.corpus.audio import audio_duration, listed_audio
from espnet_l2dual.corpus.datadir_writer import Utterance
from espnet_l2dual.errors import DataError
from espnet_l2dual.utils.fileio import iter_utf8_lines
from espnet_l2dual.text.dual_transcript import TagPolicy, parse_dual_transcript

PathLike = Union[str, Path]
SEPARATOR = " :: "
DEFAULT_SPEAKER_PATTERN = r"([^/]+)/[^/]+$"
_ID_SAFE = re.compile(r"[^\w.\-]")


def compile_speaker_pattern(pattern: str) -> Pattern[str]:
    """Compile ``pattern``, which must have exactly one capturing group."""
    try:
        regex = re.compile(pattern)
    except re.error as e:
        raise ValueError(f"bad --speaker_pattern '{pattern}': {e}") from None
    if regex.groups != 1:
        raise ValueError(f"--speaker_pattern '{pattern}' must have exactly one group, has {regex.groups}")
    return regex


@dataclass(frozen=True)
class TrnUtterance:
    """An utterance and where it came from (the key a split list may use)."""

    rel_path: str
    utt: Utterance


def _lines(path: Path) -> Iterator[Tuple[int, str]]:
    """Kspon transcripts are often CP949: say how to convert them."""
    return iter_utf8_lines(path, hint="convert with iconv -f cp949 -t utf-8")


def read_trn(
    path: PathLike,
    lang: str,
    audio_root: PathLike,
    speaker_pattern: Pattern[str],
    policy: Optional[TagPolicy] = None,
    seen: Optional[Dict[str, str]] = None,
) -> List[TrnUtterance]:
    """Parse one ``.trn`` file; blank lines are skipped, every other bad line is a DataError (file:line).

    ``seen`` maps utterance ids to ``file:line`` across several files, so a duplicate
    id in a second file names the first one.
    """
    path = Path(path)
    root = Path(audio_root)
    seen = {} if seen is None else seen
    out: List[TrnUtterance] = []
    for no, line in _lines(path):
        if not line.strip():
            continue
        rel, sep, transcript = line.partition(SEPARATOR)
        rel = rel.strip()
        if not sep:
            raise DataError(path, no, f"expected '<audio path>{SEPARATOR}<transcript>' (no '::' found)")
        if not rel:
            raise DataError(path, no, "empty audio path")
        match = speaker_pattern.search(rel)
        if not match or not match.group(1):
            raise DataError(path, no, f"speaker pattern '{speaker_pattern.pattern}' does not match '{rel}'")
        speaker = _ID_SAFE.sub("_", match.group(1))
        utt_id = f"{speaker}-{_ID_SAFE.sub('_', Path(rel).stem)}"
        if utt_id in seen:
            raise DataError(path, no, f"duplicate utterance id '{utt_id}' (first at {seen[utt_id]})")
        audio = root / rel
        wav = listed_audio(audio, path, no)
        offset = line.index(SEPARATOR) + len(SEPARATOR)
        dual = parse_dual_transcript(transcript, lang, path=path, line=no, policy=policy, column_offset=offset)
        seen[utt_id] = f"{path}:{no}"
        utt = Utterance(utt_id, speaker, wav, dual.surface, dual.meaning, lang=lang, duration=audio_duration(audio))
        out.append(TrnUtterance(rel, utt))
    return out
