"""Tokens -> text for one output's token type (jamo recomposed into Hangul, bpe via SentencePiece)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, List, Optional, Sequence

from espnet_l2dual.errors import DataError
from espnet_l2dual.text.normalize import jamo_to_hangul

from espnet2.text.build_tokenizer import build_tokenizer

SPACE = "<space>"


def jamo_tokens_to_text(tokens: Sequence[str]) -> str:
    """Join conjoining-jamo tokens and recompose them into Hangul syllables (NFC)."""
    return jamo_to_hangul("".join(" " if t == SPACE else t for t in tokens)).strip()


def make_detokenizer(token_type: Optional[str], bpemodel: Optional[str]) -> Callable[[List[str]], str]:
    """Return ``tokens -> text`` for one output's token type (bpe | char | word | jamo)."""
    if token_type == "jamo":
        return jamo_tokens_to_text
    if token_type is None or token_type == "phn":  # phones: one token a unit, space-separated
        return lambda tokens: " ".join(t for t in tokens if t != SPACE)
    if token_type == "bpe":
        if not bpemodel or not Path(bpemodel).is_file():
            raise DataError(bpemodel or "<bpemodel>", None, "SentencePiece model of a bpe output not found")
        tokenizer = build_tokenizer(token_type="bpe", bpemodel=str(bpemodel))
    elif token_type in ("char", "word"):
        tokenizer = build_tokenizer(token_type=token_type)
    else:
        raise ValueError(f"unsupported token_type '{token_type}' (expected bpe, char, word, phn or jamo)")
    return lambda tokens: tokenizer.tokens2text(tokens).strip()
