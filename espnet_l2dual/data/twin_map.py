"""The ``utt2twin`` table of a twin set: which original each utterance is a twin of, and with which error.

Line format: ``twin_id original_utt_id what``, where ``what`` is ``original`` (the original
itself, mapped to itself), ``canonical`` (no learner error) or the one learner error the twin
carries, ``kind@word:canonical_word>surface_word`` (``word``: 0-based word index in
``text_surface``; e.g. ``th_stopping@1:THIS>DIS``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

ORIGINAL = "original"
CANONICAL = "canonical"


@dataclass(frozen=True)
class TwinError:
    """One learner error as ``utt2twin`` names it."""

    kind: str
    word: int
    canonical: str  # the word without the error
    surface: str  # the word with it

    def __str__(self) -> str:
        return f"{self.kind}@{self.word}:{self.canonical}>{self.surface}"

    @classmethod
    def parse(cls, value: str) -> "TwinError":
        """The inverse of ``str``; a ValueError names what is malformed."""
        kind, at, rest = value.partition("@")
        index, colon, change = rest.partition(":")
        before, arrow, after = change.partition(">")
        if not (kind and at and colon and arrow and index.isdigit() and before and after):
            raise ValueError(f"expected '{ORIGINAL}', '{CANONICAL}' or KIND@WORD:CANONICAL>SURFACE, not '{value}'")
        return cls(kind, int(index), before, after)


def parse_twin_value(value: str) -> Tuple[str, Optional[TwinError], str]:
    """``(original_utt_id, error or None, what)`` of a ``utt2twin`` value; ValueError if malformed."""
    fields = value.split()
    if len(fields) != 2:
        raise ValueError(f"expected 'original_utt_id {CANONICAL}|{ORIGINAL}|KIND@WORD:CANONICAL>SURFACE', "
                         f"got '{value}'")
    orig, what = fields
    if what in (ORIGINAL, CANONICAL):
        return orig, None, what
    return orig, TwinError.parse(what), what
