"""Korean standard pronunciation (표준 발음법) and Korean-as-L2 error patterns, on Hangul.

Why: the ``mini`` corpus needs a *surface* transcription that differs from the
spelling the way real Korean speech does (``먹어요`` is said ``머거요``), plus
learner errors on top, so that surface/meaning divergence is realistic.

``pronounce`` rewrites the boundary between each syllable's final consonant
(coda) and the next syllable's initial (onset). Rules are applied **inside an
eojeol** (a space-separated word) only: Korean liaison and assimilation do
cross word boundaries in fast connected speech, but the standard applies them
reliably within the eojeol (stem + particle/ending), and keeping them there
preserves the word count, so every word has exactly one surface form.

Rule names (as returned in ``fired``):

* ``liaison``          coda moves onto a following ㅇ-initial syllable: 먹어요 -> 머거요
* ``h_deletion``       coda ㅎ before a vowel is silent: 좋아 -> 조아
* ``palatalisation``   ㄷ/ㅌ + 이 -> 지/치: 같이 -> 가치, 굳이 -> 구지
* ``aspiration``       ㅎ + ㄱ/ㄷ/ㅈ or ㄱ/ㄷ/ㅂ/ㅈ + ㅎ -> ㅋ/ㅌ/ㅍ/ㅊ: 좋다 -> 조타, 축하 -> 추카
* ``coda_neutralisation`` a coda is said as one of ㄱㄴㄷㄹㅁㅂㅇ: 꽃 -> 꼳, 밖 -> 박
* ``nasalisation``     ㄱ/ㄷ/ㅂ before ㄴ/ㅁ -> ㅇ/ㄴ/ㅁ; ㄹ after ㅁ/ㅇ -> ㄴ: 국물 -> 궁물
* ``lateralisation``   ㄴ+ㄹ / ㄹ+ㄴ -> ㄹ+ㄹ: 신라 -> 실라, 칼날 -> 칼랄
* ``tensification``    ㄱ/ㄷ/ㅂ + ㄱ/ㄷ/ㅂ/ㅅ/ㅈ -> tense onset: 학교 -> 학꾜, 국밥 -> 국빱

``korean_l2_errors`` then adds learner errors at per-speaker rates (see its docstring).
"""

from __future__ import annotations

from typing import Dict, List, Tuple

from espnet_l2dual.text.hangul import Syllable, join_runs, split_runs
from espnet_l2dual.text.error_sites import Decide, ErrorSite, SiteRun, random_decide

# Simplified codas as pronounced before a consonant or at the end of a word.
_NEUTRAL = {
    "ㄲ": "ㄱ", "ㅋ": "ㄱ", "ㄳ": "ㄱ", "ㄺ": "ㄱ",
    "ㅅ": "ㄷ", "ㅆ": "ㄷ", "ㅈ": "ㄷ", "ㅊ": "ㄷ", "ㅌ": "ㄷ", "ㅎ": "ㄷ",
    "ㅍ": "ㅂ", "ㅄ": "ㅂ", "ㄿ": "ㅂ",
    "ㄵ": "ㄴ", "ㄶ": "ㄴ", "ㄻ": "ㅁ", "ㄼ": "ㄹ", "ㄽ": "ㄹ", "ㄾ": "ㄹ", "ㅀ": "ㄹ",
}
# Double codas split on liaison: the first stays, the second moves to the next onset.
_SPLIT = {
    "ㄳ": ("ㄱ", "ㅆ"), "ㄵ": ("ㄴ", "ㅈ"), "ㄺ": ("ㄹ", "ㄱ"), "ㄻ": ("ㄹ", "ㅁ"),
    "ㄼ": ("ㄹ", "ㅂ"), "ㄽ": ("ㄹ", "ㅆ"), "ㄾ": ("ㄹ", "ㅌ"), "ㄿ": ("ㄹ", "ㅍ"), "ㅄ": ("ㅂ", "ㅆ"),
}
_ASPIRATED = {"ㄱ": "ㅋ", "ㄷ": "ㅌ", "ㅂ": "ㅍ", "ㅈ": "ㅊ"}
_TENSE = {"ㄱ": "ㄲ", "ㄷ": "ㄸ", "ㅂ": "ㅃ", "ㅅ": "ㅆ", "ㅈ": "ㅉ"}
_NASAL = {"ㄱ": "ㅇ", "ㄷ": "ㄴ", "ㅂ": "ㅁ"}
# Codas that aspirate a following ㅎ, with what remains in the coda afterwards.
_ASPIRATE_BEFORE_H = {
    "ㄱ": ("", "ㅋ"), "ㄲ": ("", "ㅋ"), "ㅋ": ("", "ㅋ"), "ㄺ": ("ㄹ", "ㅋ"),
    "ㄷ": ("", "ㅌ"), "ㅅ": ("", "ㅌ"), "ㅆ": ("", "ㅌ"), "ㅈ": ("", "ㅊ"), "ㅊ": ("", "ㅊ"),
    "ㅌ": ("", "ㅌ"), "ㅂ": ("", "ㅍ"), "ㅍ": ("", "ㅍ"), "ㄼ": ("ㄹ", "ㅍ"), "ㄵ": ("ㄴ", "ㅊ"),
}
_H_CODAS = {"ㅎ": "", "ㄶ": "ㄴ", "ㅀ": "ㄹ"}  # coda with ㅎ -> what remains without it


def _boundary(a: Syllable, b: Syllable, fired: List[str]) -> None:
    """Rewrite the coda of ``a`` and the onset of ``b`` (one syllable boundary)."""
    c, o = a.final, b.initial
    if not c:
        return
    if o == "ㅇ":
        if c in ("ㄷ", "ㅌ", "ㄾ") and b.medial == "ㅣ":
            a.final = "ㄹ" if c == "ㄾ" else ""
            b.initial = "ㅈ" if c == "ㄷ" else "ㅊ"
            fired.append("palatalisation")
        elif c in _H_CODAS:
            rest = _H_CODAS[c]
            a.final = ""
            fired.append("h_deletion")
            if rest:
                b.initial = rest
                fired.append("liaison")
        elif c == "ㅇ":
            return
        elif c in _SPLIT:
            a.final, b.initial = _SPLIT[c]
            fired.append("liaison")
        else:
            a.final, b.initial = "", c
            fired.append("liaison")
        return
    if o == "ㅎ":
        if c == "ㄷ" and b.medial == "ㅣ":
            a.final, b.initial = "", "ㅊ"
            fired.append("palatalisation")
        elif c in _ASPIRATE_BEFORE_H:
            a.final, b.initial = _ASPIRATE_BEFORE_H[c]
            fired.append("aspiration")
        return
    if c in _H_CODAS:
        rest = _H_CODAS[c]
        if o in _ASPIRATED:
            a.final, b.initial = rest, _ASPIRATED[o]
            fired.append("aspiration")
        elif o == "ㅅ":
            a.final, b.initial = rest, "ㅆ"
            fired.append("tensification")
        elif o == "ㄴ":
            if c == "ㅀ":
                a.final, b.initial = "ㄹ", "ㄹ"
                fired.append("lateralisation")
            else:
                a.final = "ㄴ"
                fired.append("nasalisation")
        else:
            a.final = _NEUTRAL[c]
            fired.append("coda_neutralisation")
        return
    if c in _NEUTRAL:
        c = _NEUTRAL[c]
        a.final = c
        fired.append("coda_neutralisation")
    if c in _NASAL and o in ("ㄴ", "ㅁ"):
        a.final = _NASAL[c]
        fired.append("nasalisation")
    elif c in ("ㄱ", "ㅂ") and o == "ㄹ":
        a.final, b.initial = _NASAL[c], "ㄴ"
        fired.append("nasalisation")
    elif c in ("ㅁ", "ㅇ") and o == "ㄹ":
        b.initial = "ㄴ"
        fired.append("nasalisation")
    elif c == "ㄴ" and o == "ㄹ":
        a.final = "ㄹ"
        fired.append("lateralisation")
    elif c == "ㄹ" and o == "ㄴ":
        b.initial = "ㄹ"
        fired.append("lateralisation")
    elif c in _NASAL and o in _TENSE:
        b.initial = _TENSE[o]
        fired.append("tensification")


def _pronounce_syllables(syls: List[Syllable], fired: List[str]) -> None:
    for a, b in zip(syls, syls[1:]):
        _boundary(a, b, fired)
    last = syls[-1]
    if last.final in _NEUTRAL:
        last.final = _NEUTRAL[last.final]
        fired.append("coda_neutralisation")


def pronounce_word(word: str) -> Tuple[str, List[str]]:
    """Standard pronunciation of one eojeol, and the rules that fired (in order)."""
    fired: List[str] = []
    runs = split_runs(word)
    for run in runs:
        if isinstance(run, list):
            _pronounce_syllables(run, fired)
    return join_runs(runs), fired


def pronounce(text: str) -> Tuple[str, List[str]]:
    """Standard pronunciation of space-separated Hangul text (rules stay inside each eojeol)."""
    fired: List[str] = []
    out = []
    for word in text.split():
        surface, rules = pronounce_word(word)
        out.append(surface)
        fired.extend(rules)
    return " ".join(out), fired


# --- learner errors -------------------------------------------------------------------

#: rate keys understood by ``korean_l2_errors``
KOREAN_L2_ERROR_KINDS = ("deaspiration", "detensing", "coda_deletion",
                         "vowel_eo_o", "vowel_ae_e", "vowel_eu_u")

_PLAIN_OF_ASPIRATED = {"ㅋ": "ㄱ", "ㅌ": "ㄷ", "ㅍ": "ㅂ", "ㅊ": "ㅈ"}
_PLAIN_OF_TENSE = {"ㄲ": "ㄱ", "ㄸ": "ㄷ", "ㅃ": "ㅂ", "ㅆ": "ㅅ", "ㅉ": "ㅈ"}
_VOWEL_ERRORS = {
    "vowel_eo_o": {"ㅓ": "ㅗ", "ㅕ": "ㅛ"},
    "vowel_ae_e": {"ㅐ": "ㅔ", "ㅔ": "ㅐ", "ㅒ": "ㅖ", "ㅖ": "ㅒ"},
    "vowel_eu_u": {"ㅡ": "ㅜ"},
}


def korean_l2_errors(text: str, rates: Dict[str, float], rng) -> Tuple[str, List[str]]:
    """Apply learner errors to (already pronounced) Hangul text.

    ``rates`` maps a kind in ``KOREAN_L2_ERROR_KINDS`` to the probability that
    each opportunity is realised (missing kinds are 0):

    * ``deaspiration``  aspirated onset -> plain (ㅋ->ㄱ, ㅌ->ㄷ, ㅍ->ㅂ, ㅊ->ㅈ)
    * ``detensing``     tense onset -> plain (ㄲ->ㄱ, ㄸ->ㄷ, ㅃ->ㅂ, ㅆ->ㅅ, ㅉ->ㅈ)
    * ``coda_deletion`` a final consonant is dropped
    * ``vowel_eo_o``    ㅓ->ㅗ (ㅕ->ㅛ); ``vowel_ae_e`` ㅐ<->ㅔ merge; ``vowel_eu_u`` ㅡ->ㅜ

    ``rng`` is anything with ``.random()`` (``random.Random``, numpy Generator);
    it is drawn only for kinds with a rate above 0.
    """
    out, sites = korean_l2_error_sites(text, rates, random_decide(rates, rng))
    return out, [s.kind for s in sites]


def korean_l2_error_sites(text: str, rates: Dict[str, float], decide: Decide) -> Tuple[str, List[ErrorSite]]:
    """The errors of :func:`korean_l2_errors` with ``decide`` choosing at each opportunity; also the
    sites realised, in order (a site's word is the eojeol's index).

    ``rates`` only names the kinds that may be realised (unknown kinds are refused).
    """
    for kind in rates:
        if kind not in KOREAN_L2_ERROR_KINDS:
            raise ValueError(f"unknown Korean L2 error kind '{kind}' (known: {', '.join(KOREAN_L2_ERROR_KINDS)})")
    run = SiteRun(decide)
    hit, fired = run.hit, run.fired

    out = []
    for index, word in enumerate(text.split()):
        runs = split_runs(word)
        for run in runs:
            if isinstance(run, str):
                continue
            for syl in run:
                if syl.initial in _PLAIN_OF_ASPIRATED and hit(index, "deaspiration"):
                    syl.initial = _PLAIN_OF_ASPIRATED[syl.initial]
                elif syl.initial in _PLAIN_OF_TENSE and hit(index, "detensing"):
                    syl.initial = _PLAIN_OF_TENSE[syl.initial]
                for kind, table in _VOWEL_ERRORS.items():
                    if syl.medial in table and hit(index, kind):
                        syl.medial = table[syl.medial]
                        break
                if syl.final and hit(index, "coda_deletion"):
                    syl.final = ""
        out.append(join_runs(runs))
    return " ".join(out), fired
