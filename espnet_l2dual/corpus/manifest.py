"""The ``manifest`` corpus: a TSV that names every utterance explicitly.

Columns: ``utt_id<TAB>wav<TAB>speaker<TAB>surface<TAB>meaning[<TAB>split]``; an
optional first line whose first column is ``utt_id`` is a header. Relative wav paths are
relative to the TSV's directory. Either every row has the ``split`` column
(``train``, ``dev`` or ``test``) or none has. Surface and meaning are normalised
for the language (punctuation removed; English upper-cased) unless
``normalize_text`` is off. Every bad row is a DataError naming file:line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Union

from espnet_l2dual.corpus.audio import audio_duration, listed_audio
from espnet_l2dual.corpus.datadir_writer import Utterance
from espnet_l2dual.corpus.split import SETS
from espnet_l2dual.errors import DataError
from espnet_l2dual.utils.fileio import iter_utf8_lines
from espnet_l2dual.text.normalize import normalize

PathLike = Union[str, Path]
COLUMNS = ("utt_id", "wav", "speaker", "surface", "meaning", "split")


@dataclass(frozen=True)
class ManifestRow:
    utt: Utterance
    split: Optional[str]


def read_manifest(path: PathLike, lang: str, normalize_text: bool = True) -> List[ManifestRow]:
    """All rows of the manifest ``path`` (see the module doc)."""
    path = Path(path)
    base = path.parent
    rows: List[ManifestRow] = []
    first_line: Dict[str, int] = {}
    width: Optional[int] = None
    for no, line in iter_utf8_lines(path):
        if no == 1 and line.split("\t")[0].strip() == "utt_id":
            continue
        if not line.strip():
            raise DataError(path, no, "empty line")
        fields = line.split("\t")
        if len(fields) not in (5, 6):
            raise DataError(path, no, f"expected 5 or 6 tab-separated columns ({' '.join(COLUMNS)}), got {len(fields)}")
        if width is not None and len(fields) != width:
            raise DataError(
                path, no, f"{len(fields)} columns, but earlier rows have {width} (split column: all rows or none)"
            )
        width = len(fields)
        fields = [x.strip() for x in fields]
        for name, value in zip(COLUMNS, fields):
            if not value:
                raise DataError(path, no, f"empty {name} column", column=COLUMNS.index(name) + 1)
        utt_id, wav, speaker, surface, meaning = fields[:5]
        for name, value in (("utt_id", utt_id), ("speaker", speaker)):
            if any(c.isspace() for c in value):
                raise DataError(path, no, f"{name} '{value}' contains whitespace")
        if utt_id in first_line:
            raise DataError(path, no, f"duplicate utt_id '{utt_id}' (first on line {first_line[utt_id]})")
        first_line[utt_id] = no
        split = fields[5] if width == 6 else None
        if split is not None and split not in SETS:
            raise DataError(path, no, f"split '{split}' is not one of {'|'.join(SETS)}", column=6)
        audio = Path(wav) if Path(wav).is_absolute() else base / wav
        entry = listed_audio(audio, path, no)
        if normalize_text:
            surface, meaning = normalize(surface, lang), normalize(meaning, lang)
            for name, value in (("surface", surface), ("meaning", meaning)):
                if not value:
                    raise DataError(path, no, f"{name} is empty after normalisation")
        utt = Utterance(utt_id, speaker, entry, surface, meaning, lang=lang, duration=audio_duration(audio))
        rows.append(ManifestRow(utt, split))
    if not rows:
        raise DataError(path, None, "no utterances")
    return rows
