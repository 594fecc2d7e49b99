"""Split a table into N contiguous parts for N parallel jobs.

Parts are balanced by utterance count. With an utt2spk map, no speaker is cut
across two parts (per-speaker processing such as CMVN needs all of a
speaker's utterances in one job), so the table must list each speaker's
utterances together, as a sorted data dir with speaker-prefixed ids does.
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional, Sequence

from espnet_l2dual.data.lines import PathLike, read_keyed_lines
from espnet_l2dual.errors import DataError
from espnet_l2dual.utils.fileio import atomic_write, read_table


def part_sizes(total: int, num_parts: int) -> List[int]:
    """Sizes of ``num_parts`` near-equal contiguous parts of ``total`` items (larger ones first)."""
    if num_parts < 1:
        raise ValueError("need at least one part")
    base, extra = divmod(total, num_parts)
    return [base + (1 if i < extra else 0) for i in range(num_parts)]


def group_cuts(group_sizes: Sequence[int], num_parts: int) -> List[int]:
    """Indices into ``group_sizes`` where parts start (first is 0), keeping groups whole.

    Each cut goes to the group boundary nearest the ideal cumulative count
    ``k * total / num_parts``, while leaving at least one group for every part.
    """
    num_groups = len(group_sizes)
    if num_parts > num_groups:
        raise ValueError(f"cannot split {num_groups} groups into {num_parts} parts")
    cumulative = [0]
    for size in group_sizes:
        cumulative.append(cumulative[-1] + size)
    total = cumulative[-1]
    cuts = [0]
    for k in range(1, num_parts):
        lo = cuts[-1] + 1  # this part gets at least one group
        hi = num_groups - (num_parts - k)  # each later part gets at least one group
        target = k * total / num_parts
        best = min(range(lo, hi + 1), key=lambda j: (abs(cumulative[j] - target), j))
        cuts.append(best)
    return cuts


def split_lines(
    in_path: PathLike, num_parts: int, utt2spk: Optional[PathLike] = None
) -> List[List[str]]:
    """The lines of ``in_path`` in ``num_parts`` contiguous parts."""
    rows = read_keyed_lines(in_path)
    if utt2spk is None:
        if num_parts > len(rows):
            raise DataError(in_path, None, f"cannot split {len(rows)} utterances into {num_parts} parts")
        parts, start = [], 0
        for size in part_sizes(len(rows), num_parts):
            parts.append([line for _, _, line in rows[start : start + size]])
            start += size
        return parts

    spk_of = read_table(utt2spk)
    groups: List[List[str]] = []
    seen_speakers = set()
    previous = None
    for no, key, line in rows:
        if key not in spk_of:
            raise DataError(in_path, no, f"utterance '{key}' is not in {utt2spk}")
        spk = spk_of[key]
        if spk != previous:
            if spk in seen_speakers:
                raise DataError(
                    in_path, no, f"utterances of speaker '{spk}' are not contiguous (sort the data dir)"
                )
            seen_speakers.add(spk)
            groups.append([])
            previous = spk
        groups[-1].append(line)
    if num_parts > len(groups):
        raise DataError(in_path, None, f"cannot split {len(groups)} speakers into {num_parts} parts")
    cuts = group_cuts([len(g) for g in groups], num_parts) + [len(groups)]
    return [[line for g in groups[a:b] for line in g] for a, b in zip(cuts, cuts[1:])]


def split_scp(in_path: PathLike, out_paths: Sequence[PathLike], utt2spk: Optional[PathLike] = None) -> None:
    """Write ``in_path`` split into ``len(out_paths)`` files (each written atomically)."""
    parts = split_lines(in_path, len(out_paths), utt2spk)
    for out, lines in zip(out_paths, parts):
        with atomic_write(out) as f:
            f.writelines(line + "\n" for line in lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="split_scp.sh",
        description="Split a Kaldi table into N contiguous parts, balanced by utterances "
        "(or by speakers, never splitting one, with --utt2spk).",
    )
    parser.add_argument("--utt2spk", help="keep each speaker's utterances in one part")
    parser.add_argument("in_scp", help="the table to split")
    parser.add_argument("out_scp", nargs="+", help="output files, one per part")
    args = parser.parse_args(argv)
    try:
        split_scp(args.in_scp, args.out_scp, args.utt2spk)
    except (DataError, OSError) as e:
        print(f"split_scp: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
