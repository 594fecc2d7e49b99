"""Write each utterance's divergence into ``utt2divergence`` (stage 4; see :mod:`espnet_l2dual.data.utt2divergence`)."""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from espnet_l2dual.data.utt2divergence import REFERENCES, write_utt2divergence
from espnet_l2dual.errors import DataError
from espnet_l2dual.text.divergence import UNITS


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="compute_divergence",
        description="Write DATA_DIR/utt2divergence: normalised Levenshtein distance between text_surface "
        "and text_canonical (if present) or text_meaning, 6 decimals. Prints mean, median and the "
        "fraction of utterances with divergence 0.",
    )
    parser.add_argument("--lang", required=True, choices=("ko", "en"))
    parser.add_argument(
        "--unit", default="auto", choices=("auto",) + tuple(UNITS),
        help="auto: token for a phone surface, else jamo for ko, char for en"
    )
    parser.add_argument("--reference", default="auto", choices=REFERENCES,
                        help="auto: text_canonical if the data dir has it, else text_meaning; "
                        "none: write no utt2divergence (removes a stale one)")
    parser.add_argument("data_dir")
    args = parser.parse_args(argv)
    try:
        line = write_utt2divergence(args.data_dir, args.unit, args.reference, args.lang)
    except (DataError, ValueError, OSError) as e:
        print(f"compute_divergence: error: {e}", file=sys.stderr)
        return 1
    print(f"compute_divergence: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
