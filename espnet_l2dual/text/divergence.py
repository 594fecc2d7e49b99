"""Surface–meaning divergence: how far what was said is from what was meant.

``divergence(a, b) = levenshtein(a, b) / max(len(a), len(b))`` over the chosen
units, so it always lies in [0, 1]: 0 for identical strings, 1 when no unit can
be kept (e.g. one side is empty, or all units differ). Dividing by the longer
side (not by the reference alone, as an error rate would) keeps the measure
symmetric and bounded even when the surface is much longer than the reference.
Two empty strings have divergence 0.

Units:

* ``char``  — characters, whitespace ignored (English letters, Korean syllables);
* ``jamo``  — Hangul syllables decomposed into conjoining jamo first, whitespace
  ignored; ``먹어요`` vs ``머거요`` is 2 edits over 7 jamo (2/7) instead of 2
  edits over 3 syllables (2/3), which matches how small the phonological change is;
* ``token`` — whitespace-separated tokens, e.g. phones ``D IH S`` vs ``DH IH S``.

Utterances are then grouped into bins (default: exactly 0, (0,0.1], (0.1,0.2],
(0.2,1]) for per-bin scoring.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import List, Sequence

import Levenshtein

from espnet_l2dual.text.normalize import hangul_to_jamo

UNITS = ("char", "jamo", "token")
DEFAULT_BINS = "0,0.1,0.2,1"


def default_unit(lang: str) -> str:
    """The unit divergence uses for a language: jamo for Korean, characters for English."""
    units = {"ko": "jamo", "en": "char"}
    if lang not in units:
        raise ValueError(f"unknown language '{lang}' (expected one of {', '.join(units)})")
    return units[lang]


def to_units(text: str, unit: str) -> List[str]:
    """Split ``text`` into the units divergence compares."""
    if unit == "token":
        return text.split()
    text = unicodedata.normalize("NFC", text)
    if unit == "jamo":
        text = hangul_to_jamo(text)
    elif unit != "char":
        raise ValueError(f"unknown divergence unit '{unit}' (expected one of {', '.join(UNITS)})")
    return [c for c in text if not c.isspace()]


def divergence(surface: str, reference: str, unit: str = "char") -> float:
    """Normalised Levenshtein distance between ``surface`` and ``reference`` in [0, 1]."""
    a = to_units(surface, unit)
    b = to_units(reference, unit)
    longest = max(len(a), len(b))
    if longest == 0:
        return 0.0
    # Levenshtein.distance accepts sequences of hashables, so tokens compare whole.
    return Levenshtein.distance(a, b) / longest


@dataclass(frozen=True)
class Bin:
    """A divergence interval ``(low, high]``, or the single point ``low`` when ``point`` is set."""

    label: str
    low: float
    high: float
    point: bool = False

    def contains(self, value: float) -> bool:
        if self.point:
            return value == self.low
        return self.low < value <= self.high


def divergence_bins(edges_spec: str = DEFAULT_BINS) -> List[Bin]:
    """Bins from comma-separated increasing edges ``e0,e1,...,en``.

    The first bin is the point ``e0`` exactly (label ``"0"`` for the default);
    then one half-open bin ``(e_i,e_{i+1}]`` per pair of edges. Labels reuse the
    edges as written in the spec.
    """
    parts = [p.strip() for p in edges_spec.split(",")]
    try:
        edges = [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"bad divergence bin edges '{edges_spec}': expected numbers like 0,0.1,0.2,1") from None
    if len(edges) < 2:
        raise ValueError(f"bad divergence bin edges '{edges_spec}': need at least two edges")
    if any(lo >= hi for lo, hi in zip(edges, edges[1:])):
        raise ValueError(f"bad divergence bin edges '{edges_spec}': edges must strictly increase")
    bins = [Bin(label=parts[0], low=edges[0], high=edges[0], point=True)]
    for i in range(len(edges) - 1):
        bins.append(Bin(label=f"({parts[i]},{parts[i + 1]}]", low=edges[i], high=edges[i + 1]))
    return bins


def assign_bin(value: float, bins: Sequence[Bin]) -> str:
    """The label of the bin holding ``value``; a value outside every bin is an error."""
    for b in bins:
        if b.contains(value):
            return b.label
    raise ValueError(f"divergence {value} lies outside the bins {[b.label for b in bins]}")
