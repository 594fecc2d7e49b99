"""Error rates per surface–meaning divergence bin.

The question stage 9 answers beyond plain CER/WER: does a model fail more on
utterances whose pronunciation departs further from the intended words?
Per-utterance edit distances are summed within a bin, so a bin's rate is
(edits in the bin) / (reference units in the bin), like the overall rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Union

import Levenshtein

from espnet_l2dual.errors import DataError
from espnet_l2dual.utils.fileio import iter_table

DEFAULT_BINS = "0,0.1,0.2,1"


@dataclass(frozen=True)
class Bin:
    """``lo < d <= hi``, or ``d == lo`` for the exact bin (the first edge on its own)."""

    lo: float
    hi: float
    exact: bool = False

    @property
    def label(self) -> str:
        if self.exact:
            return _fmt(self.lo)
        return f"({_fmt(self.lo)},{_fmt(self.hi)}]"

    def holds(self, value: float) -> bool:
        return value == self.lo if self.exact else self.lo < value <= self.hi


def _fmt(x: float) -> str:
    return "inf" if math.isinf(x) else f"{x:g}"


def parse_bins(spec: str = DEFAULT_BINS) -> List[Bin]:
    """``"0,0.1,0.2,1"`` -> [=0, (0,0.1], (0.1,0.2], (0.2,1]]: the first edge alone is an exact bin."""
    try:
        edges = [float(x) for x in spec.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"bad bin spec '{spec}': expected comma-separated numbers") from None
    if len(edges) < 2 or any(b <= a for a, b in zip(edges, edges[1:])):
        raise ValueError(f"bad bin spec '{spec}': need at least two strictly increasing edges")
    return [Bin(edges[0], edges[0], exact=True)] + [Bin(a, b) for a, b in zip(edges, edges[1:])]


def read_divergence(path: Union[str, Path]) -> Dict[str, float]:
    """Read utt2divergence (``utt float``); a value that is not a non-negative number is an error."""
    out: Dict[str, float] = {}
    for no, key, value in iter_table(path):
        try:
            d = float(value)
        except ValueError:
            raise DataError(path, no, f"divergence '{value}' of '{key}' is not a number") from None
        if math.isnan(d) or d < 0:
            raise DataError(path, no, f"divergence '{value}' of '{key}' must be >= 0")
        if key in out:
            raise DataError(path, no, f"duplicate id '{key}'")
        out[key] = d
    return out


def edit_distance(ref: Sequence[str], hyp: Sequence[str]) -> int:
    return Levenshtein.distance(list(ref), list(hyp))


def rates_by_divergence(
    bins: Sequence[Bin],
    utt2div: Mapping[str, float],
    units: Mapping[str, Mapping[str, tuple]],
    utt2spk: Optional[Mapping[str, str]] = None,
) -> List[Dict[str, Optional[float]]]:
    """One row per bin: ``{bin, n_utt, <kind>: rate% or None}``, plus ``n_spk`` (how many speakers
    the bin's utterances come from) with ``utt2spk``: a bin of few speakers measures those voices.

    ``units[kind][utt] = (ref_units, hyp_units)``; utterances without a divergence
    are left out. A value above the last edge goes to an extra ``(last,inf]`` bin,
    added only when something falls there.
    """
    bins = list(bins)
    overflow = Bin(bins[-1].hi, math.inf)
    kinds = list(units)
    utts = list(units[kinds[0]]) if kinds else []
    sums = {b: {"n_utt": 0, "spk": set(), **{k: [0, 0] for k in kinds}} for b in bins + [overflow]}
    for utt in utts:
        if utt not in utt2div:
            continue
        d = utt2div[utt]
        b = next((b for b in bins if b.holds(d)), overflow if d > overflow.lo else None)
        if b is None:  # below the first edge
            continue
        sums[b]["n_utt"] += 1
        if utt2spk is not None:
            sums[b]["spk"].add(utt2spk.get(utt, utt))
        for k in kinds:
            ref, hyp = units[k][utt]
            sums[b][k][0] += edit_distance(ref, hyp)
            sums[b][k][1] += len(ref)
    rows = []
    for b in bins + ([overflow] if sums[overflow]["n_utt"] else []):
        row: Dict[str, Optional[float]] = {"bin": b.label, "n_utt": sums[b]["n_utt"]}
        if utt2spk is not None:
            row["n_spk"] = len(sums[b]["spk"])
        for k in kinds:
            err, n = sums[b][k]
            row[k] = 100.0 * err / n if n else None
        rows.append(row)
    return rows
