"""Sampling sentences from a grammar template, shared by the Korean and English grammars."""

from __future__ import annotations

import random
from typing import Callable, List

MIN_WORDS, MAX_WORDS = 3, 15


def sample_sentences(template: Callable[[random.Random], List[str]], n: int, rng: random.Random) -> List[List[str]]:
    """``n`` sentences from ``template``, keeping those of 3-15 words (the corpus spec)."""
    out: List[List[str]] = []
    while len(out) < n:
        words = template(rng)
        if MIN_WORDS <= len(words) <= MAX_WORDS:
            out.append(words)
    return out
