"""speechocean762 (Zhang et al., Interspeech 2021): read-aloud English of Mandarin-L1 speakers.

Official release layout under the root::

    WAVE/SPEAKER<spk>/<utt>.WAV
    train/{wav.scp,text,utt2spk,spk2age,spk2gender}   (125 speakers, 2,500 utterances)
    test/{...}                                        (125 other speakers, 2,500 utterances)
    resource/text-phone        <utt>.<word index> <canonical phones of that word>
    resource/scores.json       expert scores; per word ``phones`` and ``mispronunciations``
                               (also accepted at the root, where the README of the release draws it)

What the adapter makes of it:

* meaning = the words of ``<set>/text``;
* ``text_canonical`` = the canonical phones of ``resource/text-phone``, words in index
  order, with stress digits and the word-position marks ``_B _I _E _S`` stripped;
* surface = the perceived phones when ``scores.json`` is there: the canonical phones of
  each word with its annotated ``mispronunciations`` applied at ``index``. A
  ``pronounced-phone`` of ``<DEL>`` deletes the phone; ``X*`` ("mostly like X") gives ``X``
  (``distortion_labels``); ``<unk>`` (the annotators could not name the sound) keeps the
  canonical phone (``unk_labels``) -- the same policy as L2-ARCTIC's ``err`` and ``*``.
  Without ``scores.json`` the surface is the canonical phones, the log says so, and the
  surface output is then phone recognition, not perceived-error transcription.

Scores mark only phones with accuracy below 0.5, so the corpus has no phone insertions.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from espnet_l2dual.errors import DataError
from espnet_l2dual.scoring.units import ARPABET
from espnet_l2dual.utils.fileio import PathLike, iter_utf8_lines

OFFICIAL_SETS = ("train", "test")
L1 = "mandarin"
_POSITION = re.compile(r"_[BIES]$")
DELETED = "<DEL>"
UNKNOWN = "<unk>"


@dataclass(frozen=True)
class Scores:
    """``scores.json``: the words of each utterance and the line where its entry starts."""

    path: Path
    words: Dict[str, List["ScoredWord"]]
    lines: Dict[str, int]


@dataclass(frozen=True)
class ScoredWord:
    """One word of ``scores.json``: its canonical phones and ``{index: pronounced label}``."""

    text: str
    phones: List[str]
    pronounced: Dict[int, str]


def strip_phone(label: str) -> str:
    """``'IY0_E'`` -> ``'IY'``: stress digits and word-position marks dropped, uppercase."""
    return re.sub(r"[0-9]", "", _POSITION.sub("", label.strip().upper()))


def _phone(label: str, path: PathLike, line: Optional[int], where: str) -> str:
    phone = strip_phone(label)
    if phone not in ARPABET:
        raise DataError(path, line, f"{where}'{label}' is not one of the 39 ARPAbet phones")
    return phone


def read_kaldi_table(path: Path) -> Dict[str, Tuple[int, str]]:
    """``{key: (line, value)}`` of a release table (tab or space separated); duplicates are errors."""
    if not path.is_file():
        raise DataError(path, None, "missing file of the speechocean762 release")
    out: Dict[str, Tuple[int, str]] = {}
    for no, line in iter_utf8_lines(path):
        if not line.strip():
            continue
        parts = line.strip().split(None, 1)
        if len(parts) != 2:
            raise DataError(path, no, f"expected '<key> <value>', got '{line.strip()}'")
        if parts[0] in out:
            raise DataError(path, no, f"duplicate key '{parts[0]}' (first at line {out[parts[0]][0]})")
        out[parts[0]] = (no, parts[1].strip())
    return out


def read_text_phone(path: Path) -> Dict[str, List[Tuple[int, List[str]]]]:
    """``{utt: [(line, phones of word 0), (line, phones of word 1), ...]}`` from ``resource/text-phone``."""
    words: Dict[str, Dict[int, Tuple[int, List[str]]]] = {}
    for key, (no, value) in read_kaldi_table(path).items():
        utt, dot, index = key.rpartition(".")
        if not dot or not index.isdigit():
            raise DataError(path, no, f"key '{key}' is not '<utterance>.<word index>'")
        phones = [_phone(p, path, no, "") for p in value.split()]
        words.setdefault(utt, {})[int(index)] = (no, phones)
    out: Dict[str, List[Tuple[int, List[str]]]] = {}
    for utt, by_index in words.items():
        missing = sorted(set(range(len(by_index))) - set(by_index))
        if missing:
            first_line = min(no for no, _ in by_index.values())
            raise DataError(path, first_line, f"utterance '{utt}' has no word {missing[0]} (indices must be 0..n-1)")
        out[utt] = [by_index[i] for i in range(len(by_index))]
    return out


def _key_lines(text: str, keys: List[str]) -> Dict[str, int]:
    """Line of each top-level ``"<key>":`` in a JSON text, for error messages."""
    wanted = set(keys)
    out: Dict[str, int] = {}
    for no, line in enumerate(text.splitlines(), 1):
        m = re.match(r'\s*"([^"]+)"\s*:\s*\{', line)
        if m and m.group(1) in wanted and m.group(1) not in out:
            out[m.group(1)] = no
    return out


def read_scores(path: Path) -> Scores:
    """The words of each utterance of ``scores.json``; a malformed entry is a DataError at its line."""
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except UnicodeDecodeError as e:
        raise DataError(path, None, f"not UTF-8 ({e.reason} at byte {e.start})") from None
    except json.JSONDecodeError as e:
        raise DataError(path, e.lineno, f"not JSON: {e.msg}", column=e.colno) from None
    if not isinstance(data, dict):
        raise DataError(path, 1, "expected a JSON object keyed by utterance id")
    lines = _key_lines(text, list(data))
    out: Dict[str, List[ScoredWord]] = {}
    for utt, entry in data.items():
        line = lines.get(utt)
        words = entry.get("words") if isinstance(entry, dict) else None
        if not isinstance(words, list):
            raise DataError(path, line, f"utterance '{utt}' has no list 'words'")
        out[utt] = [_scored_word(path, line, utt, i, w) for i, w in enumerate(words)]
    return Scores(path, out, lines)


def _scored_word(path: Path, line: Optional[int], utt: str, i: int, word: object) -> ScoredWord:
    where = f"utterance '{utt}' word {i}: "
    if not isinstance(word, dict) or not isinstance(word.get("phones"), list):
        raise DataError(path, line, f"{where}expected an object with a list 'phones'")
    phones = [_phone(str(p), path, line, where) for p in word["phones"]]
    pronounced: Dict[int, str] = {}
    for m in word.get("mispronunciations") or []:
        try:
            index, canonical, said = int(m["index"]), str(m["canonical-phone"]), str(m["pronounced-phone"])
        except (KeyError, TypeError, ValueError):
            raise DataError(path, line, f"{where}mispronunciation {m!r} needs index, canonical-phone, "
                                        "pronounced-phone") from None
        if not 0 <= index < len(phones):
            raise DataError(path, line, f"{where}mispronunciation index {index} outside its {len(phones)} phones")
        if strip_phone(canonical) != phones[index]:
            raise DataError(path, line, f"{where}mispronunciation at {index} names canonical '{canonical}', "
                                        f"the word has '{phones[index]}' there")
        pronounced[index] = said.strip()
    return ScoredWord(str(word.get("text", "")), phones, pronounced)


def perceived_phones(
    word: ScoredWord, counts: Counter, path: PathLike = "scores.json", where: str = "", line: Optional[int] = None
) -> List[str]:
    """The phones the annotators heard for ``word`` (policy in the module doc)."""
    out: List[str] = []
    for i, phone in enumerate(word.phones):
        said = word.pronounced.get(i)
        if said is None:
            out.append(phone)
            continue
        if said.upper() == DELETED.upper():
            counts["deletions"] += 1
            continue
        if said.lower() == UNKNOWN:
            counts["unk_labels"] += 1
            out.append(phone)
            continue
        if said.endswith("*"):
            counts["distortion_labels"] += 1
            said = said[:-1]
        heard = _phone(said, path, line, where)
        counts["substitutions" if heard != phone else "same_as_canonical"] += 1
        out.append(heard)
    return out


def scores_path(root: Path) -> Optional[Path]:
    """``scores.json`` of the release (``resource/`` or the root), or None when it is absent."""
    for p in (root / "resource" / "scores.json", root / "scores.json"):
        if p.is_file():
            return p
    return None
