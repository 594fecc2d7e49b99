"""Parse the dual transcription convention ``(meaning)/(surface)`` with its disfluency tags.

KsponSpeech and AIHub corpora write one line per utterance in which a span
``(철자전사)/(발음전사)`` gives the spelling (our *meaning*, LEFT) and the
pronunciation (our *surface*, RIGHT): ``나 (먹어요)/(머거요)`` is meaning
``나 먹어요`` and surface ``나 머거요``; ``(3시)/(세 시)`` is meaning ``3시`` and
surface ``세 시``. Text outside spans belongs to both outputs, and a span may be
glued to text (``(3시)/(세 시)에``).

Tags (Kspon style), recognised after the spans are expanded, per output:

* noise tokens, standalone words: ``b/`` breath, ``l/`` laughter, ``o/`` other
  speaker, ``n/`` noise, ``u/`` unintelligible;
* word marks, appended to a word: ``+`` repetition/stutter, ``*`` unclear word,
  ``/`` filler (``음/``).

:class:`TagPolicy` says, for each output separately, what happens to them. By
default (``drop``) noise tokens are removed and word marks are stripped from the
word while *the word itself is kept* (``그+`` -> ``그``); ``drop_marked_words``
removes a marked word altogether; ``keep_*`` leave tags/marks verbatim (they
bypass normalisation, so ``b/`` stays ``b/``). A word that looks like a tag (one Latin
letter and ``/``, e.g. ``x/``) but is not one of the five is an error naming it, unless
``TagPolicy.unknown_tags`` says ``drop`` (remove it) or ``word`` (treat it as a word
with a filler mark, the old behaviour). Everything else is passed through
:func:`~espnet_l2dual.text.normalize.normalize`.

Malformed lines raise :class:`~espnet_l2dual.errors.DataError` with the line and
the 1-based column of the offending character in the *raw* input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple, Union

from espnet_l2dual.errors import DataError
from espnet_l2dual.text.normalize import normalize

NOISE_TAGS = {"b/": "breath", "l/": "laughter", "o/": "other speaker", "n/": "noise", "u/": "unintelligible"}
WORD_MARKS = {"+": "repetition", "*": "unclear", "/": "filler"}

PathLike = Union[str, Path, None]
UNKNOWN_TAG_ACTIONS = ("error", "drop", "word")
_TAG_LIKE = re.compile(r"^[A-Za-z]/$")


@dataclass(frozen=True)
class OutputTagPolicy:
    """What one output does with tags (see the module doc)."""

    keep_noise_tags: bool = False
    keep_word_marks: bool = False
    drop_marked_words: bool = False

    def __post_init__(self) -> None:
        if self.keep_word_marks and self.drop_marked_words:
            raise ValueError("keep_word_marks and drop_marked_words exclude each other")


@dataclass(frozen=True)
class TagPolicy:
    """Tag handling per output; the default drops every tag and mark from both."""

    meaning: OutputTagPolicy = field(default_factory=OutputTagPolicy)
    surface: OutputTagPolicy = field(default_factory=OutputTagPolicy)
    unknown_tags: str = "error"  # error | drop | word

    def __post_init__(self) -> None:
        if self.unknown_tags not in UNKNOWN_TAG_ACTIONS:
            raise ValueError(f"unknown_tags must be one of {', '.join(UNKNOWN_TAG_ACTIONS)}, got '{self.unknown_tags}'")


@dataclass(frozen=True)
class DualTranscript:
    """One utterance's two normalised transcriptions."""

    meaning: str
    surface: str


def _split_spans(text: str, path: PathLike, line: Optional[int], col0: int) -> Tuple[str, str]:
    """Expand ``(m)/(s)`` spans into the raw meaning and surface strings (tags untouched)."""
    meaning: List[str] = []
    surface: List[str] = []
    n = len(text)

    def err(i: int, reason: str) -> DataError:
        return DataError(path, line, reason, column=col0 + i + 1)

    def read_group(start: int) -> Tuple[str, int]:
        """``text[start]`` is '('; return the content and the index after the matching ')'."""
        j = start + 1
        while j < n:
            if text[j] == ")":
                return text[start + 1 : j], j + 1
            if text[j] == "(":
                raise err(start, "unclosed '(': the next '(' comes before its ')'")
            j += 1
        raise err(start, "unbalanced '(': no closing ')'")

    i = 0
    while i < n:
        ch = text[i]
        if ch == ")":
            raise err(i, "unbalanced ')': no opening '('")
        if ch != "(":
            meaning.append(ch)
            surface.append(ch)
            i += 1
            continue
        left, i = read_group(i)
        if i >= n or text[i] != "/":
            raise err(i, "dual span '(...)' is not followed by '/(...)' (missing its second half)")
        if i + 1 >= n or text[i + 1] != "(":
            raise err(i + 1, "')/' must be followed by '(' (second half of the dual span)")
        right, i = read_group(i + 1)
        meaning.append(left)
        surface.append(right)
    return "".join(meaning), "".join(surface)


def _clean_output(raw: str, lang: str, policy: OutputTagPolicy, unknown_tags: str = "error",
                  path: PathLike = None, line: Optional[int] = None) -> str:
    """Apply the tag policy word by word, normalising everything that is not a kept tag."""
    out: List[str] = []
    for word in raw.split():
        if word in NOISE_TAGS:
            if policy.keep_noise_tags:
                out.append(word)
            continue
        if _TAG_LIKE.match(word) and unknown_tags != "word":
            if unknown_tags == "drop":
                continue
            raise DataError(path, line, f"unknown tag '{word}' (known: {' '.join(NOISE_TAGS)}); "
                            "prepare_dual --unknown_tags drop|word says how to treat it")
        stem = word.rstrip("".join(WORD_MARKS))
        marks = word[len(stem) :]
        if marks and not stem:  # a lone mark such as "+" carries no word
            continue
        if marks and policy.drop_marked_words:
            continue
        norm = normalize(stem, lang)
        if not norm:
            continue
        out.append(norm + marks if (marks and policy.keep_word_marks) else norm)
    return " ".join(out)


def parse_dual_transcript(
    text: str,
    lang: str,
    *,
    path: PathLike = None,
    line: Optional[int] = None,
    policy: Optional[TagPolicy] = None,
    column_offset: int = 0,
) -> DualTranscript:
    """Parse one transcript into normalised meaning and surface.

    ``path``/``line`` only label errors; ``column_offset`` is added to reported
    columns when ``text`` is a slice of a longer line (e.g. after the utt id).
    """
    policy = policy or TagPolicy()
    raw_meaning, raw_surface = _split_spans(text, path, line, column_offset)
    meaning = _clean_output(raw_meaning, lang, policy.meaning, policy.unknown_tags, path, line)
    surface = _clean_output(raw_surface, lang, policy.surface, policy.unknown_tags, path, line)
    for name, value in (("meaning", meaning), ("surface", surface)):
        if not value:
            raise DataError(path, line, f"{name} transcription is empty after removing tags and punctuation")
    return DualTranscript(meaning=meaning, surface=surface)


def parse_dual_lines(
    lines: Iterable[str],
    lang: str,
    path: PathLike = None,
    policy: Optional[TagPolicy] = None,
) -> Dict[str, DualTranscript]:
    """Parse ``utt_id transcript`` lines (a Kaldi-style text file) in order; ids must be unique."""
    out: Dict[str, DualTranscript] = {}
    for no, raw in enumerate(lines, start=1):
        row = raw.rstrip("\r\n")
        stripped = row.lstrip()
        if not stripped:
            raise DataError(path, no, "empty line")
        parts = stripped.split(maxsplit=1)
        utt_id = parts[0]
        if len(parts) < 2:
            raise DataError(path, no, f"utterance '{utt_id}' has no transcript")
        if utt_id in out:
            raise DataError(path, no, f"duplicate id '{utt_id}'")
        offset = len(row) - len(stripped) + stripped.index(parts[1], len(utt_id))
        out[utt_id] = parse_dual_transcript(
            parts[1], lang, path=path, line=no, policy=policy, column_offset=offset
        )
    return out


def format_dual_transcript(meaning_words: List[str], surface_words: List[str]) -> str:
    """Write the convention back: plain words where both agree, ``(m)/(s)`` where they differ.

    Word lists of different lengths cannot be aligned word by word, so the whole
    utterance becomes one span. Words must not contain ``(``, ``)`` or whitespace.
    """
    for word in (*meaning_words, *surface_words):
        if not word or any(c in word for c in "()") or any(c.isspace() for c in word):
            raise ValueError(f"cannot write word {word!r} in the dual convention")
    if meaning_words == surface_words:
        return " ".join(meaning_words)
    if len(meaning_words) != len(surface_words):
        return f"({' '.join(meaning_words)})/({' '.join(surface_words)})"
    return " ".join(m if m == s else f"({m})/({s})" for m, s in zip(meaning_words, surface_words))
