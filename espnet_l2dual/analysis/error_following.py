"""Does a model's surface output follow an injected learner error, or normalise it away?

A single-error twin differs from its canonical twin in exactly one learner error, so for
each twin we can ask what the surface hypothesis says at that place: the error form
(``follows``: the model transcribes what was said), the canonical form (``normalises``:
the model writes what was meant) or anything else (``other``, e.g. half of the error).
A model trained with the meaning task pulling on the shared encoder may normalise more;
the difference of normalisation rates between two models on the same twins is measured
directly, with no correlation across different utterances.

The place is the error's span: the words where the erroneous surface and the canonical
one differ. The hypothesis is aligned to the
erroneous surface with python-Levenshtein's character ``opcodes``; the hypothesis
characters aligned to the span (widened to whole edit operations that touch it, and the
canonical span widened by as much) are compared with the error form and the canonical form.

Rates are ratios of summed counts over errors, with a speaker-blocked bootstrap
interval (speakers, then utterances: the twins of one original utterance are one unit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import Levenshtein
import numpy as np

from espnet_l2dual.data.twin_map import parse_twin_value
from espnet_l2dual.scoring.blocked_bootstrap import (DEFAULT_RESAMPLES, SPEAKERS, Resampled, resample,
                                                     speaker_of)

FOLLOWS, NORMALISES, OTHER = "follows", "normalises", "other"
OUTCOMES = (FOLLOWS, NORMALISES, OTHER)
Span = Tuple[int, int]


def error_spans(canonical: str, erroneous: str) -> Tuple[Span, Span]:
    """``(span in canonical, span in erroneous)``: the words where the two differ.

    Common prefix and suffix are removed, then the span is widened to whole words (at
    spaces): a respelling like THINK -> TINK is one word changed, not one letter dropped.
    """
    n = min(len(canonical), len(erroneous))
    p = 0
    while p < n and canonical[p] == erroneous[p]:
        p += 1
    s = 0
    while s < n - p and canonical[-1 - s] == erroneous[-1 - s]:
        s += 1
    return _whole_words(canonical, p, len(canonical) - s), _whole_words(erroneous, p, len(erroneous) - s)


def _whole_words(text: str, a: int, b: int) -> Span:
    end = text.find(" ", b)
    return text.rfind(" ", 0, a) + 1, len(text) if end < 0 else end


def aligned_piece(ref: str, hyp: str, span: Span) -> Tuple[str, Span]:
    """The characters of ``hyp`` aligned to ``ref[span]``, and the span widened to the edit operations used.

    Operations that overlap the span, and insertions at or inside its ends, belong to it whole.
    """
    a, b = span
    lo_ref, hi_ref = a, b
    lo_hyp: Optional[int] = None
    hi_hyp: Optional[int] = None

    def take(j1: int, j2: int) -> None:
        nonlocal lo_hyp, hi_hyp
        lo_hyp = j1 if lo_hyp is None else min(lo_hyp, j1)
        hi_hyp = j2 if hi_hyp is None else max(hi_hyp, j2)

    for tag, i1, i2, j1, j2 in Levenshtein.opcodes(ref, hyp):
        if tag == "equal":
            if i1 <= a <= i2 or i1 <= b <= i2 or (a <= i1 and i2 <= b):
                lo, hi = max(i1, a), min(i2, b)
                if lo <= hi:
                    take(j1 + lo - i1, j1 + hi - i1)
        elif tag == "insert":
            if a <= i1 <= b:
                take(j1, j2)
        elif i1 < b and i2 > a or (a == b and i1 < a < i2):  # replace / delete touching the span
            lo_ref, hi_ref = min(lo_ref, i1), max(hi_ref, i2)
            take(j1, j2)
    if lo_hyp is None or hi_hyp is None:
        return "", (lo_ref, hi_ref)
    return hyp[lo_hyp:hi_hyp], (lo_ref, hi_ref)


def classify(hyp: str, canonical: str, erroneous: str) -> str:
    """``follows``, ``normalises`` or ``other``: what ``hyp`` says where ``erroneous`` has its one error."""
    (ca, cb), (ea, eb) = error_spans(canonical, erroneous)
    if (ca, cb) == (ea, eb) and canonical[ca:cb] == erroneous[ea:eb]:
        raise ValueError(f"no error: the canonical and the erroneous surface are the same ('{canonical}')")
    piece, (wa, wb) = aligned_piece(erroneous, hyp, (ea, eb))
    error_form = erroneous[wa:wb]
    canonical_form = canonical[ca - (ea - wa): cb + (wb - eb)]
    if piece == error_form:
        return FOLLOWS
    if piece == canonical_form:
        return NORMALISES
    return OTHER


@dataclass(frozen=True)
class ErrorOutcome:
    """One injected error (a single-error twin) and what a model's surface hypothesis did with it."""

    twin: str
    original: str
    speaker: str
    kind: str
    outcome: str


def classify_twins(utt2twin: Mapping[str, str], text_canonical: Mapping[str, str],
                   text_surface: Mapping[str, str], hyps: Mapping[str, str],
                   utt2spk: Optional[Mapping[str, str]] = None) -> List[ErrorOutcome]:
    """An outcome per single-error twin of a twin set (``original``/``canonical`` lines are skipped).

    A twin without a hypothesis is an error: a missing decode would bias the rates.
    """
    out = []
    for twin, value in sorted(utt2twin.items()):
        original, error, _ = parse_twin_value(value)
        if error is None:
            continue
        if twin not in hyps:
            raise ValueError(f"no surface hypothesis for twin '{twin}'")
        speaker = utt2spk[twin] if utt2spk is not None else speaker_of(twin)
        outcome = classify(hyps[twin], text_canonical[twin], text_surface[twin])
        out.append(ErrorOutcome(twin, original, speaker, error.kind, outcome))
    return out


def _originals(outcomes: Sequence[ErrorOutcome]) -> Tuple[List[str], List[str]]:
    """The original utterances (the resampled units, sorted) and their speakers."""
    speaker = {o.original: o.speaker for o in outcomes}
    keys = sorted(speaker)
    return keys, [speaker[k] for k in keys]


def _counts(outcomes: Sequence[ErrorOutcome], keys: Sequence[str]) -> np.ndarray:
    """``len(keys) x 4`` counts per original utterance: follows, normalises, other, errors."""
    row = {k: i for i, k in enumerate(keys)}
    cols = np.zeros((len(keys), len(OUTCOMES) + 1))
    for o in outcomes:
        cols[row[o.original], OUTCOMES.index(o.outcome)] += 1
        cols[row[o.original], -1] += 1
    return cols


def following_rates(outcomes: Sequence[ErrorOutcome], unit: str = SPEAKERS,
                    n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> Dict[str, Resampled]:
    """Rate of each outcome over the errors, with a blocked bootstrap (speakers, then original utterances)."""
    if not outcomes:
        raise ValueError("no single-error twins to rate")
    keys, speakers = _originals(outcomes)
    cols = _counts(outcomes, keys)
    return {name: resample(cols, speakers, lambda s, k=k: s[:, k] / s[:, -1], unit, n_resamples, seed)
            for k, name in enumerate(OUTCOMES)}


def rate_difference(a: Sequence[ErrorOutcome], b: Sequence[ErrorOutcome], outcome: str = NORMALISES,
                    unit: str = SPEAKERS, n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> Resampled:
    """Rate of ``outcome`` for model ``a`` minus model ``b`` on the same twins, one paired resampling."""
    twins_a, twins_b = {o.twin for o in a}, {o.twin for o in b}
    if twins_a != twins_b:
        raise ValueError(f"the models were classified on different twins "
                         f"(e.g. '{sorted(twins_a ^ twins_b)[0]}' in one only)")
    if not a:
        raise ValueError("no single-error twins to compare")
    keys, speakers = _originals(a)
    cols = np.hstack([_counts(a, keys), _counts(b, keys)])
    k, w = OUTCOMES.index(outcome), len(OUTCOMES) + 1
    return resample(cols, speakers, lambda s: s[:, k] / s[:, w - 1] - s[:, w + k] / s[:, 2 * w - 1],
                    unit, n_resamples, seed)
