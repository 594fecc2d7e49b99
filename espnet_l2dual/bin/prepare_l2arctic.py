"""Stage-1 adapter ``l2arctic``: L2-ARCTIC annotations -> data/{train,dev,test}.

Surface = perceived phones, text_canonical = canonical phones, meaning = prompt
words; the phone-label policy is in :mod:`espnet_l2dual.corpus.l2arctic`.
The split is by speaker: named test and dev speakers, every other speaker trains.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

from espnet_l2dual.corpus.l2arctic import DEFAULT_DEV_SPEAKERS, DEFAULT_TEST_SPEAKERS
from espnet_l2dual.corpus.l2arctic_dirs import prepare_l2arctic
from espnet_l2dual.errors import DataError


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="prepare_l2arctic",
        description="L2-ARCTIC annotated utterances -> Kaldi data dirs OUT/{train,dev,test} with text_surface "
        "(perceived phones), text_canonical (canonical phones), text_meaning (prompt), utt2lang, utt2l1.",
    )
    parser.add_argument("--root", type=Path, required=True,
                        help="L2-ARCTIC root holding <SPK>/{wav,transcript,annotation}")
    parser.add_argument("--out", type=Path, default=Path("data"), help="output root (default: data)")
    parser.add_argument("--test_speakers", default=" ".join(DEFAULT_TEST_SPEAKERS),
                        help="space-separated test speakers (default: %(default)s)")
    parser.add_argument("--dev_speakers", default=" ".join(DEFAULT_DEV_SPEAKERS),
                        help="space-separated dev speakers (default: %(default)s)")
    parser.add_argument("--skip_bad", action="store_true",
                        help="skip (and count) utterances whose annotation is malformed instead of failing")
    args = parser.parse_args(argv)
    try:
        text = prepare_l2arctic(args.root, args.out, args.dev_speakers.split(), args.test_speakers.split(),
                                args.skip_bad)
    except (DataError, ValueError, OSError) as e:
        print(f"prepare_l2arctic: error: {e}", file=sys.stderr)
        return 1
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
