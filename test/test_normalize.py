"""Tests for espnet_l2dual.text.normalize."""

import unicodedata

import pytest

from espnet_l2dual.text.normalize import hangul_to_jamo, jamo_to_hangul, normalize


def test_korean_composes_decomposed_jamo():
    decomposed = unicodedata.normalize("NFD", "먹어요")
    assert len(decomposed) == 7
    assert normalize(decomposed, "ko") == "먹어요"


def test_korean_strips_punctuation_and_collapses_space():
    assert normalize("  안녕하세요.   반가워요?! ", "ko") == "안녕하세요 반가워요"
    assert normalize("사과,배", "ko") == "사과 배"  # punctuation becomes a space, words do not fuse
    assert normalize("3시 ~ 4시", "ko") == "3시 4시"


def test_korean_keeps_case_and_latin():
    assert normalize("KTX 타요", "ko") == "KTX 타요"


def test_english_uppercases_and_keeps_inner_apostrophes():
    assert normalize("Don't   stop, John's dog!", "en") == "DON'T STOP JOHN'S DOG"
    assert normalize("'quoted' words'", "en") == "QUOTED WORDS"
    assert normalize("it\u2019s", "en") == "IT'S"
    assert normalize("well-known", "en") == "WELL KNOWN"


def test_english_phones_unchanged_but_upper():
    assert normalize("d ih s", "en") == "D IH S"
    assert normalize("AH0 T", "en") == "AH0 T"


def test_unknown_language():
    with pytest.raises(ValueError, match="unknown language"):
        normalize("x", "fr")


def test_hangul_to_jamo_decomposes_into_conjoining_jamo():
    j = hangul_to_jamo("먹어요")
    assert [hex(ord(c)) for c in j] == ["0x1106", "0x1165", "0x11a8", "0x110b", "0x1165", "0x110b", "0x116d"]
    assert hangul_to_jamo("a 1") == "a 1"


@pytest.mark.parametrize("text", ["먹어요", "나 머거요", "값이 없어요", "KTX 3시에 와요", ""])
def test_jamo_round_trip(text):
    assert jamo_to_hangul(hangul_to_jamo(text)) == text
