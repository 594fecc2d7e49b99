"""Multiplicity: Holm's step-down adjustment of a declared family of comparisons.

A report that words forty intervals at 95% expects two false "resolved" under the null.
Each report therefore declares its families (e.g. all MTL−STL comparisons of a language)
and adjusts each one with Holm's method (family-wise error rate ``alpha``): the p-values
are Holm-adjusted, and every comparison gets an interval at its Holm level: the i-th
smallest p-value of m is tested at ``alpha / (m - i + 1)``, so its interval is drawn at
confidence ``1 - alpha / (m - i + 1)``; once one comparison is not rejected, the rest keep
that comparison's level. An adjusted interval excludes 0 exactly where Holm rejects
(up to the bootstrap's resolution), so verdict words read the adjusted interval.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, MutableMapping, Optional, Sequence, Tuple

ADJUSTMENT = "Holm"
Interval = Optional[Tuple[float, float]]


def holm(pvalues: Sequence[float]) -> List[float]:
    """Holm-adjusted p-values, in the input order: max over j<=i of (m - j + 1) p_(j), capped at 1."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    out = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        out[i] = running
    return out


def holm_levels(pvalues: Sequence[float], alpha: float = 0.05) -> List[float]:
    """The confidence level of each comparison's adjusted interval (input order)."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    out = [0.0] * m
    stopped: Optional[float] = None
    for rank, i in enumerate(order):
        level_alpha = stopped if stopped is not None else alpha / (m - rank)
        if stopped is None and pvalues[i] > level_alpha:
            stopped = level_alpha
        out[i] = 1.0 - level_alpha
    return out


def adjust_family(name: str, items: Sequence[Optional[MutableMapping[str, Any]]], alpha: float = 0.05) -> None:
    """Holm-adjust one family in place: each item with a ``p`` and an ``interval_at(level)`` gets
    ``p_adj``, ``level_adj``, ``lo_adj``/``hi_adj``; every item is labelled with the family and its size."""
    tested = [x for x in items if x is not None and x.get("p") is not None and x.get("interval_at") is not None]
    for x in items:
        if x is not None:
            x.update(family=name, adjustment=f"{ADJUSTMENT}, {len(tested)} comparisons, family-wise {alpha:g}")
    if not tested:
        return
    ps = [float(x["p"]) for x in tested]
    for x, p_adj, level in zip(tested, holm(ps), holm_levels(ps, alpha)):
        interval_at: Callable[[float], Interval] = x["interval_at"]
        ci = interval_at(level)
        x.update(p_adj=p_adj, level_adj=round(level, 5),
                 lo_adj=None if ci is None else ci[0], hi_adj=None if ci is None else ci[1])


def families(named: Dict[str, List[Optional[MutableMapping[str, Any]]]], alpha: float = 0.05) -> Dict[str, int]:
    """Adjust several families; returns {family: number of comparisons} for the report to declare."""
    for name, items in named.items():
        adjust_family(name, items, alpha)
    return {name: sum(1 for x in items if x is not None and x.get("p") is not None) for name, items in named.items()}
