"""Does a surface hypothesis follow an injected learner error, normalise it, or do something else?"""

import pytest

from espnet_l2dual.analysis.error_following import (FOLLOWS, NORMALISES, OTHER, ErrorOutcome, classify,
                                                    classify_twins, error_spans, following_rates,
                                                    rate_difference)


@pytest.mark.parametrize("canonical,erroneous,hyp,expected", [
    # substitution (f_to_p)
    ("I COME FROM HERE", "I COME PROM HERE", "I COME PROM HERE", FOLLOWS),
    ("I COME FROM HERE", "I COME PROM HERE", "I COME FROM HERE", NORMALISES),
    ("I COME FROM HERE", "I COME PROM HERE", "A COME FROM HEAR", NORMALISES),  # elsewhere does not matter
    ("I COME FROM HERE", "I COME PROM HERE", "I COME BROM HERE", OTHER),
    # deletion (final consonant)
    ("THE BEST DAY", "THE BES DAY", "THE BES DAY", FOLLOWS),
    ("THE BEST DAY", "THE BES DAY", "THE BEST DAY", NORMALISES),
    ("THE BEST DAY", "THE BES DAY", "THE DAY", OTHER),
    ("A DESK", "A DES", "A DES", FOLLOWS),  # at the end of the sentence
    ("A DESK", "A DES", "A DESK", NORMALISES),
    ("A DESK", "A DES", "A DESKS", OTHER),
    # insertion (epenthesis), at the end of the sentence
    ("A DESK", "A DESKUH", "A DESKUH", FOLLOWS),
    ("A DESK", "A DESKUH", "A DESK", NORMALISES),
    # half reproduced: half of the inserted vowel, or the stop without the right voicing
    ("A DESK", "A DESKUH", "A DESKU", OTHER),
    ("I THINK SO", "I TINK SO", "I DINK SO", OTHER),
    ("I THINK SO", "I TINK SO", "I TNK SO", OTHER),
    ("I THINK SO", "I TINK SO", "I TINK SO TOO", FOLLOWS),
    # Hangul, one syllable changed inside an eojeol
    ("먹어요 커피", "먹어요 거피", "먹어요 거피", FOLLOWS),
    ("먹어요 커피", "먹어요 거피", "머거요 커피", NORMALISES),
    ("먹어요 커피", "먹어요 거피", "먹어요 거비", OTHER),
])
def test_classify_hand_made(canonical, erroneous, hyp, expected):
    assert classify(hyp, canonical, erroneous) == expected


def test_error_spans_are_whole_words():
    assert error_spans("I THINK SO", "I TINK SO") == ((2, 7), (2, 6))
    assert error_spans("A DESK", "A DESKUH") == ((2, 6), (2, 8))


def test_classify_refuses_no_error():
    with pytest.raises(ValueError, match="no error"):
        classify("A B", "A B", "A B")


TWINS = {  # the twin map, surfaces and the canonical of one original with two errors, two speakers
    "s1-u1": "s1-u1 original", "s1-u1-c": "s1-u1 canonical",
    "s1-u1-e01": "s1-u1 f_to_p@2:FROM>PROM", "s1-u1-e02": "s1-u1 th_stopping@3:THIS>DIS",
    "s2-u1": "s2-u1 original", "s2-u1-e01": "s2-u1 f_to_p@2:FROM>PROM",
}
SURFACE = {"s1-u1": "I COME PLOM DIS", "s1-u1-c": "I COME FROM THIS", "s1-u1-e01": "I COME PROM THIS",
           "s1-u1-e02": "I COME FROM DIS", "s2-u1": "I COME PROM THIS", "s2-u1-e01": "I COME PROM THIS"}
CANONICAL = {k: "I COME FROM THIS" for k in SURFACE}


def test_classify_twins_and_rates():
    hyps = {"s1-u1-e01": "I COME PROM THIS", "s1-u1-e02": "I COME FROM THIS", "s2-u1-e01": "I COME BROM THIS"}
    out = classify_twins(TWINS, CANONICAL, SURFACE, hyps)
    assert [(o.twin, o.original, o.speaker, o.kind, o.outcome) for o in out] == [
        ("s1-u1-e01", "s1-u1", "s1", "f_to_p", FOLLOWS),
        ("s1-u1-e02", "s1-u1", "s1", "th_stopping", NORMALISES),
        ("s2-u1-e01", "s2-u1", "s2", "f_to_p", OTHER)]
    rates = following_rates(out, n_resamples=200)
    assert [rates[k].point for k in (FOLLOWS, NORMALISES, OTHER)] == pytest.approx([1 / 3, 1 / 3, 1 / 3])
    assert rates[NORMALISES].n_spk == 2 and rates[NORMALISES].unit == "speakers"
    with pytest.raises(ValueError, match="no surface hypothesis for twin 's2-u1-e01'"):
        classify_twins(TWINS, CANONICAL, SURFACE, {k: v for k, v in hyps.items() if k != "s2-u1-e01"})


def _outcomes(model_outcomes, n_errors=2):
    """Many speakers, each with one original of ``n_errors`` errors: (speaker index, error index) -> outcome."""
    return [ErrorOutcome(f"s{i:02d}-u1-e{j}", f"s{i:02d}-u1", f"s{i:02d}", "f_to_p", model_outcomes(i, j))
            for i in range(20) for j in range(n_errors)]


def test_rate_difference_is_paired_and_blocked():
    mtl = _outcomes(lambda i, j: NORMALISES if (i + j) % 4 else FOLLOWS)  # 3/4 normalised
    stl = _outcomes(lambda i, j: NORMALISES if (i + j) % 4 == 0 else FOLLOWS)  # 1/4 normalised
    diff = rate_difference(mtl, stl, n_resamples=500)
    assert diff.point == pytest.approx(0.5)
    lo, hi = diff.interval()
    assert 0 < lo < 0.5 < hi
    same = rate_difference(mtl, mtl, n_resamples=200)
    assert same.point == 0 and same.interval() == (0.0, 0.0)
    with pytest.raises(ValueError, match="different twins"):
        rate_difference(mtl, stl[:-1], n_resamples=10)


def test_rate_difference_resamples_both_models_with_one_draw():
    """Speakers differ a lot, the models by exactly one more normalised error per utterance:
    a paired draw gives that difference in every replicate."""
    def normalised(extra):
        return lambda i, j: NORMALISES if j < (0 if i < 10 else 2) + extra else FOLLOWS
    diff = rate_difference(_outcomes(normalised(1), 4), _outcomes(normalised(0), 4), n_resamples=300)
    assert diff.interval() == pytest.approx((0.25, 0.25))
