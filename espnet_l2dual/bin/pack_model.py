"""Pack a trained model into one zip for sharing (stage 11).

The zip holds everything decoding needs and nothing tied to the recipe directory:

    config.yaml        the training config, file paths rewritten to in-zip paths
    model.pth          the weights
    files/...          files the config points to (bpe models, feature stats, token lists)
    token_list/<o>.txt each output's token list, one token a line (for people and other tools)
    extra/...          anything given with --extra
    meta.yaml          version, date, the file map and which config keys were rewritten

``Speech2DualText.from_packed(zip)`` unpacks it and decodes exactly as the original
(the packing itself is ``espnet_l2dual.inference.packing``).

    python -m espnet_l2dual.bin.pack_model --train_config exp/x/config.yaml \\
        --model_file exp/x/valid.acc.ave.pth --out exp/x/packed.zip
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from espnet_l2dual.errors import DataError
from espnet_l2dual.inference.packing import pack


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train_config", required=True)
    p.add_argument("--model_file", required=True)
    p.add_argument("--out", required=True, help="the zip to write, e.g. exp/<tag>/packed.zip")
    p.add_argument("--extra", nargs="*", default=[], help="more files to ship (RESULTS.md, README ...)")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    try:
        out = pack(args.train_config, args.model_file, args.out, args.extra)
    except DataError as e:
        print(f"pack_model: error: {e}", file=sys.stderr)
        return 1
    print(f"pack_model: wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
