"""Independent recount with jiwer, so a sclite quirk cannot silently change a result."""

from __future__ import annotations

from typing import Mapping, Sequence

import jiwer

from espnet_l2dual.scoring.sclite import ErrorCounts


def jiwer_counts(refs: Mapping[str, Sequence[str]],
                 hyps: Mapping[str, Sequence[str]]) -> ErrorCounts:
    """Edit counts of ``hyps`` against ``refs`` (units joined by spaces; missing hyps are empty)."""
    utts = list(refs)
    if not utts:
        return ErrorCounts(n_ref=0, sub=0, dele=0, ins=0, n_utt=0)
    out = jiwer.process_words(
        reference=[" ".join(refs[u]) for u in utts],
        hypothesis=[" ".join(hyps.get(u, [])) for u in utts],
    )
    n_ref = sum(len(refs[u]) for u in utts)
    return ErrorCounts(n_ref=n_ref, sub=out.substitutions, dele=out.deletions,
                       ins=out.insertions, n_utt=len(utts))


class ScoreMismatch(AssertionError):
    """sclite and jiwer disagree beyond what their alignment costs allow: do not trust the scores."""


# sclite's default alignment costs (a substitution weighs 4, an insertion or deletion 3).
SCLITE_SUB_COST = 4
SCLITE_INS_DEL_COST = 3


def sclite_cost(c: ErrorCounts) -> int:
    return SCLITE_SUB_COST * c.sub + SCLITE_INS_DEL_COST * (c.dele + c.ins)


def assert_agree(sclite: ErrorCounts, levenshtein: ErrorCounts, what: str) -> bool:
    """Fail loudly unless the two scorers agree; return True when their totals are equal.

    Both must count the same reference units. jiwer finds the fewest edits; sclite
    the cheapest alignment under its costs, and where two alignments cost the same
    it may pick one with more edits (e.g. 3 subs + 4 del + 2 ins instead of 6 subs +
    2 del, both costing 30). So the totals must be equal, or else sclite must have
    more edits *and* no higher cost than jiwer's alignment. Anything else (a unit
    sclite read as trn syntax, a dropped utterance, a parsing slip) raises.
    """
    rates_equal = abs(sclite.rate - levenshtein.rate) < 1e-6
    if sclite.n_ref == levenshtein.n_ref and sclite.n_utt == levenshtein.n_utt:
        if sclite.errors == levenshtein.errors and rates_equal:
            return True
        if sclite.errors > levenshtein.errors and sclite_cost(sclite) <= sclite_cost(levenshtein):
            return False
    raise ScoreMismatch(
        f"{what}: sclite and jiwer disagree: sclite #utt={sclite.n_utt} N={sclite.n_ref} "
        f"S/D/I={sclite.sub}/{sclite.dele}/{sclite.ins} ({sclite.rate:.4f}%), "
        f"jiwer #utt={levenshtein.n_utt} N={levenshtein.n_ref} "
        f"S/D/I={levenshtein.sub}/{levenshtein.dele}/{levenshtein.ins} ({levenshtein.rate:.4f}%)")
