"""Stage-1 adapter ``manifest``: a TSV (utt_id, wav, speaker, surface, meaning[, split]) -> data/{train,dev,test}.

The simplest way to bring any corpus in: write the TSV, run this. Without a
split column the split is speaker-disjoint by seed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

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


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="prepare_manifest",
        description="TSV manifest 'utt_id<TAB>wav<TAB>speaker<TAB>surface<TAB>meaning[<TAB>train|dev|test]' "
        "(optional header line starting with utt_id; wav paths relative to the TSV) -> Kaldi data dirs "
        "OUT/{train,dev,test}. Without a split column: speaker-disjoint split by seed.",
    )
    parser.add_argument("--lang", required=True, choices=("ko", "en"))
    parser.add_argument("--manifest", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("data"), help="output root (default: data)")
    parser.add_argument("--dev_speakers", type=int, default=1, help="dev speakers of the seeded split (default 1)")
    parser.add_argument("--test_speakers", type=int, default=1, help="test speakers of the seeded split (default 1)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no_normalize", action="store_true",
                        help="write surface and meaning as given (default: normalise punctuation/case)")
    args = parser.parse_args(argv)
    try:
        text = prepare_manifest(args.lang, args.manifest, args.out, args.dev_speakers, args.test_speakers,
                                args.seed, not args.no_normalize)
    except (DataError, ValueError, OSError) as e:
        print(f"prepare_manifest: error: {e}", file=sys.stderr)
        return 1
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
