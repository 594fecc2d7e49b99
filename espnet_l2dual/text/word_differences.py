"""Where two transcriptions of one recording differ, word by word (difflib alignment).

Shown to a learner: the surface output (what was said) against the meaning output (what was meant).
"""

from __future__ import annotations

import difflib
from typing import Dict, List, Optional, Sequence, Tuple


GAP = "*"


def _mark(words: Sequence[str]) -> List[str]:
    return [f"[{w}]" for w in words]


def _word_opcodes(a: Sequence[str], b: Sequence[str]) -> List[Tuple[str, int, int, int, int]]:
    return difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes()


def mark_differences(meaning: str, surface: str) -> Tuple[str, str]:
    """Bracket the words where the two transcriptions differ (difflib word alignment)."""
    a, b = meaning.split(), surface.split()
    out_a: List[str] = []
    out_b: List[str] = []
    for op, i1, i2, j1, j2 in _word_opcodes(a, b):
        if op == "equal":
            out_a += a[i1:i2]
            out_b += b[j1:j2]
            continue
        out_a += _mark(a[i1:i2]) if i2 > i1 else [f"[{GAP}]"]
        out_b += _mark(b[j1:j2]) if j2 > j1 else [f"[{GAP}]"]
    return " ".join(out_a), " ".join(out_b)


def difference_segments(text: str, other: Optional[str]) -> List[Dict[str, str]]:
    """``text`` as HTML report segments: its words that differ from ``other`` (the other output)
    marked ``S`` (with the other output's words as ``ref``), or ``I`` where ``other`` has none there;
    all ``C`` when ``other`` is None (nothing to compare with)."""
    words = text.split()
    if other is None:
        return [{"op": "C", "text": w + " ", "ref": ""} for w in words]
    theirs = other.split()
    out: List[Dict[str, str]] = []
    for op, i1, i2, j1, j2 in _word_opcodes(words, theirs):
        mark = "C" if op == "equal" else "S" if j2 > j1 else "I"
        ref = " ".join(theirs[j1:j2]) if mark == "S" else ""
        out += [{"op": mark, "text": w + " ", "ref": ref} for w in words[i1:i2]]
    return out
