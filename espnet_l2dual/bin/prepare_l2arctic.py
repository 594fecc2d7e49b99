"""Stage-1 adapter ``l2arctic``: L2-ARCTIC annotations -> data/{train,dev,test}.

Surface = perceived phones, text_canonical = canonical phones, meaning = prompt
words; the phone-label policy is in :mod:`espnet_l2dual.corpus.l2arctic`.
The split is by speaker: named test and dev speakers, every other speaker trains.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from espnet_l2dual.corpus.audio import audio_duration
from espnet_l2dual.corpus.datadir_writer import Utterance, write_data_sets
from espnet_l2dual.corpus.l2arctic import (
    DEFAULT_DEV_SPEAKERS,
    DEFAULT_TEST_SPEAKERS,
    SPEAKER_L1,
    read_annotated,
    speaker_dirs,
)
from espnet_l2dual.corpus.split import group_by_set, speaker_list_split
from espnet_l2dual.corpus.summary import format_summary
from espnet_l2dual.errors import DataError


def collect(root: Path, skip_bad: bool, counts: Counter) -> List[Utterance]:
    """Every annotated utterance under ``root`` (malformed ones skipped and counted if ``skip_bad``)."""
    utts: List[Utterance] = []
    for spk_dir in speaker_dirs(root):
        for tg in sorted((spk_dir / "annotation").glob("*.TextGrid")):
            try:
                a = read_annotated(spk_dir, tg, counts)
            except DataError as e:
                if not skip_bad:
                    raise
                print(f"prepare_l2arctic: skipped: {e}", file=sys.stderr)
                counts["skipped_utterances"] += 1
                continue
            utts.append(
                Utterance(
                    utt_id=f"{a.speaker}-{a.stem}",
                    speaker=a.speaker,
                    wav=str(a.wav.resolve()),
                    surface=" ".join(a.perceived),
                    meaning=a.meaning,
                    canonical=" ".join(a.canonical),
                    lang="en",
                    l1=SPEAKER_L1.get(a.speaker, "unknown"),
                    duration=audio_duration(a.wav),
                )
            )
    if not utts:
        raise DataError(root, None, "no annotated utterances (<SPK>/annotation/*.TextGrid) found")
    return utts


def prepare_l2arctic(
    root: Path, out: Path, dev_speakers: Sequence[str], test_speakers: Sequence[str], skip_bad: bool = False
) -> str:
    """Write out/{train,dev,test}; return the summary text."""
    counts: Counter = Counter()
    utts = collect(root, skip_bad, counts)
    set_of_spk = speaker_list_split({u.speaker for u in utts}, dev_speakers, test_speakers)
    sets: Dict[str, List[Utterance]] = group_by_set(utts, lambda u: set_of_spk[u.speaker])
    write_data_sets(out, sets)
    order = ("correct_phones", "substitutions", "deletions", "additions", "err_labels",
             "distortion_labels", "skipped_utterances")
    return format_summary(f"L2-ARCTIC {root} -> {out}", sets, "token", {k: counts[k] for k in order})


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
