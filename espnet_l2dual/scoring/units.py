"""Turn a transcription into the units one error rate counts.

Follows ESPnet's scoring: CER is computed on characters with each word boundary
kept as a ``<space>`` unit, WER on whitespace-separated words. Korean is scored on
Hangul syllables (a jamo-level hypothesis is recomposed first, so a jamo model and a
syllable model are compared on the same units); JER, the jamo error rate, is an
extra for Korean. TER is the token error rate of outputs that are already
space-separated units; for phones it is the phone error rate (PER).

Each output has one *headline* error rate, the one tables and tests of a difference
use: CER for character outputs (Korean: on syllables), PER for phone outputs, TER for
other token outputs. The CER of phone symbols counts letters of ``DH`` and ``IH``,
which is not an error rate of the phones, so it is never a phone output's headline.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional

import jamo

SPACE = "<space>"
KINDS = ("cer", "wer", "jer", "ter")
# Token types whose text is a sequence of space-separated units (phones), not written words.
TOKEN_UNIT_TYPES = ("word", "phn")
# what one output's units are: characters, phones, or other space-separated tokens (words)
UNITS = ("char", "phone", "token")
# the 39 phones of CMUdict / L2-ARCTIC (stress removed): a word-token output whose token list
# holds only these is a phone output
ARPABET = frozenset(
    "AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH "
    "UH UW V W Y Z ZH".split())
SPECIAL_TOKENS = frozenset({"<blank>", "<unk>", "<sos/eos>", "<sos>", "<eos>", "<space>", "<pad>"})


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


def check_unit(unit: str) -> str:
    if unit not in UNITS:
        raise ValueError(f"unknown output unit '{unit}' (expected one of {', '.join(UNITS)})")
    return unit


def is_space_separated(unit: str) -> bool:
    """Phone and token outputs are sequences of whitespace-separated symbols."""
    return check_unit(unit) != "char"


def kinds_for(lang: str, unit: str) -> List[str]:
    """Error rates reported for one output: always CER and WER, JER for Korean, TER for tokens/phones."""
    check_unit(unit)
    kinds = ["cer", "wer"]
    if lang == "ko":
        kinds.append("jer")
    if is_space_separated(unit):
        kinds.append("ter")
    return kinds


@dataclass(frozen=True)
class Headline:
    """The error rate an output is judged by: ``name`` for tables, ``kind`` for the units counted.

    Stage 9 leaves its sclite files in ``score_<kind>/``, which the paired bootstrap reads.
    """

    name: str
    kind: str
    unit: str

    @property
    def score_subdir(self) -> str:
        return f"score_{self.kind}"

    def to_json(self, value: float) -> Dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "unit": self.unit, "value": value,
                "score_subdir": self.score_subdir}


def headline(unit: str) -> Headline:
    """CER for characters (Korean: syllables, see :func:`to_units`), PER for phones, TER for other tokens."""
    check_unit(unit)
    if unit == "phone":
        return Headline("PER", "ter", unit)
    if unit == "token":
        return Headline("TER", "ter", unit)
    return Headline("CER", "cer", unit)


def headline_from_json(entry: Mapping[str, Any]) -> Headline:
    """The :class:`Headline` a results.json ``headline`` block names; KeyError/ValueError if it is not one."""
    h = headline(entry["unit"])
    if (entry["name"], entry["kind"]) != (h.name, h.kind):
        raise ValueError(f"headline {entry['name']} ({entry['kind']}) is not the one of unit '{h.unit}' "
                         f"({h.name}, {h.kind})")
    return h


def is_phone_inventory(tokens: Iterable[str]) -> bool:
    """True when every non-special token is an ARPAbet phone (and there is at least one)."""
    symbols = {t for t in tokens if t not in SPECIAL_TOKENS}
    return bool(symbols) and symbols <= ARPABET


def unit_from_config(conf: Mapping[str, Any], output: str) -> str:
    """The unit of ``output`` in a model's config.yaml.

    ``phn`` tokens are phones; ``word`` tokens are phones when the token list holds only
    ARPAbet phones (L2-ARCTIC perceived phones), else generic tokens; the rest are characters
    (``char``, ``jamo``, ``bpe`` outputs are scored on characters).
    """
    token_type = conf.get(f"{output}_token_type")
    if token_type == "phn":
        return "phone"
    if token_type == "word":
        tokens: Optional[Iterable[str]] = conf.get(f"{output}_token_list")
        return "phone" if isinstance(tokens, list) and is_phone_inventory(tokens) else "token"
    return "char"


def output_unit(token_type: Optional[str]) -> str:
    """The unit system of an output from its model token type: ``token`` (space-separated units
    such as phones: ``word``, ``phn``) or ``char`` (written text: ``char``, ``bpe``, ``jamo``; the
    default token type is ``char``)."""
    return "token" if token_type in TOKEN_UNIT_TYPES else "char"
