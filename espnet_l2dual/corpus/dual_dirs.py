"""The data dirs of ``.trn`` lists in the dual convention -> data/{train,dev,test}.

Each line is ``<relative audio path> :: <transcript>`` (KsponSpeech style); the transcript's
``(meaning)/(surface)`` spans give both outputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Sequence

from espnet_l2dual.corpus.datadir_writer import Utterance, write_data_sets
from espnet_l2dual.corpus.split import (
    assign_by_lists,
    group_by_set,
    parse_split_lists,
    shared_speakers,
    speaker_disjoint_split,
)
from espnet_l2dual.corpus.summary import format_summary
from espnet_l2dual.text.dual_transcript import TagPolicy
from espnet_l2dual.corpus.trn import DEFAULT_SPEAKER_PATTERN, TrnUtterance, compile_speaker_pattern, read_trn
from espnet_l2dual.errors import DataError
from espnet_l2dual.text.divergence import default_unit


def prepare_dual(
    lang: str,
    trns: Sequence[Path],
    audio_root: Path,
    out: Path,
    speaker_pattern: str = DEFAULT_SPEAKER_PATTERN,
    split_lists: Optional[str] = None,
    num_dev: int = 1,
    num_test: int = 1,
    seed: int = 1,
    unknown_tags: str = "error",
) -> str:
    """Write out/{train,dev,test}; return the summary text."""
    policy = TagPolicy(unknown_tags=unknown_tags)
    regex = compile_speaker_pattern(speaker_pattern)
    seen: Dict[str, str] = {}
    entries: List[TrnUtterance] = []
    for trn in trns:
        entries.extend(read_trn(trn, lang, audio_root, regex, policy=policy, seen=seen))
    if not entries:
        raise DataError(trns[0] if trns else None, None, "no utterances in the .trn files")
    counts: Dict[str, int] = {}
    if split_lists:
        assigned = assign_by_lists(entries, parse_split_lists(split_lists),
                                   lambda e: (e.rel_path, e.utt.utt_id), lambda e: e.utt.utt_id)
        counts["utterances in no split list (unused)"] = len(entries) - len(assigned)
        set_of = lambda e: assigned.get(e.utt.utt_id)  # noqa: E731
    else:
        by_spk = speaker_disjoint_split({e.utt.speaker for e in entries}, num_dev, num_test, seed)
        set_of = lambda e: by_spk[e.utt.speaker]  # noqa: E731
    grouped = group_by_set(entries, set_of)
    sets: Dict[str, List[Utterance]] = {name: [e.utt for e in es] for name, es in grouped.items()}
    counts["speakers in more than one set"] = len(shared_speakers(sets, lambda u: u.speaker))
    write_data_sets(out, sets)
    return format_summary(f"dual ({lang}) {' '.join(map(str, trns))} -> {out}", sets, default_unit(lang), counts)
