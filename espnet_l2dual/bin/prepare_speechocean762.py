"""Stage-1 adapter ``speechocean762``: the official release -> data/{train,dev,test}.

Test = the official test set; dev = a fixed, seeded share of the official
*training* speakers (so nothing is ever tuned on test); train = the other
training speakers. The phone policy is in :mod:`espnet_l2dual.corpus.speechocean762`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

from espnet_l2dual.corpus.speechocean762_dirs import prepare_speechocean762
from espnet_l2dual.errors import DataError


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="prepare_speechocean762",
        description="speechocean762 release -> Kaldi data dirs OUT/{train,dev,test}: text_surface (perceived "
        "phones, or canonical without scores.json), text_canonical (canonical phones), text_meaning (words), "
        "utt2lang, utt2l1, utt2age, utt2gender. Test = official test; dev = seeded share of training speakers.",
    )
    parser.add_argument("--root", type=Path, required=True, help="release root holding WAVE/ train/ test/ resource/")
    parser.add_argument("--out", type=Path, default=Path("data"), help="output root (default: data)")
    parser.add_argument("--dev_fraction", type=float, default=0.1,
                        help="share of the official training speakers held out as dev (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the dev speaker choice (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        text = prepare_speechocean762(args.root, args.out, args.dev_fraction, args.seed)
    except (DataError, ValueError, OSError) as e:
        print(f"prepare_speechocean762: error: {e}", file=sys.stderr)
        return 1
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
