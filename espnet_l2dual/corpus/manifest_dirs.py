"""The data dirs of a manifest TSV (utt_id, wav, speaker, surface, meaning[, split]).

The simplest way to bring any corpus in. Without a split column the split is speaker-disjoint
by seed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List

from espnet_l2dual.corpus.datadir_writer import Utterance, write_data_sets
from espnet_l2dual.corpus.manifest import read_manifest
from espnet_l2dual.corpus.split import SETS, group_by_set, shared_speakers, speaker_disjoint_split
from espnet_l2dual.corpus.summary import format_summary
from espnet_l2dual.errors import DataError
from espnet_l2dual.text.divergence import default_unit


def prepare_manifest(
    lang: str, manifest: Path, out: Path, num_dev: int = 1, num_test: int = 1, seed: int = 1,
    normalize_text: bool = True,
) -> str:
    """Write out/{train,dev,test}; return the summary text."""
    rows = read_manifest(manifest, lang, normalize_text)
    if rows[0].split is not None:
        _need_every_set(manifest, {r.split for r in rows})
        grouped = group_by_set(rows, lambda r: r.split)
    else:
        try:
            by_spk = speaker_disjoint_split({r.utt.speaker for r in rows}, num_dev, num_test, seed)
        except ValueError as e:
            raise DataError(manifest, None, f"{e}: pass other --dev_speakers N --test_speakers N "
                            "(in --local_data_opts), or add a split column (train|dev|test)") from None
        grouped = group_by_set(rows, lambda r: by_spk[r.utt.speaker])
    sets: Dict[str, List[Utterance]] = {name: [r.utt for r in rs] for name, rs in grouped.items()}
    counts = {"speakers in more than one set": len(shared_speakers(sets, lambda u: u.speaker))}
    write_data_sets(out, sets)
    return format_summary(f"manifest ({lang}) {manifest} -> {out}", sets, default_unit(lang), counts)


def _need_every_set(manifest: Path, used: set) -> None:
    """One line naming the manifest, the empty set(s) of its split column and the fix."""
    empty = [name for name in SETS if name not in used]
    if empty:
        raise DataError(manifest, None, f"the split column puts no utterance in {' or '.join(empty)}: add rows "
                        f"with split {' / '.join(empty)}, or drop the split column to split by speaker "
                        "(--dev_speakers N --test_speakers N in --local_data_opts)")
