"""Pack a trained model into one zip for sharing (help: :mod:`espnet_l2dual.inference.packing`)."""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from espnet_l2dual.errors import DataError
from espnet_l2dual.inference import decode_settings, packing
from espnet_l2dual.inference.packing import pack


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=packing.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train_config", required=True)
    p.add_argument("--model_file", required=True)
    p.add_argument("--out", required=True, help="the zip to write, e.g. exp/<tag>/packed.zip")
    p.add_argument("--extra", nargs="*", default=[], help="more files to ship (RESULTS.md, README ...)")
    p.add_argument("--results_json", default=None, help="the scored results whose decode settings to pack "
                   "(default: results.json next to --model_file, if there is one)")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    try:
        results, settings = decode_settings.for_packing(args.results_json, args.model_file)
        out = pack(args.train_config, args.model_file, args.out, args.extra, settings)
    except DataError as e:
        print(f"pack_model: error: {e}", file=sys.stderr)
        return 1
    print(f"pack_model: {decode_settings.packing_line(results, settings)}")
    print(f"pack_model: wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
