"""Mispronunciation detection and diagnosis (MDD): which canonical sounds a learner got wrong.

The standard hierarchical evaluation (Qian et al., "Capturing L2 segmental mispronunciations
with joint-sequence models in CAPT", ISCSLP 2010; used by the L2-ARCTIC benchmarks, e.g.
Leung et al. 2019, Lin & Wang 2021): the canonical units (what the prompt should sound like)
are aligned to the human annotation (what was said) and to the recogniser's hypothesis.
Each canonical unit is

- **correctly pronounced** when the annotation has the same unit at its place,
  **mispronounced** when the annotation substitutes or deletes it;
- **accepted** when the hypothesis has the canonical unit at its place, **rejected** otherwise.

TA = correct & accepted, FR = correct & rejected, FA = mispronounced & accepted,
TR = mispronounced & rejected; TR splits into CD (the hypothesis has the annotated unit at
that place: a correct diagnosis; for a deletion, the hypothesis deletes it too) and DE.
precision = TR/(TR+FR), recall = TR/(TR+FA), F1; FAR = FA/(FA+TR), FRR = FR/(FR+TA),
diagnosis error rate DER = DE/(CD+DE).

Insertions (units with no canonical counterpart) are not canonical units, so they enter no
cell; their number is reported beside the counts (``ins_human``, ``ins_hyp``). Alignments are
Levenshtein alignments (python-Levenshtein ``opcodes``); inside a ``replace`` block of unequal
length the units pair up from the left and the rest are deletions or insertions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import Levenshtein

Aligned = List[Optional[str]]  # per canonical unit: the unit at its place, None if deleted


def align_to(canonical: Sequence[str], other: Sequence[str]) -> Tuple[Aligned, int]:
    """For each canonical unit the unit of ``other`` at its place (None: deleted); and #insertions."""
    placed: Aligned = [None] * len(canonical)
    inserted = 0
    for op, i1, i2, j1, j2 in Levenshtein.opcodes(list(canonical), list(other)):
        if op in ("equal", "replace"):
            n = min(i2 - i1, j2 - j1)
            for k in range(n):
                placed[i1 + k] = other[j1 + k]
            inserted += (j2 - j1) - n
        elif op == "insert":
            inserted += j2 - j1
    return placed, inserted


@dataclass
class MddCounts:
    ta: int = 0
    fr: int = 0
    fa: int = 0
    tr: int = 0
    cd: int = 0
    de: int = 0
    ins_human: int = 0
    ins_hyp: int = 0
    n_utt: int = 0

    def add(self, other: "MddCounts") -> None:
        for k, v in asdict(other).items():
            setattr(self, k, getattr(self, k) + v)

    @property
    def n_canonical(self) -> int:
        return self.ta + self.fr + self.fa + self.tr

    def rates(self) -> Dict[str, Optional[float]]:
        """precision, recall, F1, FAR, FRR, DER in % (None where the denominator is 0)."""
        def pct(a: int, b: int) -> Optional[float]:
            return 100.0 * a / b if b else None

        p, r = pct(self.tr, self.tr + self.fr), pct(self.tr, self.tr + self.fa)
        # F1 = 2PR/(P+R) = 2TR/(2TR+FR+FA), defined where precision and recall are
        f1 = pct(2 * self.tr, 2 * self.tr + self.fr + self.fa) if p is not None and r is not None else None
        return {"precision": p, "recall": r, "f1": f1, "far": pct(self.fa, self.fa + self.tr),
                "frr": pct(self.fr, self.fr + self.ta), "der": pct(self.de, self.cd + self.de)}

    def to_json(self) -> dict:
        return {**asdict(self), "n_canonical": self.n_canonical,
                **{k: (None if v is None else round(v, 2)) for k, v in self.rates().items()}}


def count_utterance(canonical: Sequence[str], human: Sequence[str], hyp: Sequence[str],
                    mispronounced_at: Optional[List[bool]] = None) -> MddCounts:
    """TA/FR/FA/TR/CD/DE of one utterance (units, without word boundaries)."""
    said, ins_h = align_to(canonical, human)
    heard, ins_r = align_to(canonical, hyp)
    c = MddCounts(ins_human=ins_h, ins_hyp=ins_r, n_utt=1)
    for k, unit in enumerate(canonical):
        wrong = said[k] != unit
        if mispronounced_at is not None:
            mispronounced_at.append(wrong)
        accepted = heard[k] == unit
        if not wrong:
            c.ta += accepted
            c.fr += not accepted
        elif accepted:
            c.fa += 1
        else:
            c.tr += 1
            if heard[k] == said[k]:
                c.cd += 1
            else:
                c.de += 1
    return c


def count_corpus(canonical: Dict[str, Sequence[str]], human: Dict[str, Sequence[str]],
                 hyp: Dict[str, Sequence[str]]) -> Tuple[MddCounts, Dict[str, MddCounts]]:
    """Totals and per-utterance counts over the utterances of ``canonical`` (a missing hyp is empty)."""
    total, per_utt = MddCounts(), {}
    for utt in sorted(canonical):
        c = count_utterance(canonical[utt], human.get(utt, ()), hyp.get(utt, ()))
        per_utt[utt] = c
        total.add(c)
    return total, per_utt


def by_rule(per_utt: Dict[str, MddCounts], utt2rules: Dict[str, str]) -> Dict[str, dict]:
    """Recall (and counts) over the utterances in which each rule fired (``utt2rules``, mini corpora).

    A rule names a kind of error (e.g. ``th_stopping``); its recall is TR/(TR+FA) over the
    mispronounced units of the utterances where it fired (an utterance may carry several rules).
    """
    out: Dict[str, MddCounts] = {}
    for utt, c in per_utt.items():
        for rule in (utt2rules.get(utt, "-") or "-").split(","):
            if rule and rule != "-":
                out.setdefault(rule, MddCounts()).add(c)
    return {rule: {"n_utt": c.n_utt, "tr": c.tr, "fa": c.fa, "recall": c.rates()["recall"]}
            for rule, c in sorted(out.items())}
