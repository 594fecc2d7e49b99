"""Drop utterances too short, too long or with too long a transcription (stage 4).

Duration comes from ``utt2num_samples`` (written by stage 3) and ``--fs``; the audio
level from ``utt2level_db`` (RMS dBFS, stage 3): below ``--min_level_db`` a recording is
silent or nearly so (a dead microphone, a failed export) and teaches the model to output
nothing.
Transcription length is counted in characters, spaces included, for both
``text_surface`` and ``text_meaning``: the longest a character tokenizer can
make it, so no output is cut whatever tokenizer stage 5 picks. Every
per-utterance file is restricted to the kept ids; spk2utt is regenerated.
SRC_DIR and DST_DIR may be the same dir (everything is read before writing).
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from espnet_l2dual.data.filter_dir import filter_data_dir
from espnet_l2dual.errors import DataError


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="filter_data_dir",
        description="Copy SRC_DIR to DST_DIR keeping the utterances whose duration (utt2num_samples / fs) "
        "is within [min, max] seconds and whose text_surface and text_meaning are at most --max_tokens "
        "characters long (spaces count).",
    )
    parser.add_argument("--fs", type=int, required=True, help="sampling rate of the dumped audio (Hz)")
    parser.add_argument("--min_wav_duration", type=float, default=0.1, help="seconds")
    parser.add_argument("--max_wav_duration", type=float, default=20.0, help="seconds")
    parser.add_argument("--max_tokens", type=int, default=500, help="characters per transcription")
    parser.add_argument("--min_level_db", type=float, default=float("-inf"),
                        help="drop recordings whose RMS level (utt2level_db, dBFS) is below this "
                             "(the recipe passes -60 for training sets; default: keep all)")
    parser.add_argument("src_dir")
    parser.add_argument("dst_dir")
    args = parser.parse_args(argv)
    if args.fs <= 0:
        parser.error("--fs must be positive")
    try:
        report = filter_data_dir(
            args.src_dir, args.dst_dir, args.fs, args.min_wav_duration, args.max_wav_duration, args.max_tokens,
            args.min_level_db,
        )
    except (DataError, ValueError, OSError) as e:
        print(f"filter_data_dir: error: {e}", file=sys.stderr)
        return 1
    print(f"filter_data_dir: {args.dst_dir}: {report.summary()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
