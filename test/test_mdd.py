"""MDD counts by hand on small aligned examples, and against an independent second count."""

from __future__ import annotations

import random

import pytest

from espnet_l2dual.scoring.mdd import MddCounts, align_to, by_rule, count_corpus, count_utterance


def _independent(canonical, human, hyp):
    """A second count with its own DP alignment (unit costs, diagonal preferred on ties)."""
    def align(a, b):
        n, m = len(a), len(b)
        d = [[0] * (m + 1) for _ in range(n + 1)]
        for i in range(n + 1):
            d[i][0] = i
        for j in range(m + 1):
            d[0][j] = j
        for i in range(1, n + 1):
            for j in range(1, m + 1):
                d[i][j] = min(d[i - 1][j - 1] + (a[i - 1] != b[j - 1]), d[i - 1][j] + 1, d[i][j - 1] + 1)
        placed, i, j = [None] * n, n, m
        while i > 0:
            if j > 0 and d[i][j] == d[i - 1][j - 1] + (a[i - 1] != b[j - 1]):
                placed[i - 1] = b[j - 1]
                i, j = i - 1, j - 1
            elif d[i][j] == d[i - 1][j] + 1:
                i -= 1
            else:
                j -= 1
        return placed
    said, heard = align(canonical, human), align(canonical, hyp)
    cells = dict(ta=0, fr=0, fa=0, tr=0, cd=0, de=0)
    for k, u in enumerate(canonical):
        wrong, acc = said[k] != u, heard[k] == u
        key = ("fa" if acc else "tr") if wrong else ("ta" if acc else "fr")
        cells[key] += 1
        if key == "tr":
            cells["cd" if heard[k] == said[k] else "de"] += 1
    return cells


def _cells(c: MddCounts) -> dict:
    return dict(ta=c.ta, fr=c.fr, fa=c.fa, tr=c.tr, cd=c.cd, de=c.de)


@pytest.mark.parametrize("canonical, human, hyp, expected", [
    # substitution TH->D detected and diagnosed; S recognised correctly
    ("DH IH S", "D IH S", "D IH S", dict(ta=2, fr=0, fa=0, tr=1, cd=1, de=0)),
    # substitution detected with the wrong diagnosis (T instead of D)
    ("DH IH S", "D IH S", "T IH S", dict(ta=2, fr=0, fa=0, tr=1, cd=0, de=1)),
    # missed: the recogniser hears the canonical unit (false acceptance)
    ("DH IH S", "D IH S", "DH IH S", dict(ta=2, fr=0, fa=1, tr=0, cd=0, de=0)),
    # a correct unit rejected (false rejection)
    ("DH IH S", "DH IH S", "DH IY S", dict(ta=2, fr=1, fa=0, tr=0, cd=0, de=0)),
    # deletion of the final K by the learner, the recogniser deletes it too: correct diagnosis
    ("D EH S K", "D EH S", "D EH S", dict(ta=3, fr=0, fa=0, tr=1, cd=1, de=0)),
    # deletion by the learner, the recogniser substitutes: detected, wrong diagnosis
    ("D EH S K", "D EH S", "D EH S T", dict(ta=3, fr=0, fa=0, tr=1, cd=0, de=1)),
])
def test_hand_counted_cells(canonical, human, hyp, expected):
    c = count_utterance(canonical.split(), human.split(), hyp.split())
    assert _cells(c) == expected
    assert _independent(canonical.split(), human.split(), hyp.split()) == expected


def test_insertions_enter_no_cell_and_are_reported():
    c = count_utterance("S T".split(), "S AH T".split(), "S AH T".split())  # epenthesis
    assert _cells(c) == dict(ta=2, fr=0, fa=0, tr=0, cd=0, de=0)
    assert (c.ins_human, c.ins_hyp) == (1, 1)
    assert align_to(["A", "B"], ["A", "X", "Y", "B"]) == (["A", "B"], 2)


def test_rates_and_trivial_detectors():
    canonical = {"u1": "DH IH S".split(), "u2": "D EH S K".split()}
    human = {"u1": "D IH S".split(), "u2": "D EH S".split()}
    total, _ = count_corpus(canonical, human, human)  # a perfect recogniser
    r = total.rates()
    assert (r["precision"], r["recall"], r["f1"], r["far"], r["frr"], r["der"]) == (100, 100, 100, 0, 0, 0)
    accept_all, _ = count_corpus(canonical, human, canonical)  # always accepts: recall 0
    assert accept_all.rates()["recall"] == 0 and accept_all.rates()["precision"] is None
    empty, _ = count_corpus(canonical, human, {})  # rejects everything
    assert empty.rates()["recall"] == 100 and empty.rates()["precision"] == pytest.approx(100 * 2 / 7)
    js = total.to_json()
    assert js["n_canonical"] == 7 and js["n_utt"] == 2 and js["f1"] == 100.0


def test_random_cases_match_the_independent_count():
    """One substitution at most per sequence: the minimal alignment is unique, so counts must agree."""
    rng = random.Random(0)
    units = list("ABCDE")

    def substitute(seq):
        seq = list(seq)
        if rng.random() < 0.7:
            k = rng.randrange(len(seq))
            seq[k] = rng.choice([u for u in units if u != seq[k]])
        return seq

    for _ in range(500):
        canonical = [rng.choice(units) for _ in range(rng.randint(1, 8))]
        human = substitute(canonical)
        hyp = list(human) if rng.random() < 0.3 else substitute(canonical)
        assert _cells(count_utterance(canonical, human, hyp)) == _independent(canonical, human, hyp)


def test_recall_per_rule():
    canonical = {"u1": "DH IH S".split(), "u2": "D EH S K".split()}
    human = {"u1": "D IH S".split(), "u2": "D EH S".split()}
    hyp = {"u1": "D IH S".split(), "u2": "D EH S K".split()}
    _, per_utt = count_corpus(canonical, human, hyp)
    rules = by_rule(per_utt, {"u1": "th_stopping", "u2": "cluster_drop,th_stopping"})
    assert rules["th_stopping"]["recall"] == 50.0 and rules["cluster_drop"]["recall"] == 0.0
