"""Dump the audio of one wav.scp part at one sampling rate and format (stage 3, one job).

Inputs may be paths, ``cmd |`` pipes (speed perturbation) or ``x.ark:offset``
entries; outputs are 16-bit PCM, mono, at ``--fs``. Every output is written to
a temp file and renamed, so a killed job leaves no half-written file: a re-run
reuses a per-utterance file already finished (wav/flac) only when it was made from
the same source (the wav.scp value and the content of the files it reads, recorded
in ``OUT_DIR/source_keys``) at the same rate and format; arks (wav.ark/flac.ark) are
rewritten whole. ``OUT_DIR/<out_scp>`` is written last; its presence
means the job finished. ``merge_format_jobs`` then joins the jobs' outputs.
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from espnet_l2dual.audio.format_scp import AUDIO_FORMATS, format_scp
from espnet_l2dual.errors import DataError


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="format_wav_scp",
        description="Dump the audio of IN_SCP (one job's part of a wav.scp) to OUT_DIR: mono, 16-bit, "
        "resampled to --fs. Writes OUT_DIR/data/<utt>.<fmt> (wav, flac) or OUT_DIR/data/<fmt>.ark "
        "(wav.ark, flac.ark), OUT_DIR/<out_scp>, OUT_DIR/utt2num_samples, OUT_DIR/utt2level_db (RMS dBFS), OUT_DIR/audio_format. "
        "Resumable: finished per-utterance files are reused. Join the jobs with merge_format_jobs.",
    )
    parser.add_argument("--fs", type=int, required=True, help="output sampling rate (Hz)")
    parser.add_argument("--audio_format", default="wav", choices=AUDIO_FORMATS)
    parser.add_argument("--out_scp", default="wav.scp", help="name of the scp written in OUT_DIR")
    parser.add_argument(
        "--resampler", default=None, choices=("torchaudio", "scipy"), help="default: torchaudio if importable"
    )
    parser.add_argument("in_scp")
    parser.add_argument("out_dir", help="this job's output dir, e.g. dump/raw/train/format.3")
    args = parser.parse_args(argv)
    if args.fs <= 0:
        parser.error("--fs must be positive")
    try:
        n = format_scp(args.in_scp, args.out_dir, args.fs, args.audio_format, args.out_scp, args.resampler)
    except (DataError, ValueError, OSError) as e:
        print(f"format_wav_scp: error: {e}", file=sys.stderr)
        return 1
    print(f"format_wav_scp: {n} utterances -> {args.out_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
