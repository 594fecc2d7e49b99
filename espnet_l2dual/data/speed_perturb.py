"""A speed-perturbed copy of a data dir (stage 2), Kaldi style.

The audio is not touched: each wav.scp entry becomes a ``sox ... speed F |`` pipe, evaluated
when stage 3 dumps the audio. Utterance and speaker ids get the prefix ``spF-`` so the copies
can be combined with the original dir (factor 1.0 keeps the ids).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Dict

from espnet_l2dual.data.dir_tables import (
    SPEAKER_FILES,
    UNSUPPORTED_FILES,
    VERBATIM_FILES,
    read_any_table,
    utterance_files,
    write_rows,
    write_spk2utt,
)
from espnet_l2dual.errors import DataError
from espnet_l2dual.utils.fileio import PathLike

# Durations shrink by the factor; sample counts are stale and redone by stage 3.


# Durations shrink by the factor; sample counts are stale and redone by stage 3.
DURATION_FILES = frozenset({"utt2dur", "reco2dur"})


DROPPED_FILES = frozenset({"utt2num_samples"})


_ARK_OFFSET = re.compile(r"\.ark:\d+$")


def speed_prefix(factor: float) -> str:
    """Id prefix for a factor: ``sp0.9-``; empty for 1.0."""
    return "" if factor == 1.0 else f"sp{factor:g}-"


def sox_speed_command(entry: str, factor: float) -> str:
    """The wav.scp value that plays ``entry`` (a path or a ``cmd |`` pipe) at ``factor`` speed."""
    entry = entry.strip()
    if entry.endswith("|"):
        return f"{entry[:-1].rstrip()} | sox -D -t wav - -t wav - speed {factor:g} |"
    in_type = "flac" if entry.lower().endswith(".flac") else "wav"
    return f"sox -D -t {in_type} {shlex.quote(entry)} -t wav - speed {factor:g} |"


def perturb_data_dir(src: PathLike, dst: PathLike, factor: float) -> int:
    """Write the ``factor``-speed copy of ``src`` into ``dst``; return the number of utterances."""
    src, dst = Path(src), Path(dst)
    if factor <= 0:
        raise ValueError(f"speed factor must be positive, got {factor}")
    if src.resolve() == dst.resolve():
        raise ValueError(f"source and destination are the same dir: {src}")
    for name in UNSUPPORTED_FILES:
        if (src / name).exists():
            raise DataError(src / name, None, "segmented data dirs are not supported by speed perturbation")
    for required in ("wav.scp", "utt2spk"):
        if not (src / required).is_file():
            raise DataError(src / required, None, "missing (every data dir needs it)")
    prefix = speed_prefix(factor)
    utt2spk = read_any_table(src / "utt2spk")
    new_utt2spk = {prefix + utt: prefix + spk for utt, spk in utt2spk.items()}

    dst.mkdir(parents=True, exist_ok=True)
    for name in utterance_files(src):
        if name in DROPPED_FILES:
            (dst / name).unlink(missing_ok=True)  # a stale copy would not match the new audio
            continue
        table = read_any_table(src / name)
        _check_keys(src / name, table, utt2spk)
        if name == "wav.scp" and factor != 1.0:
            table = {utt: _perturbed_entry(src / name, utt, v, factor) for utt, v in table.items()}
        elif name in DURATION_FILES:
            table = {utt: _scaled_duration(src / name, utt, v, factor) for utt, v in table.items()}
        elif name == "utt2spk":
            table = {utt: prefix + spk for utt, spk in table.items()}
        write_rows(dst / name, ((prefix + utt, v) for utt, v in table.items()))
    for name in SPEAKER_FILES:
        if (src / name).is_file():
            write_rows(dst / name, ((prefix + spk, v) for spk, v in read_any_table(src / name).items()))
    for name in VERBATIM_FILES:
        if (src / name).is_file():
            (dst / name).write_bytes((src / name).read_bytes())
    write_spk2utt(dst, new_utt2spk)
    return len(new_utt2spk)


def _check_keys(path: Path, table: Dict[str, str], utt2spk: Dict[str, str]) -> None:
    unknown = [k for k in table if k not in utt2spk]
    if unknown:
        raise DataError(path, None, f"id '{unknown[0]}' is not in utt2spk ({len(unknown)} such ids)")


def _perturbed_entry(path: Path, utt: str, entry: str, factor: float) -> str:
    if _ARK_OFFSET.search(entry):
        raise DataError(path, None, f"'{utt}': an ark offset cannot be speed-perturbed; use the original audio")
    return sox_speed_command(entry, factor)


def _scaled_duration(path: Path, utt: str, value: str, factor: float) -> str:
    try:
        return f"{float(value) / factor:.4f}"
    except ValueError:
        raise DataError(path, None, f"'{utt}': duration '{value}' is not a number") from None
