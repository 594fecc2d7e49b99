"""Stage 5 tokenizers: ESPnet-style token lists per output, jamo and bpe included."""

from pathlib import Path

import pytest

from espnet_l2dual.text.tokenizer import espnet_token_type, make_tokenizer


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(f"u{i:03d} {t}\n" for i, t in enumerate(lines)), encoding="utf-8")
    return path


def _tokens(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")[:-1]


def test_char_token_list_has_espnet_specials(tmp_path: Path) -> None:
    text = _write(tmp_path / "text", ["THIS IS", "DIS IS"])
    tokens = _tokens(make_tokenizer(text, tmp_path / "tok", "char"))
    assert tokens[0] == "<blank>" and tokens[1] == "<unk>" and tokens[-1] == "<sos/eos>"
    assert set(tokens[2:-1]) == set("THISD") | {"<space>"}


def test_jamo_tokens_are_conjoining_jamo(tmp_path: Path) -> None:
    text = _write(tmp_path / "text", ["먹어요", "머거요 학교"])
    tokens = _tokens(make_tokenizer(text, tmp_path / "tok", "jamo"))
    body = set(tokens[2:-1])
    assert "<space>" in body
    assert "\u1106" in body  # initial ㅁ
    assert "\u11a8" in body  # final ㄱ: a different code point from the initial ㄱ
    assert all(len(t) == 1 for t in body - {"<space>"})


def test_bpe_model_and_list(tmp_path: Path) -> None:
    sents = ["I THINK THIS IS GOOD", "VERY GOOD FISH", "THE RICE IS HOT", "I LIKE THIS"] * 5
    text = _write(tmp_path / "text", sents)
    tokens = _tokens(make_tokenizer(text, tmp_path / "tok", "bpe", nbpe=30))
    assert (tmp_path / "tok" / "bpe.model").is_file()
    assert tokens[0] == "<blank>" and tokens[-1] == "<sos/eos>"
    assert any(t.startswith("\u2581") for t in tokens)
    assert not list((tmp_path / "tok").glob(".*tmp*"))


def test_unknown_token_type() -> None:
    with pytest.raises(ValueError, match="unknown token type 'foo'"):
        espnet_token_type("foo")
