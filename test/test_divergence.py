"""Tests for espnet_l2dual.text.divergence."""

import pytest

from espnet_l2dual.text.divergence import (
    Bin,
    assign_bin,
    default_unit,
    divergence,
    divergence_bins,
    to_units,
)


@pytest.mark.parametrize("unit", ["char", "jamo", "token"])
def test_identical_is_zero(unit):
    assert divergence("나 먹어요", "나 먹어요", unit) == 0.0


def test_char_known_distances():
    assert divergence("kitten", "sitting") == pytest.approx(3 / 7)
    assert divergence("abc", "abd") == pytest.approx(1 / 3)
    assert divergence("ab c", "abc") == 0.0  # spaces ignored


def test_symmetric_and_bounded_by_longer_side():
    assert divergence("a", "abcd") == divergence("abcd", "a") == pytest.approx(3 / 4)
    assert divergence("", "abc") == 1.0
    assert divergence("xyzxyzxyz", "a") == 1.0
    assert divergence("", "") == 0.0


def test_korean_char_vs_jamo():
    # syllables: 2 of 3 substituted
    assert divergence("머거요", "먹어요", "char") == pytest.approx(2 / 3)
    # jamo: 먹어요 = 먹 어 요 (7), 머거요 = 머 거 요 (6); tail ᆨ != lead ᄀ,
    # so: delete tail ᆨ, substitute lead ᄋ -> ᄀ = 2 edits over 7
    assert to_units("먹어요", "jamo") and len(to_units("먹어요", "jamo")) == 7
    assert divergence("머거요", "먹어요", "jamo") == pytest.approx(2 / 7)


def test_token_unit_on_phones():
    assert divergence("D IH S", "DH IH S", "token") == pytest.approx(1 / 3)
    # multi-letter phones count as one unit each: AA vs A is one substitution
    assert divergence("AA B", "A B", "token") == pytest.approx(1 / 2)
    assert divergence("D IH S IH Z", "DH IH S", "token") == pytest.approx(3 / 5)


def test_unknown_unit():
    with pytest.raises(ValueError, match="unknown divergence unit"):
        divergence("a", "b", "word")


def test_default_unit():
    assert default_unit("ko") == "jamo"
    assert default_unit("en") == "char"
    with pytest.raises(ValueError):
        default_unit("fr")


def test_default_bins():
    bins = divergence_bins()
    assert [b.label for b in bins] == ["0", "(0,0.1]", "(0.1,0.2]", "(0.2,1]"]
    assert isinstance(bins[0], Bin) and bins[0].point
    cases = {0.0: "0", 1e-9: "(0,0.1]", 0.1: "(0,0.1]", 0.1000001: "(0.1,0.2]", 0.2: "(0.1,0.2]",
             2 / 7: "(0.2,1]", 1.0: "(0.2,1]"}
    for value, label in cases.items():
        assert assign_bin(value, bins) == label, value


def test_bin_from_divergence():
    bins = divergence_bins()
    assert assign_bin(divergence("abcdefghij", "abcdefghiX"), bins) == "(0,0.1]"


def test_custom_bins_and_errors():
    bins = divergence_bins("0, 0.5, 1")
    assert [b.label for b in bins] == ["0", "(0,0.5]", "(0.5,1]"]
    with pytest.raises(ValueError, match="outside"):
        assign_bin(1.5, bins)
    with pytest.raises(ValueError, match="outside"):
        assign_bin(-0.1, bins)
    for bad in ["", "0", "0,0.2,0.1", "0,0,1", "0,x"]:
        with pytest.raises(ValueError, match="bad divergence bin edges"):
            divergence_bins(bad)
