"""Stage-1 adapter ``dual``: ``.trn`` lists in the dual convention -> data/{train,dev,test}.

Each line is ``<relative audio path> :: <transcript>`` (KsponSpeech style); the
transcript's ``(meaning)/(surface)`` spans give both outputs. Splits come from
list files (``--split_lists``; a ``.trn`` works as a list) or, by default, a
speaker-disjoint split by seed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

from espnet_l2dual.corpus.dual_dirs import prepare_dual
from espnet_l2dual.text.dual_transcript import UNKNOWN_TAG_ACTIONS
from espnet_l2dual.corpus.trn import DEFAULT_SPEAKER_PATTERN
from espnet_l2dual.errors import DataError


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="prepare_dual",
        description="Dual-convention .trn lists ('<audio path> :: <(meaning)/(surface) transcript>') -> "
        "Kaldi data dirs OUT/{train,dev,test} (text_surface, text_meaning, utt2lang). Audio: .wav, .flac, "
        "or raw .pcm (16 kHz 16-bit mono, read through sox).",
    )
    parser.add_argument("--lang", required=True, choices=("ko", "en"))
    parser.add_argument("--trn", type=Path, action="append", required=True, help="a .trn list (repeatable)")
    parser.add_argument("--audio_root", type=Path, required=True, help="directory the audio paths are relative to")
    parser.add_argument("--out", type=Path, default=Path("data"), help="output root (default: data)")
    parser.add_argument("--speaker_pattern", default=DEFAULT_SPEAKER_PATTERN,
                        help="regex with one group over the relative audio path giving the speaker id "
                        "(default: the parent directory name, %(default)s)")
    parser.add_argument("--split_lists", default=None,
                        help="train=FILE,dev=FILE,test=FILE: one relative audio path or utterance id per line "
                        "(a .trn file works); unlisted utterances are not used. Default: split by speaker and seed")
    parser.add_argument("--dev_speakers", type=int, default=1, help="dev speakers of the seeded split (default 1)")
    parser.add_argument("--test_speakers", type=int, default=1, help="test speakers of the seeded split (default 1)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--unknown_tags", default="error", choices=UNKNOWN_TAG_ACTIONS,
                        help="a tag-like word (letter + '/') that is not b/ l/ o/ n/ u/: error (default), "
                             "drop it, or keep it as a word")
    args = parser.parse_args(argv)
    try:
        text = prepare_dual(args.lang, args.trn, args.audio_root, args.out, args.speaker_pattern,
                            args.split_lists, args.dev_speakers, args.test_speakers, args.seed, args.unknown_tags)
    except (DataError, ValueError, OSError) as e:
        print(f"prepare_dual: error: {e}", file=sys.stderr)
        return 1
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
