"""L2-ARCTIC: perceived phones (surface), canonical phones and prompt words (meaning).

Layout: ``<root>/<SPK>/wav/<stem>.wav``, ``<SPK>/transcript/<stem>.txt`` and, for
the ~150 manually annotated utterances per speaker, ``<SPK>/annotation/<stem>.TextGrid``
with tiers ``words`` and ``phones``. Only annotated utterances are used. The
``suitcase_corpus`` directory (spontaneous speech, other layout) is skipped.

Phone labels of the ``phones`` tier and what they give (canonical, perceived):

* ``AH0``             correct: (AH, AH) -- stress digits are stripped everywhere;
* ``DH,D,s``          substitution: (DH, D);
* ``T,sil,d``         deletion: (T, nothing) -- the perceived part is ignored;
* ``sil,AH,a``        addition: (nothing, AH) -- the canonical part is ignored;
* ``sil``/``sp``/``spn``/empty: silence, dropped.

Unclear perceived phones (a documented policy, counted in the summary):

* ``err`` (the annotator heard an error no ARPAbet phone describes): perceived =
  canonical for a substitution, dropped for an addition (``err_labels``);
* a ``*``-marked phone such as ``AH*`` (a distorted phone): perceived = the
  marked phone without ``*`` (``distortion_labels``).

Annotation typos seen in the release (``ER)``, ``V``\\`\\``) are repaired by keeping
only letters, digits and ``*``; ``AX`` is merged into ``AH`` (the 39-phone set).
A label that is still not a phone, or has other than 1 or 3 comma fields, is a
DataError at the TextGrid line.

Surface = perceived phones, text_canonical = canonical phones (both space
separated, uppercase, no stress), meaning = the prompt of ``transcript/<stem>.txt``
normalised (uppercase words), or the ``words`` tier when that file is missing.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple, Union

from espnet_l2dual.corpus.audio import audio_problem
from espnet_l2dual.corpus.textgrid import TextGrid, read_textgrid
from espnet_l2dual.errors import DataError
from espnet_l2dual.text.normalize import normalize

PathLike = Union[str, Path]

# One speaker per L1 in each of dev and test (the split most L2-ARCTIC papers use).
DEFAULT_TEST_SPEAKERS = ("NJS", "TLV", "TNI", "TXHC", "YKWK", "ZHAA")
DEFAULT_DEV_SPEAKERS = ("MBMPS", "THV", "SVBI", "NCC", "YDCK", "YBAA")
SPEAKER_L1 = {
    **dict.fromkeys(("ABA", "SKA", "YBAA", "ZHAA"), "arabic"),
    **dict.fromkeys(("BWC", "LXC", "NCC", "TXHC"), "mandarin"),
    **dict.fromkeys(("ASI", "RRBI", "SVBI", "TNI"), "hindi"),
    **dict.fromkeys(("HJK", "HKK", "YDCK", "YKWK"), "korean"),
    **dict.fromkeys(("EBVS", "ERMS", "MBMPS", "NJS"), "spanish"),
    **dict.fromkeys(("HQTV", "PNV", "THV", "TLV"), "vietnamese"),
}
SILENCES = frozenset({"", "SIL", "SP", "SPN"})
PHONE_MERGES = {"AX": "AH"}
SKIPPED_DIRS = frozenset({"suitcase_corpus"})
_PHONE = re.compile(r"[A-Z]+")


@dataclass(frozen=True)
class AnnotatedUtterance:
    speaker: str
    stem: str
    wav: Path
    perceived: List[str]
    canonical: List[str]
    meaning: str


def _clean(label: str) -> Tuple[str, bool]:
    """Uppercase, typo-free, stress-free label and whether it carried a ``*`` distortion mark."""
    kept = re.sub(r"[^A-Z0-9*]", "", label.upper())
    distorted = "*" in kept
    phone = re.sub(r"[0-9*]", "", kept)
    return PHONE_MERGES.get(phone, phone), distorted


def _phone(label: str, path: PathLike, line: int) -> str:
    phone, _ = _clean(label)
    if not _PHONE.fullmatch(phone) or phone in SILENCES or phone == "ERR":
        raise DataError(path, line, f"'{label}' is not a phone")
    return phone


def parse_phone_label(
    label: str, path: PathLike, line: int, counts: Counter
) -> Tuple[Optional[str], Optional[str]]:
    """``(canonical, perceived)`` of one ``phones`` tier label (None = absent); see the module doc."""
    fields = [f.strip() for f in label.split(",")]
    if len(fields) == 1:
        phone, _ = _clean(fields[0])
        if phone in SILENCES:
            return None, None
        phone = _phone(fields[0], path, line)
        counts["correct_phones"] += 1
        return phone, phone
    if len(fields) != 3:
        raise DataError(path, line, f"phone label '{label}': expected 'CPL,PPL,s|d|a' (3 fields), got {len(fields)}")
    cpl, ppl, kind = fields[0], fields[1], fields[2].lower()
    if kind not in ("s", "d", "a"):
        raise DataError(path, line, f"phone label '{label}': error type '{fields[2]}' is not s, d or a")
    if kind == "d":
        counts["deletions"] += 1
        return _phone(cpl, path, line), None
    perceived_clean, distorted = _clean(ppl)
    if kind == "a":
        counts["additions"] += 1
        if perceived_clean == "ERR":
            counts["err_labels"] += 1
            return None, None
        counts["distortion_labels"] += distorted
        return None, _phone(ppl, path, line)
    counts["substitutions"] += 1
    canonical = _phone(cpl, path, line)
    if perceived_clean == "ERR":
        counts["err_labels"] += 1
        return canonical, canonical
    counts["distortion_labels"] += distorted
    return canonical, _phone(ppl, path, line)


def phones_of(grid: TextGrid, counts: Counter) -> Tuple[List[str], List[str]]:
    """``(perceived, canonical)`` phone sequences of an annotation TextGrid."""
    tier = grid.tier("phones")
    if tier.kind != "IntervalTier":
        raise DataError(grid.path, tier.line, "tier 'phones' is not an IntervalTier")
    perceived: List[str] = []
    canonical: List[str] = []
    for iv in tier.intervals:
        c, p = parse_phone_label(iv.text, grid.path, iv.line, counts)
        if c is not None:
            canonical.append(c)
        if p is not None:
            perceived.append(p)
    if not perceived or not canonical:
        raise DataError(grid.path, tier.line, "tier 'phones' has no perceived or no canonical phones")
    return perceived, canonical


def _meaning(transcript: Path, grid: TextGrid) -> str:
    if transcript.is_file():
        try:
            text = transcript.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as e:
            raise DataError(transcript, None, f"not UTF-8 ({e.reason} at byte {e.start})") from None
        source: PathLike = transcript
    else:
        tier = grid.tier("words")
        text = " ".join(iv.text for iv in tier.intervals if iv.text.strip().upper() not in SILENCES)
        source = f"{grid.path} (tier 'words')"
    meaning = normalize(text, "en")
    if not meaning:
        raise DataError(source, 1, "empty prompt")
    return meaning


def speaker_dirs(root: PathLike) -> List[Path]:
    """Speaker directories under ``root``: those with an ``annotation`` folder."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(root, None, "L2-ARCTIC root is not a directory")
    return sorted(
        d for d in root.iterdir() if d.is_dir() and d.name not in SKIPPED_DIRS and (d / "annotation").is_dir()
    )


def read_annotated(spk_dir: Path, textgrid: Path, counts: Counter) -> AnnotatedUtterance:
    """One annotated utterance; a DataError (file:line) if any of its parts is missing or malformed."""
    stem = textgrid.stem
    wav = spk_dir / "wav" / f"{stem}.wav"
    if not wav.is_file():
        raise DataError(textgrid, None, f"missing audio: '{wav}' does not exist")
    problem = audio_problem(wav)
    if problem:
        raise DataError(textgrid, None, f"audio '{wav}' {problem}")
    grid = read_textgrid(textgrid)
    mine: Counter = Counter()  # merged only on success, so a skipped file counts nothing
    perceived, canonical = phones_of(grid, mine)
    meaning = _meaning(spk_dir / "transcript" / f"{stem}.txt", grid)
    counts.update(mine)
    return AnnotatedUtterance(spk_dir.name, stem, wav, perceived, canonical, meaning)
