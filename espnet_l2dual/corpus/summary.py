"""The table every corpus adapter prints at the end: is this the corpus I meant to prepare?

Per set: utterances, speakers, hours of audio and mean surface–meaning
divergence (surface vs ``text_canonical`` when present, else vs meaning), then
any adapter-specific counts (dropped lines, unclear labels ...).
"""

from __future__ import annotations

from typing import List, Mapping, Optional, Sequence

from espnet_l2dual.corpus.datadir_writer import Utterance
from espnet_l2dual.text.divergence import divergence


def _row(name: str, utts: Sequence[Utterance], unit: str) -> str:
    speakers = len({u.speaker for u in utts})
    known = [u.duration for u in utts if u.duration is not None]
    hours = f"{sum(known) / 3600:.3f}" if len(known) == len(utts) else "?"
    divs = [divergence(u.surface, u.canonical if u.canonical is not None else u.meaning, unit) for u in utts]
    mean = f"{sum(divs) / len(divs):.4f}" if divs else "-"
    return f"{name:<8} {len(utts):>9} {speakers:>8} {hours:>9} {mean:>10}"


def format_summary(
    title: str, sets: Mapping[str, Sequence[Utterance]], unit: str, counts: Optional[Mapping[str, int]] = None
) -> str:
    """A small text table: one row per set and a total, then ``counts`` as ``name: n`` lines."""
    lines: List[str] = [title, f"{'set':<8} {'utts':>9} {'speakers':>8} {'hours':>9} {'divergence':>10}"]
    every: List[Utterance] = []
    for name, utts in sets.items():
        lines.append(_row(name, utts, unit))
        every.extend(utts)
    lines.append(_row("total", every, unit))
    lines.append(f"(divergence: mean normalised Levenshtein, unit {unit}, surface vs canonical or meaning)")
    for name, n in (counts or {}).items():
        lines.append(f"{name}: {n}")
    return "\n".join(lines)

