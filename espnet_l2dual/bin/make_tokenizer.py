"""Stage 5: one tokenizer and token list per output.

SentencePiece trains the ``bpe`` models; ESPnet's own ``tokenize_text`` counts the
vocabulary, so token lists look exactly like an ESPnet recipe's: ``<blank>`` first,
``<unk>`` second, ``<sos/eos>`` last.  ``jamo`` is ESPnet's phoneme tokenizer with the
``korean_jaso`` g2p (Hangul decomposed into conjoining jamo, ``<space>`` between words).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

from espnet_l2dual.errors import DataError
from espnet_l2dual.text.tokenizer import TOKEN_TYPES, check_representable, make_tokenizer


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--token_type", required=True, choices=TOKEN_TYPES)
    p.add_argument("--text", required=True, type=Path, help="Kaldi text: utt_id transcription")
    p.add_argument("--out_dir", required=True, type=Path, help="e.g. data/token_list/surface")
    p.add_argument("--nbpe", type=int, default=100, help="bpe vocabulary size")
    p.add_argument("--bpemode", default="unigram", choices=("unigram", "bpe"))
    p.add_argument("--check_text", type=Path, action="append", default=[],
                   help="other Kaldi texts of this output (dev, test) checked with --text for characters "
                        "the tokenizer drops")
    return p


def main(argv: Optional[List[str]] = None) -> None:
    args = get_parser().parse_args(argv)
    try:
        tokens = make_tokenizer(args.text, args.out_dir, args.token_type, args.nbpe, args.bpemode)
        bpemodel = str(args.out_dir / "bpe.model") if args.token_type == "bpe" else None
        check_representable([args.text, *args.check_text], args.token_type, bpemodel)
    except (DataError, OSError) as e:
        print(f"make_tokenizer: error: {e}", file=sys.stderr)
        sys.exit(1)
    n = sum(1 for _ in open(tokens, encoding="utf-8"))
    print(f"{tokens}: {n} tokens ({args.token_type})", file=sys.stderr)


if __name__ == "__main__":
    main()
