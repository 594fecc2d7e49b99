"""Korean standard pronunciation rules and learner errors, one test per rule."""

import random

import pytest

from espnet_l2dual.text.korean_pronunciation import korean_l2_errors, pronounce, pronounce_word


@pytest.mark.parametrize("rule, spelling, said", [
    ("liaison", "먹어요", "머거요"),
    ("nasalisation", "국물", "궁물"),
    ("nasalisation", "입니다", "임니다"),
    ("nasalisation", "받는", "반는"),
    ("tensification", "학교", "학꾜"),
    ("tensification", "국밥", "국빱"),
    ("aspiration", "좋다", "조타"),
    ("aspiration", "축하", "추카"),
    ("palatalisation", "같이", "가치"),
    ("palatalisation", "굳이", "구지"),
    ("lateralisation", "신라", "실라"),
    ("lateralisation", "칼날", "칼랄"),
])
def test_rule(rule, spelling, said):
    surface, fired = pronounce_word(spelling)
    assert surface == said
    assert rule in fired


def test_more_contexts():
    assert pronounce_word("있는")[0] == "인는"       # neutralisation then nasalisation
    assert pronounce_word("좋아요") == ("조아요", ["h_deletion"])
    assert pronounce_word("읽어요")[0] == "일거요"   # double coda splits
    assert pronounce_word("꽃")[0] == "꼳"


def test_rules_stay_inside_the_eojeol():
    surface, fired = pronounce("책 있어요")
    assert surface == "책 이써요"  # no liaison across the space
    assert pronounce("먹어요")[0] == "머거요"
    assert pronounce("hello 먹어요")[0] == "hello 머거요"  # non-Hangul passes through


def test_no_rule_no_change():
    assert pronounce("아버지 나무") == ("아버지 나무", [])


@pytest.mark.parametrize("kind, before, after", [
    ("deaspiration", "카", "가"),
    ("deaspiration", "추", "주"),
    ("detensing", "꼬", "고"),
    ("detensing", "싸", "사"),
    ("coda_deletion", "밥", "바"),
    ("vowel_eo_o", "머", "모"),
    ("vowel_ae_e", "배", "베"),
    ("vowel_eu_u", "그", "구"),
])
def test_l2_error(kind, before, after):
    text, fired = korean_l2_errors(before, {kind: 1.0}, random.Random(0))
    assert text == after
    assert fired == [kind]


def test_l2_errors_rate_zero_and_determinism():
    text = "머거요 학꾜에 가써요"
    assert korean_l2_errors(text, {}, random.Random(0)) == (text, [])
    rates = {"deaspiration": .5, "detensing": .5, "coda_deletion": .5, "vowel_eo_o": .5}
    assert korean_l2_errors(text, rates, random.Random(3)) == korean_l2_errors(text, rates, random.Random(3))
    with pytest.raises(ValueError):
        korean_l2_errors(text, {"nonsense": 1.0}, random.Random(0))
