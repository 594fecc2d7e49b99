"""The ``manifest`` corpus: a TSV that names every utterance explicitly.

Columns: ``utt_id<TAB>wav<TAB>speaker<TAB>surface<TAB>meaning[<TAB>split[<TAB>canonical]]``;
an optional first line whose first column is ``utt_id`` is a header, and a header names the
columns (any order; ``split`` and ``canonical`` optional), so ``canonical`` can come without
``split``. ``canonical`` is the expected pronunciation in surface units (``text_canonical``,
for mispronunciation detection). Relative wav paths are relative to the TSV's directory.
Every row has the same columns (``split``: ``train``, ``dev`` or ``test``). Surface and meaning are normalised
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
COLUMNS = ("utt_id", "wav", "speaker", "surface", "meaning", "split", "canonical")
REQUIRED = COLUMNS[:5]


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
    names: Optional[List[str]] = None  # from the header; else positional
    for no, line in iter_utf8_lines(path):
        if no == 1 and line.split("\t")[0].strip() == "utt_id":
            names = [x.strip() for x in line.split("\t")]
            unknown = [n for n in names if n not in COLUMNS]
            missing = [n for n in REQUIRED if n not in names]
            if unknown or missing or len(set(names)) != len(names):
                raise DataError(path, no, f"header columns must be {' '.join(REQUIRED)} [split] [canonical] "
                                f"(unknown: {' '.join(unknown) or '-'}; missing: {' '.join(missing) or '-'})")
            continue
        if not line.strip():
            raise DataError(path, no, "empty line")
        fields = line.split("\t")
        if names is None and len(fields) not in (5, 6, 7):
            raise DataError(path, no, f"expected 5, 6 or 7 tab-separated columns ({' '.join(COLUMNS)}), "
                            f"got {len(fields)}")
        if names is not None and len(fields) != len(names):
            raise DataError(path, no, f"expected {len(names)} tab-separated columns as the header names "
                            f"({' '.join(names)}), got {len(fields)}")
        if width is not None and len(fields) != width:
            raise DataError(
                path, no, f"{len(fields)} columns, but earlier rows have {width} (split column: all rows or none)"
            )
        width = len(fields)
        row = dict(zip(names or COLUMNS, (x.strip() for x in fields)))
        for k, name in enumerate(names or COLUMNS[:width]):
            if not row[name]:
                raise DataError(path, no, f"empty {name} column", column=k + 1)
        utt_id, wav, speaker, surface, meaning = (row[n] for n in REQUIRED)
        for name, value in (("utt_id", utt_id), ("speaker", speaker)):
            if any(c.isspace() for c in value):
                raise DataError(path, no, f"{name} '{value}' contains whitespace")
        if utt_id in first_line:
            raise DataError(path, no, f"duplicate utt_id '{utt_id}' (first on line {first_line[utt_id]})")
        first_line[utt_id] = no
        split, canonical = row.get("split"), row.get("canonical")
        if split is not None and split not in SETS:
            raise DataError(path, no, f"split '{split}' is not one of {'|'.join(SETS)}",
                            column=(names or list(COLUMNS)).index("split") + 1)
        audio = Path(wav) if Path(wav).is_absolute() else base / wav
        entry = listed_audio(audio, path, no)
        if normalize_text:
            surface, meaning = normalize(surface, lang), normalize(meaning, lang)
            canonical = normalize(canonical, lang) if canonical is not None else None
            for name, value in (("surface", surface), ("meaning", meaning), ("canonical", canonical)):
                if value is not None and not value:
                    raise DataError(path, no, f"{name} is empty after normalisation")
        utt = Utterance(utt_id, speaker, entry, surface, meaning, canonical=canonical, lang=lang,
                        duration=audio_duration(audio))
        rows.append(ManifestRow(utt, split))
    if not rows:
        raise DataError(path, None, "no utterances")
    return rows
