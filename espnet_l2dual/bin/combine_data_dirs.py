"""Merge several data dirs into one (e.g. the original and its speed-perturbed copies).

A file is merged only when every source has it: a table covering only some
utterances would break the data-dir contract, so it is left out with a warning.
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from espnet_l2dual.data.combine import combine_data_dirs
from espnet_l2dual.errors import DataError


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="combine_data_dirs",
        description="Combine data dirs SRC... into DST: tables merged and sorted, spk2utt regenerated. "
        "Fails on an utterance id found in two sources. Files missing from some source are skipped.",
    )
    parser.add_argument("dst_dir")
    parser.add_argument("src_dirs", nargs="+")
    args = parser.parse_args(argv)
    try:
        n, skipped = combine_data_dirs(args.dst_dir, args.src_dirs)
    except (DataError, ValueError, OSError) as e:
        print(f"combine_data_dirs: error: {e}", file=sys.stderr)
        return 1
    for name in skipped:
        print(f"combine_data_dirs: warning: '{name}' is not in every source; not combined", file=sys.stderr)
    print(f"combine_data_dirs: {n} utterances from {len(args.src_dirs)} dirs -> {args.dst_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
