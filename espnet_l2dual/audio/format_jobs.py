"""Join the outputs of one set's audio dumping jobs into its dump dir (end of stage 3).

A job that did not finish (no scp of its own) stops the join: its part would be missing.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Dict, Optional, Sequence

from espnet_l2dual.data.dir_tables import DERIVED_FILES, VERBATIM_FILES, data_files, read_any_table, write_rows
from espnet_l2dual.errors import DataError
from espnet_l2dual.utils.fileio import PathLike, atomic_write, iter_table


_FORMAT_OUTPUTS = ("utt2num_samples", "utt2level_db")


SILENCE_DB = -60.0  # RMS dBFS below which a recording is reported as (near-)silent


def merge_format_jobs(
    dump_dir: PathLike, nj: int, out_scp: str = "wav.scp", src_data: Optional[PathLike] = None
) -> int:
    """Write ``dump_dir/{out_scp,utt2num_samples,audio_format,feats_type}``; return the number of utterances."""
    dump_dir = Path(dump_dir)
    job_dirs = [dump_dir / f"format.{k}" for k in range(1, nj + 1)]
    for job in job_dirs:
        if not (job / out_scp).is_file():
            raise DataError(job / out_scp, None, "missing: this format_wav_scp job did not finish (see its log)")
    scp = _concat(job_dirs, out_scp)
    num_samples = _concat(job_dirs, "utt2num_samples")
    if set(scp) != set(num_samples):
        raise DataError(dump_dir, None, f"{out_scp} and utt2num_samples of the jobs list different utterances")
    formats = {(job / "audio_format").read_text().strip() for job in job_dirs if (job / "audio_format").is_file()}
    if len(formats) > 1:
        raise DataError(dump_dir, None, f"the jobs used different audio formats: {', '.join(sorted(formats))}")

    if src_data is not None:
        _copy_source_tables(Path(src_data), dump_dir, set(scp), skip={out_scp, *_FORMAT_OUTPUTS})
    write_rows(dump_dir / "utt2num_samples", num_samples.items())
    if all((job / "utt2level_db").is_file() for job in job_dirs):
        levels = _concat(job_dirs, "utt2level_db")
        write_rows(dump_dir / "utt2level_db", levels.items())
        silent = sorted(u for u, v in levels.items() if float(v) < SILENCE_DB)
        if silent:
            print(f"merge_format_jobs: warning: {dump_dir}: {len(silent)}/{len(levels)} recordings are silent or "
                  f"near-silent (RMS < {SILENCE_DB:.0f} dBFS), e.g. {', '.join(silent[:3])}; stage 4 drops them "
                  "from training sets below --min_level_db", file=sys.stderr)
    for name, value in (("audio_format", formats.pop() if formats else None), ("feats_type", "raw")):
        if value:
            with atomic_write(dump_dir / name) as f:
                f.write(value + "\n")
    write_rows(dump_dir / out_scp, scp.items())
    return len(scp)


def _concat(job_dirs: Sequence[Path], name: str) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for job in job_dirs:
        for no, key, value in iter_table(job / name):
            if key in out:
                raise DataError(job / name, no, f"duplicate id '{key}' (in two jobs)")
            out[key] = value
    return out


def _copy_source_tables(src: Path, dst: Path, utts: set, skip: set) -> None:
    """Copy the other files of the source data dir, after checking the jobs covered its utterances."""
    src_utts = set(read_any_table(src / "wav.scp"))
    if src_utts != utts:
        missing = sorted(src_utts - utts)
        extra = sorted(utts - src_utts)
        detail = f"'{missing[0]}' not dumped" if missing else f"'{extra[0]}' is not in the source"
        raise DataError(src / "wav.scp", None, f"the format jobs do not cover this data dir ({detail})")
    for name in data_files(src):
        if name in skip or name in VERBATIM_FILES or name == "wav.scp":
            continue
        if name in DERIVED_FILES:  # spk2utt: copied as is, its utterances are unchanged
            (dst / name).write_bytes((src / name).read_bytes())
            continue
        write_rows(dst / name, read_any_table(src / name).items())
