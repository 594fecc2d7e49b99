"""Make a speed-perturbed copy of a data dir (stage 2), Kaldi style.

The audio is not touched: each wav.scp entry becomes a ``sox ... speed F |``
pipe, evaluated when stage 3 dumps the audio. Utterance and speaker ids get
the prefix ``spF-`` so the copies can be combined with the original dir
(factor 1.0 keeps the ids, which is how the original joins the combination).
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from espnet_l2dual.data.speed_perturb import perturb_data_dir
from espnet_l2dual.errors import DataError


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="perturb_speed",
        description="Write a speed-perturbed copy of SRC_DIR to DST_DIR: ids prefixed 'spF-', "
        "wav.scp entries piped through 'sox ... speed F', utt2dur scaled, every other "
        "per-utterance file copied under the new ids (utt2num_samples dropped: stage 3 redoes it).",
    )
    parser.add_argument("--factor", type=float, required=True, help="speed factor, e.g. 0.9 or 1.1")
    parser.add_argument("src_dir")
    parser.add_argument("dst_dir")
    args = parser.parse_args(argv)
    try:
        n = perturb_data_dir(args.src_dir, args.dst_dir, args.factor)
    except (DataError, ValueError, OSError) as e:
        print(f"perturb_speed: error: {e}", file=sys.stderr)
        return 1
    print(f"perturb_speed: {n} utterances at speed {args.factor:g} -> {args.dst_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
