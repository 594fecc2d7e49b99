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
    for kind in rates:
        if kind not in ENGLISH_L2_ERROR_KINDS:
            raise ValueError(f"unknown English L2 error kind '{kind}' (known: {', '.join(ENGLISH_L2_ERROR_KINDS)})")

    def hit(kind: str) -> bool:
        rate = rates.get(kind, 0.0)
        return rate > 0 and rng.random() < rate

    fired: List[str] = []
    out: List[str] = []
    for word in words:
        w = word
        if "TH" in w:
            stop = "D" if word in VOICED_TH_WORDS else "T"
            parts = w.split("TH")
            w = parts[0]
            for part in parts[1:]:
                if hit("th_stopping"):
                    w += stop + part
                    fired.append("th_stopping")
                else:
                    w += "TH" + part
        runs = []  # a doubled letter (LL, FF) is one sound: one draw, one change
        for ch, group in itertools.groupby(w):
            n = len(list(group))
            if ch in "RL" and hit("r_l_swap"):
                ch = "L" if ch == "R" else "R"
                fired.append("r_l_swap")
            elif ch == "V" and hit("v_to_b"):
                ch = "B"
                fired.append("v_to_b")
            elif ch == "F" and word != "OF" and hit("f_to_p"):
                ch = "P"
                fired.append("f_to_p")
            runs.append(ch * n)
        w = "".join(runs)
        if _final_cluster(w):
            if hit("final_consonant_deletion"):
                w = w[:-1]
                fired.append("final_consonant_deletion")
            elif hit("vowel_epenthesis"):
                w = w + "UH"
                fired.append("vowel_epenthesis")
        out.append(w)
    return out, fired
