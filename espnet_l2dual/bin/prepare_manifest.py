"""Stage-1 adapter ``manifest``: a TSV (utt_id, wav, speaker, surface, meaning[, split]) -> data/{train,dev,test}.

The simplest way to bring any corpus in: write the TSV, run this. Without a
split column the split is speaker-disjoint by seed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

from espnet_l2dual.corpus.manifest_dirs import prepare_manifest
from espnet_l2dual.errors import DataError


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="prepare_manifest",
        description="TSV manifest 'utt_id<TAB>wav<TAB>speaker<TAB>surface<TAB>meaning[<TAB>train|dev|test]' "
        "(optional header line starting with utt_id; wav paths relative to the TSV) -> Kaldi data dirs "
        "OUT/{train,dev,test}. Without a split column: speaker-disjoint split by seed.",
    )
    parser.add_argument("--lang", required=True, choices=("ko", "en"))
    parser.add_argument("--manifest", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("data"), help="output root (default: data)")
    parser.add_argument("--dev_speakers", type=int, default=1, help="dev speakers of the seeded split (default 1)")
    parser.add_argument("--test_speakers", type=int, default=1, help="test speakers of the seeded split (default 1)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no_normalize", action="store_true",
                        help="write surface and meaning as given (default: normalise punctuation/case)")
    args = parser.parse_args(argv)
    try:
        text = prepare_manifest(args.lang, args.manifest, args.out, args.dev_speakers, args.test_speakers,
                                args.seed, not args.no_normalize)
    except (DataError, ValueError, OSError) as e:
        print(f"prepare_manifest: error: {e}", file=sys.stderr)
        return 1
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
