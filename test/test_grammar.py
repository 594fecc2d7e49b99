"""The mini-corpus grammars: deterministic per seed, 3-15 words, a real vocabulary."""

import random

import pytest

from espnet_l2dual.corpus import grammar_en, grammar_ko
from espnet_l2dual.text.korean_pronunciation import pronounce


@pytest.mark.parametrize("grammar", [grammar_ko, grammar_en])
def test_deterministic_per_seed(grammar):
    a = grammar.generate_sentences(50, random.Random(5))
    assert a == grammar.generate_sentences(50, random.Random(5))
    assert a != grammar.generate_sentences(50, random.Random(6))


@pytest.mark.parametrize("grammar", [grammar_ko, grammar_en])
def test_lengths_and_vocabulary(grammar):
    sentences = grammar.generate_sentences(500, random.Random(1))
    assert len(sentences) == 500
    assert all(3 <= len(s) <= 15 for s in sentences)
    assert len(grammar.vocabulary()) >= 300
    assert len({w for s in sentences for w in s}) >= 300


def test_english_is_uppercase_and_rich_in_error_contexts():
    words = [w for s in grammar_en.generate_sentences(300, random.Random(1)) for w in s]
    assert all(w.isupper() and w.isalpha() for w in words)
    for pattern in ("TH", "R", "L", "V", "F"):
        assert sum(pattern in w for w in words) > 30, pattern


def test_korean_sentences_fire_every_rule():
    fired = set()
    for s in grammar_ko.generate_sentences(300, random.Random(1)):
        fired.update(pronounce(" ".join(s))[1])
    assert {"liaison", "nasalisation", "tensification", "aspiration",
            "palatalisation", "lateralisation"} <= fired


def test_korean_conjugation():
    assert grammar_ko.formal("먹") == "먹습니다"
    assert grammar_ko.formal("가") == "갑니다"
    assert grammar_ko.formal("살") == "삽니다"
    assert grammar_ko.past("먹어요") == "먹었어요"
    assert grammar_ko.past("해요") == "했어요"
    assert grammar_ko.subj("책") == "책이" and grammar_ko.subj("나무") == "나무가"
