"""Merge several data dirs into one (e.g. the original and its speed-perturbed copies).

A file is merged only when every source has it: a table covering only some utterances would
break the data-dir contract, so it is left out with a warning.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Sequence, Tuple

from espnet_l2dual.data.dir_tables import (
    DERIVED_FILES,
    SPEAKER_FILES,
    UNSUPPORTED_FILES,
    VERBATIM_FILES,
    data_files,
    write_rows,
    write_spk2utt,
)
from espnet_l2dual.errors import DataError
from espnet_l2dual.utils.fileio import PathLike, iter_table


def combine_data_dirs(dst: PathLike, srcs: Sequence[PathLike]) -> Tuple[int, List[str]]:
    """Write the union of ``srcs`` into ``dst``; return (number of utterances, names of skipped files)."""
    dst = Path(dst)
    srcs = [Path(s) for s in srcs]
    if not srcs:
        raise ValueError("no source data dirs given")
    for src in srcs:
        if not src.is_dir():
            raise DataError(src, None, "not a directory")
        if src.resolve() == dst.resolve():
            raise ValueError(f"destination {dst} is also a source")
        if not (src / "utt2spk").is_file():
            raise DataError(src / "utt2spk", None, "missing (every data dir needs it)")
        for name in UNSUPPORTED_FILES:
            if (src / name).exists():
                raise DataError(src / name, None, "segmented data dirs are not supported")
    names = [set(data_files(src)) - DERIVED_FILES for src in srcs]
    common = set.intersection(*names)
    skipped = sorted(set.union(*names) - common)

    dst.mkdir(parents=True, exist_ok=True)
    for name in skipped:  # a stale copy from an earlier run would not match the new utterances
        (dst / name).unlink(missing_ok=True)
    utt2spk: Dict[str, str] = {}
    for name in sorted(common):
        if name in VERBATIM_FILES:
            _copy_verbatim(name, srcs, dst)
            continue
        merged = _merge_tables(name, srcs, allow_same_value=name in SPEAKER_FILES)
        write_rows(dst / name, merged.items())
        if name == "utt2spk":
            utt2spk = merged
    write_spk2utt(dst, utt2spk)
    return len(utt2spk), skipped


def _merge_tables(name: str, srcs: Sequence[Path], allow_same_value: bool) -> Dict[str, str]:
    """Union of the ``name`` tables; an id in two sources is an error naming both (speaker files
    may repeat a speaker with the same value)."""
    merged: Dict[str, str] = {}
    origin: Dict[str, Path] = {}
    for src in srcs:
        path = src / name
        seen_here = set()
        for no, key, value in iter_table(path, allow_empty_value=True):
            if key in seen_here:
                raise DataError(path, no, f"duplicate id '{key}'")
            seen_here.add(key)
            if key in merged:
                if allow_same_value and merged[key] == value:
                    continue
                raise DataError(path, no, f"duplicate id '{key}' (also in {origin[key]})")
            merged[key] = value
            origin[key] = path
    return merged


def _copy_verbatim(name: str, srcs: Sequence[Path], dst: Path) -> None:
    contents = {(src / name).read_bytes() for src in srcs}
    if len(contents) > 1:
        raise DataError(srcs[0] / name, None, f"differs between the sources ({', '.join(map(str, srcs))})")
    (dst / name).write_bytes(contents.pop())
