"""Transcribe audio files with a packed dual model (help: :mod:`espnet_l2dual.inference.transcription`)."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Optional, Sequence

from espnet_l2dual.inference import transcription
from espnet_l2dual.inference.decode_settings import DEFAULT_BATCH_SIZE
from espnet_l2dual.inference.options import DEFAULTS, TYPES
from espnet_l2dual.report.transcription_page import write_page


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=transcription.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="packed model zip (stage 11)")
    p.add_argument("audio", nargs="+", help="audio files (any format soundfile reads)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--text", default=None, help="the prompt the learner read: prompted detection "
                   "(default: prompt-free, from the model's meaning output)")
    p.add_argument("--lang", default=None, choices=("ko", "en"), help="language of the words "
                   "(default: ko when the model's tokens are jamo, else en)")
    for name in ("beam_size", "ctc_weight", "penalty", "maxlenratio", "minlenratio"):  # None: not given
        p.add_argument(f"--{name}", type=TYPES[name], default=None,
                       help=f"default: the packed model's (as its RESULTS.md was decoded), else {DEFAULTS[name]}")
    p.add_argument("--batch_size", type=int, default=None, help="files decoded together (one batched beam "
                   "search per output; the same hypotheses as one at a time; default: the packed model's, "
                   f"else {DEFAULT_BATCH_SIZE})")
    p.add_argument("--cache_dir", default=None, help="where the zip is unpacked (default ~/.cache/espnet_l2dual)")
    p.add_argument("--html", default=None, metavar="OUT.html", help="also write the recordings as an HTML page "
                   "(audio players, both outputs with their differing words marked, mispronounced words; "
                   "audio linked relative to the page, opens from file://)")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    if args.batch_size is not None and args.batch_size < 1:
        print(f"transcribe: error: --batch_size must be >= 1, got {args.batch_size}", file=sys.stderr)
        return 2
    from espnet_l2dual.utils.devices import device_problem

    problem = device_problem(args.device)
    if problem is not None:
        print(f"transcribe: error: --device {args.device} {problem}: use --device cpu", file=sys.stderr)
        return 2
    from espnet_l2dual.errors import DataError

    try:
        with contextlib.redirect_stdout(sys.stderr):  # stdout is for transcriptions, not import chatter
            from espnet_l2dual.inference.file_transcription import transcribe_files
            from espnet_l2dual.inference.speech2dualtext import Speech2DualText

            s2t = Speech2DualText.from_packed(args.model, cache_dir=args.cache_dir, device=args.device,
                                              beam_size=args.beam_size, ctc_weight=args.ctc_weight,
                                              penalty=args.penalty, maxlenratio=args.maxlenratio,
                                              minlenratio=args.minlenratio, batch_size=args.batch_size)
    except (DataError, ValueError) as e:
        print(f"transcribe: error: {e}", file=sys.stderr)
        return 1
    batch_size = s2t.settings.batch_size
    print(f"transcribe: decoding with {s2t.settings.describe()}", file=sys.stderr, flush=True)
    html = Path(args.html) if args.html else None
    failed, rows, noted = transcribe_files(s2t, args.audio, batch_size, args.lang, args.text, html,
                                           Path(args.model).name)
    if args.html:
        write_page(Path(args.html), rows, args.model, noted)
        print(f"transcribe: wrote {args.html}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
