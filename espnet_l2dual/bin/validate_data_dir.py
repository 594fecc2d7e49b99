"""Check a data dir against the contract: ``python -m espnet_l2dual.bin.validate_data_dir DIR``.

Prints one summary line and exits 0 when the dir is valid; otherwise prints
``file:line: reason`` to stderr and exits 1.
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional, Sequence

from espnet_l2dual.data.validate import DEFAULT_REQUIRED, validate_data_dir
from espnet_l2dual.errors import DataError


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="validate_data_dir",
        description="Check a Kaldi-style data dir (wav.scp, utt2spk, spk2utt, text_surface, text_meaning "
        "and the optional files) and report the first problem as file:line: reason.",
    )
    parser.add_argument("data_dir", help="the data dir, e.g. data/train")
    parser.add_argument(
        "--no_audio_check", action="store_true", help="do not check that audio paths in wav.scp exist"
    )
    parser.add_argument(
        "--require",
        default=",".join(DEFAULT_REQUIRED),
        help="comma-separated files required besides wav.scp, utt2spk, spk2utt (default: %(default)s)",
    )
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    required: List[str] = [name.strip() for name in args.require.split(",") if name.strip()]
    try:
        summary = validate_data_dir(args.data_dir, check_audio=not args.no_audio_check, required=required)
    except DataError as e:
        print(e, file=sys.stderr)
        return 1
    except OSError as e:
        print(f"validate_data_dir: {args.data_dir}: {e}", file=sys.stderr)
        return 1
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
