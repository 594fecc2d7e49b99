"""English-as-L2 error patterns, written as respellings of UPPERCASE words.

Why respellings: the ``mini`` corpus speaks the surface text with espeak-ng,
so an error must be something a grapheme-to-phoneme front end will say the
way a learner would (``THIS`` -> ``DIS``), and the surface transcription stays
in the same alphabet as the meaning, so their divergence is a plain edit distance.

Patterns (rate keys, also the names returned in ``fired``):

* ``th_stopping``        TH -> D in voiced-TH words (THIS -> DIS), else T (THINK -> TINK)
* ``r_l_swap``           R <-> L (RICE -> LICE, LIGHT -> RIGHT)
* ``v_to_b``             V -> B (VERY -> BERY)
* ``f_to_p``             F -> P (FISH -> PISH)
* ``final_consonant_deletion``  last consonant of a final cluster dropped (BEST -> BES, WANT -> WAN)
* ``vowel_epenthesis``   "UH" added after a final consonant cluster (DESK -> DESKUH)

Each opportunity (each TH, R, L, V, F; each final cluster) is realised with
its pattern's rate, so per-speaker rates control how far surface drifts from meaning.
"""

from __future__ import annotations

import itertools
from typing import Dict, List, Sequence, Tuple

from espnet_l2dual.text.error_sites import Decide, ErrorSite, SiteRun, random_decide

ENGLISH_L2_ERROR_KINDS = ("th_stopping", "r_l_swap", "v_to_b", "f_to_p",
                          "final_consonant_deletion", "vowel_epenthesis")

#: words whose TH is voiced (/ð/), so a learner stops it to D rather than T
VOICED_TH_WORDS = frozenset(
    "THE THIS THAT THESE THOSE THEY THEM THEIR THERE THEN THAN THOUGH THUS "
    "WITH WITHOUT OTHER ANOTHER MOTHER FATHER BROTHER WEATHER TOGETHER RATHER "
    "NEITHER EITHER WHETHER FEATHER LEATHER SMOOTH BREATHE CLOTHES".split()
)

_VOWELS = set("AEIOU")
# Final letter pairs that are one sound or not a real cluster (BALL, MISS, BACK, SING ...).
_NOT_CLUSTERS = {"CK", "NG", "SH", "CH", "TH", "PH", "GH", "WN", "WS", "WL", "WK", "WT"}


def _final_cluster(word: str) -> bool:
    """True when the word ends in two consonant letters that are two sounds (DESK, BEST, WANT)."""
    if len(word) < 3 or not word.isalpha():
        return False
    a, b = word[-2], word[-1]
    consonants = lambda ch: ch not in _VOWELS and ch not in "YHWX"  # noqa: E731
    return consonants(a) and consonants(b) and a != b and (a + b) not in _NOT_CLUSTERS


def apply_english_l2_errors(
    words: Sequence[str], rates: Dict[str, float], rng
) -> Tuple[List[str], List[str]]:
    """Respell each UPPERCASE word with learner errors; return ``(words, fired)``.

    The word count never changes. ``rng`` has ``.random()`` and is drawn only
    for patterns whose rate is above 0.
    """
    out, sites = english_l2_error_sites(words, rates, random_decide(rates, rng))
    return out, [s.kind for s in sites]


def english_l2_error_sites(
    words: Sequence[str], rates: Dict[str, float], decide: Decide
) -> Tuple[List[str], List[ErrorSite]]:
    """The respelling with ``decide`` choosing at each opportunity; also the sites realised, in order.

    ``rates`` only names the kinds that may be realised (unknown kinds are refused);
    :func:`apply_english_l2_errors` decides by the rates, a replay by a set of sites.
    """
    for kind in rates:
        if kind not in ENGLISH_L2_ERROR_KINDS:
            raise ValueError(f"unknown English L2 error kind '{kind}' (known: {', '.join(ENGLISH_L2_ERROR_KINDS)})")
    run = SiteRun(decide)
    hit, fired = run.hit, run.fired

    out: List[str] = []
    for index, word in enumerate(words):
        w = word
        if "TH" in w:
            stop = "D" if word in VOICED_TH_WORDS else "T"
            parts = w.split("TH")
            w = parts[0]
            for part in parts[1:]:
                w += (stop if hit(index, "th_stopping") else "TH") + part
        runs = []  # a doubled letter (LL, FF) is one sound: one draw, one change
        for ch, group in itertools.groupby(w):
            n = len(list(group))
            if ch in "RL" and hit(index, "r_l_swap"):
                ch = "L" if ch == "R" else "R"
            elif ch == "V" and hit(index, "v_to_b"):
                ch = "B"
            elif ch == "F" and word != "OF" and hit(index, "f_to_p"):
                ch = "P"
            runs.append(ch * n)
        w = "".join(runs)
        if _final_cluster(w):
            if hit(index, "final_consonant_deletion"):
                w = w[:-1]
            elif hit(index, "vowel_epenthesis"):
                w = w + "UH"
        out.append(w)
    return out, fired
