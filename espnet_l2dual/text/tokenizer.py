"""Stage 5's tokenizer and token list of one output, made the way an ESPnet recipe makes them.

SentencePiece trains the ``bpe`` models; ESPnet's own ``tokenize_text`` counts the vocabulary,
so token lists look exactly like an ESPnet recipe's: ``<blank>`` first, ``<unk>`` second,
``<sos/eos>`` last.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from espnet_l2dual.errors import DataError
from espnet_l2dual.utils.fileio import atomic_write, iter_table, remove_earlier_temps


TOKEN_TYPES = ("bpe", "char", "jamo", "word")
SPECIAL_SYMBOLS = ["<blank>:0", "<unk>:1", "<sos/eos>:-1"]


def espnet_token_type(token_type: str) -> tuple[str, Optional[str]]:
    """Map our user-facing token type to ESPnet's (token_type, g2p)."""
    if token_type == "jamo":
        return "phn", "korean_jaso"
    if token_type not in TOKEN_TYPES:
        raise ValueError(f"unknown token type '{token_type}' (expected {', '.join(TOKEN_TYPES)})")
    return token_type, None


def write_plain_text(kaldi_text: Path, out: Path) -> int:
    """Strip utterance ids: SentencePiece trains on plain sentences."""
    n = 0
    with atomic_write(out) as f:
        for _, _, value in iter_table(kaldi_text):
            f.write(value + "\n")
            n += 1
    return n


def train_sentencepiece(text: Path, prefix: Path, vocab_size: int, model_type: str) -> None:
    """Train a SentencePiece model; the vocabulary is capped by what the text allows."""
    import sentencepiece as spm

    spm.SentencePieceTrainer.train(
        input=str(text),
        model_prefix=str(prefix),
        vocab_size=vocab_size,
        model_type=model_type,
        character_coverage=1.0,
        input_sentence_size=10_000_000,
        hard_vocab_limit=False,
        minloglevel=2,
    )


def make_tokenizer(
    text: Path, out_dir: Path, token_type: str, nbpe: int = 100, bpemode: str = "unigram"
) -> Path:
    """Write ``out_dir/tokens.txt`` (and ``bpe.model`` for bpe); return the token list path."""
    from espnet2.bin.tokenize_text import tokenize

    out_dir.mkdir(parents=True, exist_ok=True)
    remove_earlier_temps(out_dir / "tokens.txt", [".bpe.*.tmp*", ".tokens.txt.*.tmp"])
    esp_type, g2p = espnet_token_type(token_type)
    bpemodel: Optional[str] = None
    if token_type == "bpe":
        plain = out_dir / "train.txt"
        write_plain_text(text, plain)
        tmp_prefix = out_dir / f".bpe.{os.getpid()}.tmp"
        train_sentencepiece(plain, tmp_prefix, nbpe, bpemode)
        os.replace(f"{tmp_prefix}.model", out_dir / "bpe.model")
        os.replace(f"{tmp_prefix}.vocab", out_dir / "bpe.vocab")
        bpemodel = str(out_dir / "bpe.model")
    tokens = out_dir / "tokens.txt"
    tmp = out_dir / f".tokens.txt.{os.getpid()}.tmp"
    tokenize(
        input=str(text),
        output=str(tmp),
        field="2-",
        delimiter=None,
        token_type=esp_type,
        space_symbol="<space>",
        non_linguistic_symbols=None,
        bpemodel=bpemodel,
        log_level="WARNING",
        write_vocabulary=True,
        vocabulary_size=0,
        remove_non_linguistic_symbols=False,
        cutoff=0,
        add_symbol=SPECIAL_SYMBOLS,
        cleaner=None,
        g2p=g2p,
        add_nonsplit_symbol=[],
    )
    os.replace(tmp, tokens)
    return tokens


def dropped_characters(texts: List[Path], token_type: str, bpemodel: Optional[str] = None
                       ) -> Dict[str, Tuple[int, Path, int, str]]:
    """Characters the tokenizer turns into nothing (jamo drops Latin letters and digits).

    Returns ``{char: (utterances with it, first file, its line, its utt id)}``; a model can
    neither learn nor output such characters, so their transcripts would silently change.
    """
    from espnet2.text.build_tokenizer import build_tokenizer

    esp_type, g2p = espnet_token_type(token_type)
    tokenizer = build_tokenizer(esp_type, bpemodel=bpemodel, g2p_type=g2p, space_symbol="<space>")
    verdict: Dict[str, bool] = {}
    found: Dict[str, Tuple[int, Path, int, str]] = {}
    for text in texts:
        for no, utt, value in iter_table(text):
            for ch in sorted(set(value) - {" "}):
                if ch not in verdict:
                    verdict[ch] = not [t for t in tokenizer.text2tokens(ch) if t != "<space>"]
                if verdict[ch]:
                    n, *first = found.get(ch, (0, text, no, utt))
                    found[ch] = (n + 1, *first)
    return found


def check_representable(texts: List[Path], token_type: str, bpemodel: Optional[str] = None) -> None:
    """DataError at the first utterance with a character the tokenizer drops (with counts)."""
    found = dropped_characters(texts, token_type, bpemodel)
    if not found:
        return
    first = min(found.values(), key=lambda v: (texts.index(v[1]), v[2]))
    chars = " ".join(f"'{c}' ({n} utt)" for c, (n, *_rest) in sorted(found.items()))
    raise DataError(first[1], first[2], f"'{first[3]}': the {token_type} tokenizer drops characters of "
                    f"this output: {chars}; normalise them in the corpus (e.g. spell Latin words and digits "
                    f"in Hangul) or choose another --<output>_token_type (char)")
