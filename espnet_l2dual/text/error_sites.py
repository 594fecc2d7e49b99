"""Where a learner error can happen, so that a run of error patterns can be replayed with only some errors.

Why: a twin of an utterance (same sentence and voice, one learner error or none) must
carry exactly the errors chosen from the original's. The error patterns meet their
opportunities in a fixed order; numbering each opportunity by (word, kind, how many of
that kind the word met before) names it independently of which other errors fired, so a
replay that realises only chosen sites gives the same text at every other opportunity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import AbstractSet, Callable, Dict, List, Mapping, Tuple


@dataclass(frozen=True, order=True)
class ErrorSite:
    """One opportunity of an error pattern: the ``ordinal``-th ``kind`` opportunity of word ``word`` (0-based)."""

    word: int
    kind: str
    ordinal: int


#: decides, for one opportunity met, whether the error happens there
Decide = Callable[[ErrorSite], bool]


class SiteCounter:
    """Numbers opportunities in the order a pattern run meets them."""

    def __init__(self) -> None:
        self._seen: Dict[Tuple[int, str], int] = {}

    def site(self, word: int, kind: str) -> ErrorSite:
        n = self._seen.get((word, kind), 0)
        self._seen[(word, kind)] = n + 1
        return ErrorSite(word, kind, n)


class SiteRun:
    """One pattern run: numbers its opportunities and keeps those ``decide`` realises."""

    def __init__(self, decide: Decide) -> None:
        self._counter = SiteCounter()
        self._decide = decide
        self.fired: List[ErrorSite] = []

    def hit(self, word: int, kind: str) -> bool:
        site = self._counter.site(word, kind)
        if self._decide(site):
            self.fired.append(site)
            return True
        return False


def random_decide(rates: Mapping[str, float], rng) -> Decide:
    """Each opportunity realised with its kind's rate; ``rng`` drawn only for rates above 0."""

    def decide(site: ErrorSite) -> bool:
        rate = rates.get(site.kind, 0.0)
        return rate > 0 and rng.random() < rate

    return decide


def only(sites: AbstractSet[ErrorSite]) -> Decide:
    """Realise exactly the errors at ``sites`` (a site the run never meets is not realised)."""
    return lambda site: site in sites
