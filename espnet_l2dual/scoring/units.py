"""Turn a transcription into the units one error rate counts.

Follows ESPnet's scoring: CER is computed on characters with each word boundary
kept as a ``<space>`` unit, WER on whitespace-separated words. Korean is scored on
Hangul syllables (a jamo-level hypothesis is recomposed first, so a jamo model and a
syllable model are compared on the same units); JER, the jamo error rate, is an
extra for Korean. TER is the token error rate of outputs that are already
space-separated units (phones).
"""

from __future__ import annotations

import unicodedata
from typing import List, Optional

import jamo

SPACE = "<space>"
KINDS = ("cer", "wer", "jer", "ter")
# Token types whose text is a sequence of space-separated units (phones), not written words.
TOKEN_UNIT_TYPES = ("word", "phn")


def normalize_spaces(text: str) -> str:
    """Collapse runs of whitespace: spacing differences are not recognition errors."""
    return " ".join(text.split())


def _as_jamo(ch: str, position: str) -> str:
    """Conjoining jamo for compatibility jamo ``ch`` at ``position``, or '' if it cannot be there."""
    out = jamo.hcj_to_jamo(ch, position)  # returns ``ch`` unchanged when invalid there
    return out if out != ch else ""


def _compat_to_conjoining(text: str) -> str:
    """Map Hangul compatibility jamo (ㄱ, ㅏ ...) to conjoining jamo by position.

    A vowel is a medial; a consonant followed by a vowel is a lead; a consonant right
    after a vowel that is not followed by a vowel is a tail when it can be one.
    Anything else stays as written, so an unparsable sequence is scored as it is.
    """
    chars = list(text)
    out: List[str] = []
    for i, ch in enumerate(chars):
        if not jamo.is_hcj(ch):
            out.append(ch)
            continue
        nxt = chars[i + 1] if i + 1 < len(chars) else ""
        vowel = _as_jamo(ch, "vowel")
        next_is_vowel = bool(nxt) and jamo.is_hcj(nxt) and bool(_as_jamo(nxt, "vowel"))
        after_vowel = bool(out) and jamo.is_jamo(out[-1]) and jamo.get_jamo_class(out[-1]) == "vowel"
        if vowel:
            out.append(vowel)
        elif next_is_vowel and _as_jamo(ch, "lead"):
            out.append(_as_jamo(ch, "lead"))
        elif after_vowel and _as_jamo(ch, "tail"):
            out.append(_as_jamo(ch, "tail"))
        else:
            out.append(ch)
    return "".join(out)


def recompose_hangul(text: str) -> str:
    """Compose jamo sequences into Hangul syllables (NFC does exactly lead+vowel(+tail))."""
    if any(jamo.is_hcj(c) for c in text):
        text = _compat_to_conjoining(text)
    return unicodedata.normalize("NFC", text)


def decompose_hangul(text: str) -> str:
    """Split Hangul syllables into conjoining jamo (the units of JER)."""
    return "".join(jamo.h2j(text))


def _chars(text: str) -> List[str]:
    return [SPACE if c == " " else c for c in text]


def to_units(text: str, kind: str, lang: str) -> List[str]:
    """Units of ``text`` for error-rate ``kind`` (cer|wer|jer|ter) in language ``lang``."""
    text = normalize_spaces(text)
    if lang == "ko":
        text = recompose_hangul(text)
    if kind == "cer":
        return _chars(text)
    if kind in ("wer", "ter"):
        return text.split()
    if kind == "jer":
        if lang != "ko":
            raise ValueError("jer (jamo error rate) is defined for Korean only")
        return _chars(decompose_hangul(text))
    raise ValueError(f"unknown unit kind '{kind}' (expected one of {', '.join(KINDS)})")


def kinds_for(lang: str, unit: str) -> List[str]:
    """Error rates reported for one output: always CER and WER, JER for Korean, TER for tokens."""
    if unit not in ("char", "token"):
        raise ValueError(f"unknown output unit '{unit}' (expected char or token)")
    kinds = ["cer", "wer"]
    if lang == "ko":
        kinds.append("jer")
    if unit == "token":
        kinds.append("ter")
    return kinds


def output_unit(token_type: Optional[str]) -> str:
    """The unit system of an output from its model token type: ``token`` (space-separated units
    such as phones: ``word``, ``phn``) or ``char`` (written text: ``char``, ``bpe``, ``jamo``; the
    default token type is ``char``)."""
    return "token" if token_type in TOKEN_UNIT_TYPES else "char"
