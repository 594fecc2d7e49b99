"""Write each utterance's divergence into ``utt2divergence`` (stage 4; see :mod:`espnet_l2dual.data.utt2divergence`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

from espnet_l2dual.data.dir_tables import write_rows
from espnet_l2dual.data.utt2divergence import REFERENCES, compute_divergence, summary
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
    out_path = Path(args.data_dir) / "utt2divergence"
    if args.reference == "none":
        out_path.unlink(missing_ok=True)
        print(f"compute_divergence: {args.data_dir}: no divergence (--reference none)")
        return 0
    try:
        values, ref_path, unit = compute_divergence(args.data_dir, args.unit, args.reference, args.lang)
        write_rows(out_path, ((u, f"{d:.6f}") for u, d in values.items()))
    except (DataError, ValueError, OSError) as e:
        print(f"compute_divergence: error: {e}", file=sys.stderr)
        return 1
    print(f"compute_divergence: {args.data_dir} (surface vs {ref_path.name}, unit {unit}): {summary(values)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
