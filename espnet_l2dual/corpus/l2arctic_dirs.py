"""The data dirs of L2-ARCTIC: its annotations -> data/{train,dev,test}.

Surface = perceived phones, text_canonical = canonical phones, meaning = prompt words; the
phone-label policy is in :mod:`espnet_l2dual.corpus.l2arctic`. The split is by speaker.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List, Sequence

from espnet_l2dual.corpus.audio import audio_duration
from espnet_l2dual.corpus.datadir_writer import Utterance, write_data_sets
from espnet_l2dual.corpus.l2arctic import SPEAKER_L1, read_annotated, speaker_dirs
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
