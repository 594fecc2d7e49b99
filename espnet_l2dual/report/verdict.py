"""The one rule that turns a difference and its interval into words.

Users publish these sentences, so a direction word (hurt, helped, reduced, higher,
lower, better, worse) is written only where the 95% interval of the difference
excludes zero. An interval that touches or spans zero gives "no difference resolved";
no interval at all gives no verdict. Every report sentence about a difference goes
through :func:`verdict`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence


@dataclass(frozen=True)
class Verdict:
    """``direction`` is "lower", "higher" or None (not resolved / no interval); ``text`` the words to print."""

    direction: Optional[str]
    text: str

    @property
    def resolved(self) -> bool:
        return self.direction is not None


def format_ci(ci: Sequence[float]) -> str:
    """``[-2.69, -0.66]``: the form every report prints an interval in."""
    return f"[{ci[0]:+.2f}, {ci[1]:+.2f}]"


def verdict(ci: Optional[Sequence[Optional[float]]], lower: str = "lower", higher: str = "higher",
            no_ci: str = "no interval could be computed", label: str = "95% CI") -> Verdict:
    """Word for a difference (B − A) from its 95% interval ``ci = [lo, hi]``.

    ``lower``/``higher`` are the words for an interval wholly below/above zero (for an
    error rate: "helped"/"hurt", "lower"/"higher"); ``no_ci`` says why there is no interval;
    ``label`` names the interval (e.g. a Holm-adjusted level) in the unresolved sentence.
    The ends are judged as printed (2 decimals), so the words never contradict the numbers.
    """
    if ci is None or len(ci) != 2 or any(x is None or not math.isfinite(x) for x in ci):
        return Verdict(None, f"{no_ci}; no verdict")
    lo, hi = round(float(ci[0]), 2) + 0.0, round(float(ci[1]), 2) + 0.0
    if lo > hi:
        raise ValueError(f"interval {format_ci(ci)} has its lower end above its upper end")
    if hi < 0:
        return Verdict("lower", lower)
    if lo > 0:
        return Verdict("higher", higher)
    where = "spans 0" if lo < 0 < hi else "includes 0"
    return Verdict(None, f"no difference resolved ({label} {format_ci((lo, hi))} {where})")
