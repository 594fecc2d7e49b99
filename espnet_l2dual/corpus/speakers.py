"""Synthetic L2 speakers for the ``mini`` corpus: a voice, and how strong an accent.

Why: surface/meaning divergence should vary across speakers as in real L2
data (near-native speakers with almost no errors up to beginners), and test
voices must be unseen in training. Each speaker gets an espeak-ng voice
variant of its own (no two sets share a variant), a pitch and a
speed, a synthetic first language (L1) and per-pattern error rates scaled by a
proficiency ``severity`` in [0, 1]; the L1 reweights which patterns dominate.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from typing import Dict, List, Tuple

from espnet_l2dual.text.english_l2_errors import ENGLISH_L2_ERROR_KINDS
from espnet_l2dual.text.korean_pronunciation import KOREAN_L2_ERROR_KINDS

#: espeak-ng variants (``espeak-ng --voices=variant``) that sound like plain human voices
VOICE_VARIANTS = (
    "m1 m2 m3 m4 m5 m6 m7 m8 f1 f2 f3 f4 f5 klatt klatt2 klatt3 klatt4 klatt5 klatt6 "
    "adam Alex Alicia Andrea Andy Annie antonio aunty belinda benjamin boris caleb david "
    "Denis Diogo ed edward Gene gustave Henrique Hugo iven Jacky john Lee linda marcelo "
    "Marco Mario max Michael michel miguel Mike Nguyen pablo paul pedro quincy rob robert "
    "steph steph2 steph3 zac anika norbert sandro shelby travis victor"
).split()

BASE_VOICE = {"ko": "ko", "en": "en-us"}

# Rates of a beginner (severity 1.0); a speaker's rate = base * severity * L1 weight.
_BASE_RATES = {
    "ko": {"deaspiration": 0.6, "detensing": 0.6, "coda_deletion": 0.3,
           "vowel_eo_o": 0.6, "vowel_ae_e": 0.6, "vowel_eu_u": 0.5},
    "en": {"th_stopping": 0.8, "r_l_swap": 0.35, "v_to_b": 0.7, "f_to_p": 0.6,
           "final_consonant_deletion": 0.35, "vowel_epenthesis": 0.35},
}
# Which L1s learn which language, and how each L1 reweights the patterns.
_L1_WEIGHTS = {
    "ko": {
        "en": {"deaspiration": 1.2, "detensing": 1.3, "vowel_eo_o": 1.2},
        "zh": {"detensing": 1.2, "coda_deletion": 0.6, "vowel_eu_u": 1.2},
        "ja": {"coda_deletion": 1.5, "vowel_eo_o": 1.3, "deaspiration": 0.8},
        "vi": {"vowel_ae_e": 1.2, "coda_deletion": 1.2},
    },
    "en": {
        "ko": {"r_l_swap": 1.4, "f_to_p": 1.5, "vowel_epenthesis": 1.5, "v_to_b": 1.3},
        "es": {"v_to_b": 1.4, "vowel_epenthesis": 0.5, "final_consonant_deletion": 1.2},
        "zh": {"final_consonant_deletion": 1.5, "r_l_swap": 1.2, "vowel_epenthesis": 0.7},
        "ja": {"r_l_swap": 1.5, "vowel_epenthesis": 1.3, "v_to_b": 1.2},
    },
}
_KINDS = {"ko": KOREAN_L2_ERROR_KINDS, "en": ENGLISH_L2_ERROR_KINDS}


@dataclass(frozen=True)
class Speaker:
    spk_id: str
    lang: str
    split: str
    l1: str
    voice: str  # espeak-ng -v value, e.g. "ko+m3"
    pitch: int  # espeak-ng -p, 0-99
    speed: int  # espeak-ng -s, words per minute
    severity: float
    rates: Dict[str, float] = field(default_factory=dict)


def scale_rates(speakers: Dict[str, List[Speaker]], factor: float) -> Dict[str, List[Speaker]]:
    """The same speakers (voices, pitch, speed) with every learner error rate times ``factor``
    (capped at 1): the knob of the controlled-divergence grid (``--error_scale``)."""
    if factor < 0:
        raise ValueError(f"error scale must be >= 0, got {factor}")
    return {split: [replace(sp, rates={k: round(min(1.0, r * factor), 3) for k, r in sp.rates.items()})
                    for sp in spks] for split, spks in speakers.items()}


def _shuffled_variants(lang: str, seed: int) -> Tuple[random.Random, List[str]]:
    """The speaker RNG of (lang, seed) and the voice variants in the order it deals them."""
    rng = random.Random(f"speakers-{lang}-{seed}")
    variants = list(VOICE_VARIANTS)
    rng.shuffle(variants)
    return rng, variants


def _make_speaker(lang: str, split: str, i: int, variant: str, rng: random.Random) -> Speaker:
    """Speaker ``i`` of ``split``; every ``i % 8 == 0`` is near-native (severity 0, L1 = ``lang``)."""
    native = i % 8 == 0
    severity = 0.0 if native else round(rng.uniform(0.15, 1.0), 3)
    l1 = lang if native else rng.choice(sorted(_L1_WEIGHTS[lang]))
    weights = _L1_WEIGHTS[lang].get(l1, {})
    rates = {k: round(min(1.0, _BASE_RATES[lang][k] * severity * weights.get(k, 1.0)), 3)
             for k in _KINDS[lang]}
    return Speaker(
        spk_id=f"{lang}{split}{i + 1:03d}", lang=lang, split=split, l1=l1,
        voice=f"{BASE_VOICE[lang]}+{variant}", pitch=rng.randint(25, 75),
        speed=rng.randint(140, 185), severity=severity, rates=rates,
    )


def _check_lang(lang: str) -> None:
    if lang not in _BASE_RATES:
        raise ValueError(f"unknown language '{lang}' (known: {', '.join(_BASE_RATES)})")


def make_speakers(lang: str, counts: Dict[str, int], seed: int) -> Dict[str, List[Speaker]]:
    """Speakers per split (e.g. ``{"train": 40, "dev": 5, "test": 5}``), disjoint in id and voice.

    About one speaker in eight is near-native (severity 0, L1 = ``lang``).
    Deterministic per (lang, counts, seed).
    """
    _check_lang(lang)
    total = sum(counts.values())
    if total > len(VOICE_VARIANTS):
        raise ValueError(f"{total} speakers requested but only {len(VOICE_VARIANTS)} voice variants exist")
    rng, variants = _shuffled_variants(lang, seed)
    out: Dict[str, List[Speaker]] = {}
    n = 0
    for split, count in counts.items():
        out[split] = [_make_speaker(lang, split, i, variants[n + i], rng) for i in range(count)]
        n += count
    return out


def make_held_out_speakers(lang: str, split: str, count: int, used: Dict[str, List[Speaker]],
                           seed: int) -> List[Speaker]:
    """``count`` speakers for a held-out set, with voices none of ``used`` has.

    Their own RNG (keyed by ``split``) draws pitch, speed, L1 and severity, so adding
    or resizing this set leaves every speaker of ``used`` as it was; the voices are
    the variants ``make_speakers`` left unused, in the order it would have dealt them.
    """
    _check_lang(lang)
    taken = {sp.voice.split("+", 1)[1] for spks in used.values() for sp in spks}
    free = [v for v in _shuffled_variants(lang, seed)[1] if v not in taken]
    if count > len(free):
        n_used = sum(len(s) for s in used.values())
        raise ValueError(f"{count} {split} speakers requested but only {len(free)} of the "
                         f"{len(VOICE_VARIANTS)} voice variants are left by the other {n_used} speakers")
    rng = random.Random(f"speakers-{lang}-{seed}-{split}")
    return [_make_speaker(lang, split, i, free[i], rng) for i in range(count)]
