"""English learner error patterns, one test per pattern (rate 1.0, so deterministic)."""

import random

import pytest

from espnet_l2dual.text.english_l2_errors import apply_english_l2_errors


@pytest.mark.parametrize("kind, word, respelled", [
    ("th_stopping", "THIS", "DIS"),
    ("th_stopping", "THINK", "TINK"),
    ("r_l_swap", "RICE", "LICE"),
    ("r_l_swap", "WILL", "WIRR"),  # a doubled letter is one sound
    ("v_to_b", "VERY", "BERY"),
    ("vowel_epenthesis", "DESK", "DESKUH"),
    ("final_consonant_deletion", "BEST", "BES"),
    ("final_consonant_deletion", "WANT", "WAN"),
    ("f_to_p", "FISH", "PISH"),
])
def test_pattern(kind, word, respelled):
    words, fired = apply_english_l2_errors([word], {kind: 1.0}, random.Random(0))
    assert words == [respelled]
    assert fired == [kind]


def test_no_cluster_no_epenthesis_or_deletion():
    rates = {"vowel_epenthesis": 1.0, "final_consonant_deletion": 1.0}
    assert apply_english_l2_errors(["BACK", "SING", "BALL", "CAT"], rates, random.Random(0)) == (
        ["BACK", "SING", "BALL", "CAT"], [])


def test_rate_zero_keeps_words_and_count():
    words = "THE BROTHER RIDES A VERY FAST BIKE".split()
    assert apply_english_l2_errors(words, {}, random.Random(0)) == (words, [])
    rates = dict(th_stopping=.5, r_l_swap=.5, v_to_b=.5, f_to_p=.5)
    out, _ = apply_english_l2_errors(words, rates, random.Random(7))
    assert len(out) == len(words)
    assert out == apply_english_l2_errors(words, rates, random.Random(7))[0]


def test_unknown_kind():
    with pytest.raises(ValueError):
        apply_english_l2_errors(["A"], {"bogus": 1.0}, random.Random(0))
