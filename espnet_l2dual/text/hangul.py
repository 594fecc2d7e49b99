"""Hangul syllable <-> (initial, medial, final) jamo, by Unicode arithmetic.

A precomposed syllable is ``0xAC00 + (initial * 21 + medial) * 28 + final``.
Jamo are written as compatibility letters (``ㄱ``, ``ㅏ``) so that rule tables
read like a Korean grammar book; an empty final is ``""``.
"""

from __future__ import annotations

from typing import List, Optional

INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
MEDIALS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
FINALS = ["", "ㄱ", "ㄲ", "ㄳ", "ㄴ", "ㄵ", "ㄶ", "ㄷ", "ㄹ", "ㄺ", "ㄻ", "ㄼ", "ㄽ", "ㄾ",
          "ㄿ", "ㅀ", "ㅁ", "ㅂ", "ㅄ", "ㅅ", "ㅆ", "ㅇ", "ㅈ", "ㅊ", "ㅋ", "ㅌ", "ㅍ", "ㅎ"]

_BASE = 0xAC00
_LAST = _BASE + 19 * 21 * 28 - 1


class Syllable:
    """A mutable decomposed syllable, so rules can rewrite one jamo at a time."""

    __slots__ = ("initial", "medial", "final")

    def __init__(self, initial: str, medial: str, final: str = "") -> None:
        self.initial, self.medial, self.final = initial, medial, final

    def compose(self) -> str:
        return chr(_BASE + (INITIALS.index(self.initial) * 21 + MEDIALS.index(self.medial)) * 28
                   + FINALS.index(self.final))

    def __repr__(self) -> str:
        return f"Syllable({self.initial}{self.medial}{self.final})"


def is_hangul_syllable(ch: str) -> bool:
    return _BASE <= ord(ch) <= _LAST


def decompose(ch: str) -> Optional[Syllable]:
    """The syllable's jamo, or None for any other character."""
    if not is_hangul_syllable(ch):
        return None
    code = ord(ch) - _BASE
    return Syllable(INITIALS[code // 588], MEDIALS[(code % 588) // 28], FINALS[code % 28])


def split_runs(word: str) -> List[object]:
    """Split a word into runs: a list of Syllables per Hangul run, a str per other run."""
    runs: List[object] = []
    for ch in word:
        syl = decompose(ch)
        if syl is None:
            if runs and isinstance(runs[-1], str):
                runs[-1] += ch
            else:
                runs.append(ch)
        else:
            if runs and isinstance(runs[-1], list):
                runs[-1].append(syl)
            else:
                runs.append([syl])
    return runs


def join_runs(runs: List[object]) -> str:
    return "".join(r if isinstance(r, str) else "".join(s.compose() for s in r) for r in runs)
