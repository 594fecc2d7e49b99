"""The TextGrid reader: long and short formats, escapes, and errors at file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus_fixtures import long_textgrid, short_textgrid
from espnet_l2dual.corpus.textgrid import parse_textgrid, read_textgrid, tokenize
from espnet_l2dual.errors import DataError

TIERS = {
    "words": [(0.0, 0.3, ""), (0.3, 1.0, 'say "this"')],
    "phones": [(0.0, 0.3, "sil"), (0.3, 0.6, "DH,D,s"), (0.6, 1.0, "IH1")],
}


@pytest.mark.parametrize("make", [long_textgrid, short_textgrid])
def test_parses_both_formats(make) -> None:
    grid = parse_textgrid(make(TIERS), "x.TextGrid")
    assert [t.name for t in grid.tiers] == ["words", "phones"]
    assert grid.xmax == 1.0
    phones = grid.tier("PHONES")
    assert [iv.text for iv in phones.intervals] == ["sil", "DH,D,s", "IH1"]
    assert phones.intervals[1].xmin == 0.3 and phones.intervals[1].xmax == 0.6
    assert grid.tier("words").intervals[1].text == 'say "this"'  # "" unescaped


def test_long_format_lines_point_at_text_values() -> None:
    text = long_textgrid(TIERS)
    grid = parse_textgrid(text)
    iv = grid.tier("phones").intervals[1]
    assert text.splitlines()[iv.line - 1].strip() == 'text = "DH,D,s"'


def test_point_tier_and_comments() -> None:
    text = '''File type = "ooTextFile"
Object class = "TextGrid"
0 2 <exists> 1   ! one tier
"TextTier" "beats" 0 2 2
0.5 "a"
1.5 "b"
'''
    grid = parse_textgrid(text)
    assert grid.tiers[0].kind == "TextTier"
    assert [(p.time, p.mark) for p in grid.tiers[0].points] == [(0.5, "a"), (1.5, "b")]


def test_utf16_file(tmp_path: Path) -> None:
    p = tmp_path / "a.TextGrid"
    p.write_bytes(long_textgrid({"words": [(0, 1, "café")]}).encode("utf-16"))
    assert read_textgrid(p).tier("words").intervals[0].text == "café"


def test_tokenizer_skips_keys_and_indices() -> None:
    toks = list(tokenize('intervals [12]:\n    xmin = -1.5e-3\n    text = "a""b"\n<exists>'))
    assert [(t.kind, t.value, t.line) for t in toks] == [
        ("number", "-1.5e-3", 2), ("string", 'a"b', 3), ("flag", "exists", 4)]


def _broken(text: str, tmp_path: Path) -> DataError:
    p = tmp_path / "bad.TextGrid"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as e:
        read_textgrid(p)
    assert e.value.path == str(p)
    return e.value


def test_truncated_file(tmp_path: Path) -> None:
    lines = long_textgrid(TIERS).splitlines()
    err = _broken("\n".join(lines[:-3]) + "\n", tmp_path)
    assert "file ends early" in err.reason and err.line == len(lines) - 4


def test_string_where_number_expected(tmp_path: Path) -> None:
    text = long_textgrid(TIERS).replace("xmax = 0.6 ", 'xmax = "0.6" ', 1)
    err = _broken(text, tmp_path)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if '"0.6"' in l)
    assert err.line == line and "expected" in err.reason


def test_unterminated_string(tmp_path: Path) -> None:
    text = long_textgrid(TIERS).replace('text = "IH1" ', 'text = "IH1 ', 1)
    err = _broken(text, tmp_path)
    assert "unterminated string" in err.reason


def test_xmax_before_xmin(tmp_path: Path) -> None:
    text = long_textgrid({"phones": [(0.6, 0.3, "AH0")]})
    err = _broken(text, tmp_path)
    assert "xmax 0.3 < xmin 0.6" in err.reason
    assert text.splitlines()[err.line - 1].strip() == "xmax = 0.3"


def test_not_a_textgrid_and_trailing_values(tmp_path: Path) -> None:
    assert "not a Praat text file" in _broken('File type = "binary"\n', tmp_path).reason
    err = _broken(long_textgrid(TIERS) + '"extra"\n', tmp_path)
    assert "after the last tier" in err.reason


def test_bad_character_and_missing_tier(tmp_path: Path) -> None:
    err = _broken(long_textgrid(TIERS).replace("size = 2", "size = 2 #"), tmp_path)
    assert err.line == 7 and err.column is not None
    with pytest.raises(DataError, match="no tier named 'syllables'"):
        parse_textgrid(long_textgrid(TIERS), "g.TextGrid").tier("syllables")
