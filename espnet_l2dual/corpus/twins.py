"""Learner-error twins of the mini corpus's utterances: one sentence, one voice, one error or none.

Why: a comparison across utterances mixes every difference between them; a twin differs
from its original only in learner errors, so how a model treats one error can be read off
directly. For each utterance with learner errors the twin set holds the original itself,
its *canonical* twin (no learner error) and one *single-error* twin per error (exactly that
error applied, by replaying the original's error run with only that site). Twins keep the
speaker, so espeak-ng speaks them with the same voice, pitch and rate.

An error that only exists on top of another (English ``MONTH``: the final-cluster error
appears after TH-stopping made ``MONT``) cannot stand alone and gets no single-error twin.

``utt2twin`` (format in ``espnet_l2dual.data.twin_map``) maps each to its original.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, List, Sequence, Tuple

from espnet_l2dual.data.twin_map import CANONICAL, ORIGINAL, TwinError
from espnet_l2dual.text.english_l2_errors import english_l2_error_sites
from espnet_l2dual.text.error_sites import ErrorSite, only
from espnet_l2dual.text.korean_pronunciation import korean_l2_error_sites

TWIN_SET_SUFFIX = "_twins"


def twin_set_name(split: str) -> str:
    return split + TWIN_SET_SUFFIX


def replay(lang: str, canonical: Sequence[str], sites: Sequence[ErrorSite]) -> Tuple[List[str], List[ErrorSite]]:
    """The surface words with exactly the errors at ``sites`` applied to ``canonical``; also the sites realised."""
    kinds = {s.kind: 1.0 for s in sites}
    if lang == "ko":
        text, fired = korean_l2_error_sites(" ".join(canonical), kinds, only(set(sites)))
        return text.split(), fired
    return english_l2_error_sites(list(canonical), kinds, only(set(sites)))


def make_twins(lang: str, utt, twin_id: Callable[[str, str], str] = lambda orig, tag: f"{orig}-{tag}"):
    """``[(utterance, what)]`` for one utterance: itself, its canonical twin, its single-error twins.

    ``utt`` is a make_mini_corpus ``Utterance`` (its ``error_sites`` are the learner errors, the
    last entries of its ``rules``); empty when it has no learner error. ``what`` is the
    ``utt2twin`` value. Twins are new utterances of the same speaker.
    """
    sites = list(utt.error_sites)
    if not sites:
        return []
    base_rules = list(utt.rules[:len(utt.rules) - len(sites)])
    out = [(utt, ORIGINAL), (replace(utt, utt_id=twin_id(utt.utt_id, "c"), surface=list(utt.canonical),
                                     rules=base_rules, error_sites=[]), CANONICAL)]
    for n, site in enumerate(sites, start=1):
        surface, fired = replay(lang, utt.canonical, [site])
        if fired != [site]:
            continue  # this error exists only on top of another one
        error = TwinError(site.kind, site.word, utt.canonical[site.word], surface[site.word])
        twin = replace(utt, utt_id=twin_id(utt.utt_id, f"e{n:02d}"), surface=surface,
                       rules=base_rules + [site.kind], error_sites=[site])
        out.append((twin, str(error)))
    return out


def make_twin_set(lang: str, utts) -> Tuple[list, List[Tuple[str, str]]]:
    """The twin set of ``utts``: utterances sorted by id, and ``utt2twin`` rows ``(id, "original what")``."""
    rows = []
    for u in utts:
        rows += [(twin, u.utt_id, what) for twin, what in make_twins(lang, u)]
    rows.sort(key=lambda r: r[0].utt_id)
    return [r[0] for r in rows], [(twin.utt_id, f"{orig} {what}") for twin, orig, what in rows]
