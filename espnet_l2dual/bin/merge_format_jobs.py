"""Join the outputs of the ``format_wav_scp`` jobs of one set into the dump dir (end of stage 3).

Job k wrote ``DUMP_SET_DIR/format.k/{wav.scp,utt2num_samples,audio_format}``.
A job whose scp is missing did not finish; that is an error naming the job.
With ``--src_data`` the other files of the source data dir (texts, utt2spk,
...) are copied in too, after checking that the jobs covered exactly its
utterances, so the dump dir is a complete data dir.
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from espnet_l2dual.audio.format_jobs import merge_format_jobs
from espnet_l2dual.errors import DataError


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="merge_format_jobs",
        description="Join DUMP_SET_DIR/format.{1..NJ}/ (outputs of format_wav_scp) into DUMP_SET_DIR: "
        "sorted <out_scp> and utt2num_samples, plus audio_format and feats_type. With --src_data, "
        "also copy the source data dir's other files (texts, utt2spk, spk2utt ...).",
    )
    parser.add_argument("--nj", type=int, required=True, help="number of format jobs")
    parser.add_argument("--out_scp", default="wav.scp", help="scp name the jobs wrote")
    parser.add_argument("--src_data", default=None, help="the data dir that was dumped (e.g. data/train_sp)")
    parser.add_argument("dump_set_dir", help="e.g. dump/raw/train_sp")
    args = parser.parse_args(argv)
    if args.nj < 1:
        parser.error("--nj must be at least 1")
    try:
        n = merge_format_jobs(args.dump_set_dir, args.nj, args.out_scp, args.src_data)
    except (DataError, ValueError, OSError) as e:
        print(f"merge_format_jobs: error: {e}", file=sys.stderr)
        return 1
    print(f"merge_format_jobs: {n} utterances from {args.nj} jobs -> {args.dump_set_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
