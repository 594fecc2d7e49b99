"""Per-language text normalisation, so surface and meaning are compared and tokenised alike.

Policy (both languages):

* Unicode NFC first, so a Hangul syllable typed as decomposed conjoining jamo
  (``ᄆ ᅥ ᆨ``) and the precomposed syllable (``먹``) become the same string.
* Punctuation and symbols (Unicode categories ``P*`` and ``S*``: ``. , ? ! " ~ + *``
  ...) are replaced by a space, not deleted, so ``a,b`` cannot fuse into one word.
  Letters, digits and combining marks are kept.
* Whitespace runs collapse to one space; leading/trailing space is removed.

Korean (``ko``): nothing else; Hangul syllables, compatibility jamo (``ㅋㅋ``),
Latin letters and digits are kept as written.

English (``en``): upper-cased (the ESPnet/Kaldi convention for English corpora);
an apostrophe is kept only *inside* a word (``DON'T``, ``JOHN'S``); quotes around
words are stripped. The typographic apostrophe ``’`` counts as ``'``.

The jamo helpers give the sub-syllable units used for Korean tokens and
divergence: ``먹어요`` has 3 characters but 7 jamo, and the pronunciation
``머거요`` differs from it by 2 jamo edits instead of 2 whole-syllable edits.
"""

from __future__ import annotations

import re
import unicodedata

import jamo

LANGS = ("ko", "en")

_APOSTROPHES = {"\u2019": "'", "\u02bc": "'"}
_SPACES = re.compile(r"\s+")
# an apostrophe with a letter/digit on both sides survives English normalisation
_INNER_APOSTROPHE = re.compile(r"(?<=\w)'(?=\w)")


def _is_strippable(ch: str) -> bool:
    return unicodedata.category(ch)[0] in ("P", "S")


def _strip_punct(text: str, keep_inner_apostrophe: bool) -> str:
    keep = set()
    if keep_inner_apostrophe:
        keep = {m.start() for m in _INNER_APOSTROPHE.finditer(text)}
    return "".join(
        " " if (_is_strippable(ch) and i not in keep) else ch for i, ch in enumerate(text)
    )


def _collapse(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def normalize(text: str, lang: str) -> str:
    """Return ``text`` normalised for ``lang`` (``ko`` or ``en``); see the module doc for the policy."""
    if lang not in LANGS:
        raise ValueError(f"unknown language '{lang}' (expected one of {', '.join(LANGS)})")
    text = unicodedata.normalize("NFC", text)
    if lang == "en":
        for src, dst in _APOSTROPHES.items():
            text = text.replace(src, dst)
        text = _strip_punct(text.upper(), keep_inner_apostrophe=True)
    else:
        text = _strip_punct(text, keep_inner_apostrophe=False)
    return _collapse(text)


def hangul_to_jamo(text: str) -> str:
    """Decompose every Hangul syllable into conjoining jamo (lead, vowel, optional tail).

    Other characters pass through unchanged. Lead and tail consonants are distinct
    code points (``ᄀ`` U+1100 vs ``ᆨ`` U+11A8), so syllable boundaries stay recoverable.
    """
    return jamo.h2j(unicodedata.normalize("NFC", text))


def jamo_to_hangul(text: str) -> str:
    """Recompose conjoining jamo sequences into Hangul syllables (inverse of :func:`hangul_to_jamo`).

    Uses Unicode NFC, which composes lead+vowel(+tail) conjoining jamo exactly as the
    Hangul syllable algorithm defines; the ``jamo`` package only offers a
    per-syllable composer. Jamo that cannot form a syllable are left as they are.
    """
    return unicodedata.normalize("NFC", text)
