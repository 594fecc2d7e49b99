"""Tests for espnet_l2dual.text.dual_transcript."""

import pytest

from espnet_l2dual.errors import DataError
from espnet_l2dual.text.dual_transcript import (
    DualTranscript,
    OutputTagPolicy,
    TagPolicy,
    format_dual_transcript,
    parse_dual_lines,
    parse_dual_transcript,
)


def parse(text, lang="ko", **kw):
    return parse_dual_transcript(text, lang, **kw)


def test_basic_korean_span():
    d = parse("나 (먹어요)/(머거요)")
    assert d == DualTranscript(meaning="나 먹어요", surface="나 머거요")


def test_kspon_example_spelling_is_meaning():
    d = parse("o/ 그럼 (3시)/(세 시)에 만나요. b/")
    assert d.meaning == "그럼 3시에 만나요"
    assert d.surface == "그럼 세 시에 만나요"


def test_english_example():
    d = parse("(THIS)/(DIS) IS GOOD", "en")
    assert d == DualTranscript(meaning="THIS IS GOOD", surface="DIS IS GOOD")


def test_plain_text_is_both_and_normalised():
    d = parse("hello, world!", "en")
    assert d.meaning == d.surface == "HELLO WORLD"


def test_frozen():
    d = parse("가")
    with pytest.raises(AttributeError):
        d.meaning = "x"


def test_empty_span_half_allowed():
    d = parse("나 ()/(음) 가요")
    assert d.meaning == "나 가요"
    assert d.surface == "나 음 가요"


# ---- malformed input: each with its line and 1-based column ------------------

@pytest.mark.parametrize(
    "text, column, reason",
    [
        ("나 (먹어요/(머거요)", 3, "unclosed '(': the next '(' comes before its ')'"),
        ("(this/(dis)", 1, "unclosed '('"),
        ("나 (먹어요", 3, "unbalanced '('"),
        ("나 (먹어요)/(머거요", 9, "unbalanced '('"),
        ("나 먹어요) 가", 6, "unbalanced ')'"),
        ("((a))/(b)", 1, "unclosed '('"),
        ("(a) 가", 4, "missing its second half"),
        ("(a)", 4, "missing its second half"),
        ("(a)/b", 5, "must be followed by '('"),
        ("(a)/", 5, "must be followed by '('"),
        ("(a)/(b))", 8, "unbalanced ')'"),
    ],
)
def test_malformed(text, column, reason):
    with pytest.raises(DataError) as ei:
        parse(text, path="data/text", line=7)
    e = ei.value
    assert (e.path, e.line, e.column) == ("data/text", 7, column)
    assert reason in str(e)
    assert str(e).startswith(f"data/text:7:{column}: ")


@pytest.mark.parametrize(
    "text, side",
    [("b/ n/", "meaning"), ("(b/)/(가)", "meaning"), ("(가)/(l/)", "surface"), ("?!", "meaning")],
)
def test_empty_after_cleaning(text, side):
    with pytest.raises(DataError, match=f"x:3: {side} transcription is empty"):
        parse(text, path="x", line=3)


def test_empty_after_dropping_marked_words():
    policy = TagPolicy(surface=OutputTagPolicy(drop_marked_words=True))
    with pytest.raises(DataError, match="surface transcription is empty"):
        parse("그+ 음/", policy=policy)


# ---- tags and policy ---------------------------------------------------------

def test_tags_dropped_by_default_words_kept():
    d = parse("b/ 그+ 그래서 l/ 음/ 뭐* o/ n/ u/ 했어")
    assert d.meaning == d.surface == "그 그래서 음 뭐 했어"


def test_drop_marked_words():
    pol = OutputTagPolicy(drop_marked_words=True)
    d = parse("b/ 그+ 그래서 음/ 뭐* 했어", policy=TagPolicy(meaning=pol, surface=pol))
    assert d.meaning == d.surface == "그래서 했어"


def test_policy_per_output():
    policy = TagPolicy(
        meaning=OutputTagPolicy(drop_marked_words=True),
        surface=OutputTagPolicy(keep_noise_tags=True, keep_word_marks=True),
    )
    d = parse("b/ 그+ 그래서 l/ 가요", policy=policy)
    assert d.meaning == "그래서 가요"
    assert d.surface == "b/ 그+ 그래서 l/ 가요"
    # a mark only on the surface side of a span: the meaning word is unmarked, so kept
    d = parse("(그래서)/(그래서+) 가요", policy=policy)
    assert d == DualTranscript("그래서 가요", "그래서+ 가요")


def test_kept_tags_bypass_normalisation_in_english():
    policy = TagPolicy(surface=OutputTagPolicy(keep_noise_tags=True, keep_word_marks=True))
    d = parse("b/ th-the* (cat)/(kat)", "en", policy=policy)
    assert d.surface == "b/ TH THE* KAT"
    assert d.meaning == "TH THE CAT"


def test_tags_inside_spans():
    d = parse("(b/ 안녕)/(안녕+)")
    assert d == DualTranscript("안녕", "안녕")


def test_policy_conflict_rejected():
    with pytest.raises(ValueError):
        OutputTagPolicy(keep_word_marks=True, drop_marked_words=True)


# ---- lines -------------------------------------------------------------------

def test_parse_dual_lines():
    lines = ["utt1 나 (먹어요)/(머거요)\n", "utt2 (THIS)/(DIS) 가\n"]
    out = parse_dual_lines(lines, "ko", path="t")
    assert list(out) == ["utt1", "utt2"]
    assert out["utt1"] == DualTranscript("나 먹어요", "나 머거요")


def test_parse_dual_lines_error_columns_count_the_id():
    lines = ["utt1 가\n", "utt2   나 (먹어요\n"]
    with pytest.raises(DataError) as ei:
        parse_dual_lines(lines, "ko", path="t")
    assert (ei.value.line, ei.value.column) == (2, 10)
    assert lines[1][ei.value.column - 1] == "("


@pytest.mark.parametrize(
    "lines, line, reason",
    [
        (["a 가", ""], 2, "empty line"),
        (["a 가", "b"], 2, "no transcript"),
        (["a 가", "a 나"], 2, "duplicate id 'a'"),
    ],
)
def test_parse_dual_lines_errors(lines, line, reason):
    with pytest.raises(DataError, match=f"t:{line}: .*{reason}"):
        parse_dual_lines(lines, "ko", path="t")


# ---- formatting --------------------------------------------------------------

def test_format_aligned_words():
    s = format_dual_transcript(["나", "먹어요"], ["나", "머거요"])
    assert s == "나 (먹어요)/(머거요)"
    assert parse(s) == DualTranscript("나 먹어요", "나 머거요")


def test_format_identical_and_unequal_lengths():
    assert format_dual_transcript(["A", "B"], ["A", "B"]) == "A B"
    s = format_dual_transcript(["3시에"], ["세", "시에"])
    assert s == "(3시에)/(세 시에)"
    assert parse(s) == DualTranscript("3시에", "세 시에")


def test_format_round_trip_english():
    m, s = ["THIS", "IS", "GOOD"], ["DIS", "IS", "GUD"]
    d = parse(format_dual_transcript(m, s), "en")
    assert (d.meaning.split(), d.surface.split()) == (m, s)


@pytest.mark.parametrize("bad", ["a(b", "a)", "", "a b"])
def test_format_rejects_unwritable_words(bad):
    with pytest.raises(ValueError):
        format_dual_transcript([bad], ["x"])


@pytest.mark.parametrize("tag", ["x/", "q/", "B/"])
def test_unknown_tag_is_an_error_naming_it_unless_told(tag):
    with pytest.raises(DataError, match=rf"data/text:7: unknown tag '{tag}' \(known: b/ l/ o/ n/ u/\)"):
        parse(f"그 {tag} 사람", path="data/text", line=7)
    assert parse_dual_transcript(f"그 {tag} 사람", "ko", policy=TagPolicy(unknown_tags="drop")).meaning == "그 사람"
    kept = parse_dual_transcript(f"그 {tag} 사람", "ko", policy=TagPolicy(unknown_tags="word")).meaning
    assert kept.split()[0] == "그" and len(kept.split()) == 3
    with pytest.raises(ValueError, match="unknown_tags must be one of"):
        TagPolicy(unknown_tags="ignore")
