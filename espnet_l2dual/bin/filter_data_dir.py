"""Drop utterances too short, too long or with too long a transcription (stage 4).

Duration comes from ``utt2num_samples`` (written by stage 3) and ``--fs``; the audio
level from ``utt2level_db`` (RMS dBFS, stage 3): below ``--min_level_db`` a recording is
silent or nearly so (a dead microphone, a failed export) and teaches the model to output
nothing.
Transcription length is counted in characters, spaces included, for both
``text_surface`` and ``text_meaning``: the longest a character tokenizer can
make it, so no output is cut whatever tokenizer stage 5 picks. Every
per-utterance file is restricted to the kept ids; spk2utt is regenerated.
SRC_DIR and DST_DIR may be the same dir (everything is read before writing).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from espnet_l2dual.data.dir_tables import (
    SPEAKER_FILES,
    VERBATIM_FILES,
    read_any_table,
    utterance_files,
    write_rows,
    write_spk2utt,
)
from espnet_l2dual.errors import DataError
from espnet_l2dual.utils.fileio import PathLike, iter_table

TEXT_FILES = ("text_surface", "text_meaning")


@dataclass
class FilterReport:
    total: int = 0
    kept: List[str] = field(default_factory=list)
    too_short: int = 0
    too_long: int = 0
    too_many_tokens: int = 0
    silent: List[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"kept {len(self.kept)}/{self.total} (removed: {self.too_short} too short, "
            f"{self.too_long} too long, {self.too_many_tokens} too many tokens, "
            f"{len(self.silent)} silent{', e.g. ' + ', '.join(self.silent[:3]) if self.silent else ''})"
        )

    def culprits(self, min_duration: float, max_duration: float, max_tokens: int, min_level_db: float) -> str:
        """The options that removed utterances, with their values (what to change)."""
        named = [(self.too_short, f"--min_wav_duration {min_duration:g}"),
                 (self.too_long, f"--max_wav_duration {max_duration:g}"),
                 (self.too_many_tokens, f"--max_tokens {max_tokens}"),
                 (len(self.silent), f"--min_level_db {min_level_db:g}")]
        used = [option for count, option in sorted(named, key=lambda x: -x[0]) if count]
        return f"; removed by {', '.join(used)}: change that option" if used else ""


def select_utterances(
    src: Path, fs: int, min_duration: float, max_duration: float, max_tokens: int,
    min_level_db: float = float("-inf"),
) -> FilterReport:
    """Decide which utterances stay; each removed one is counted under its first failing reason."""
    num_samples_path = src / "utt2num_samples"
    if not num_samples_path.is_file():
        raise DataError(num_samples_path, None, "missing: durations come from it (run stage 3, format_wav_scp)")
    num_samples: Dict[str, int] = {}
    for no, utt, value in iter_table(num_samples_path):
        try:
            num_samples[utt] = int(value)
        except ValueError:
            raise DataError(num_samples_path, no, f"'{utt}': '{value}' is not a sample count") from None
    if (src / "wav.scp").is_file():
        for no, utt, _ in iter_table(src / "wav.scp"):
            if utt not in num_samples:
                raise DataError(src / "wav.scp", no, f"'{utt}' has no entry in utt2num_samples")
    texts = [read_any_table(src / name) for name in TEXT_FILES if (src / name).is_file()]
    levels: Dict[str, float] = {}
    if (src / "utt2level_db").is_file():
        for no, utt, value in iter_table(src / "utt2level_db"):
            try:
                levels[utt] = float(value)
            except ValueError:
                raise DataError(src / "utt2level_db", no, f"'{utt}': '{value}' is not a level in dB") from None

    report = FilterReport(total=len(num_samples))
    for utt in sorted(num_samples):
        duration = num_samples[utt] / fs
        if duration < min_duration:
            report.too_short += 1
        elif duration > max_duration:
            report.too_long += 1
        elif any(len(text.get(utt, "")) > max_tokens for text in texts):
            report.too_many_tokens += 1
        elif levels.get(utt, 0.0) < min_level_db:
            report.silent.append(utt)
        else:
            report.kept.append(utt)
    return report


def filter_data_dir(
    src: PathLike, dst: PathLike, fs: int, min_duration: float, max_duration: float, max_tokens: int,
    min_level_db: float = float("-inf"),
) -> FilterReport:
    """Write ``src`` restricted to the selected utterances into ``dst``."""
    src, dst = Path(src), Path(dst)
    report = select_utterances(src, fs, min_duration, max_duration, max_tokens, min_level_db)
    if not report.kept:
        hint = report.culprits(min_duration, max_duration, max_tokens, min_level_db)
        raise DataError(src, None, f"no utterance left: {report.summary()}{hint}")
    keep = set(report.kept)

    tables = {name: read_any_table(src / name) for name in utterance_files(src)}
    utt2spk = {u: s for u, s in tables.get("utt2spk", {}).items() if u in keep}
    speakers = set(utt2spk.values())
    speaker_tables = {name: read_any_table(src / name) for name in SPEAKER_FILES if (src / name).is_file()}
    verbatim = {name: (src / name).read_bytes() for name in VERBATIM_FILES if (src / name).is_file()}

    dst.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        write_rows(dst / name, ((u, v) for u, v in table.items() if u in keep))
    for name, table in speaker_tables.items():
        write_rows(dst / name, ((s, v) for s, v in table.items() if s in speakers))
    for name, content in verbatim.items():
        if src.resolve() != dst.resolve():
            (dst / name).write_bytes(content)
    if "utt2spk" in tables:
        write_spk2utt(dst, utt2spk)
    return report


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="filter_data_dir",
        description="Copy SRC_DIR to DST_DIR keeping the utterances whose duration (utt2num_samples / fs) "
        "is within [min, max] seconds and whose text_surface and text_meaning are at most --max_tokens "
        "characters long (spaces count).",
    )
    parser.add_argument("--fs", type=int, required=True, help="sampling rate of the dumped audio (Hz)")
    parser.add_argument("--min_wav_duration", type=float, default=0.1, help="seconds")
    parser.add_argument("--max_wav_duration", type=float, default=20.0, help="seconds")
    parser.add_argument("--max_tokens", type=int, default=500, help="characters per transcription")
    parser.add_argument("--min_level_db", type=float, default=float("-inf"),
                        help="drop recordings whose RMS level (utt2level_db, dBFS) is below this "
                             "(the recipe passes -60 for training sets; default: keep all)")
    parser.add_argument("src_dir")
    parser.add_argument("dst_dir")
    args = parser.parse_args(argv)
    if args.fs <= 0:
        parser.error("--fs must be positive")
    try:
        report = filter_data_dir(
            args.src_dir, args.dst_dir, args.fs, args.min_wav_duration, args.max_wav_duration, args.max_tokens,
            args.min_level_db,
        )
    except (DataError, ValueError, OSError) as e:
        print(f"filter_data_dir: error: {e}", file=sys.stderr)
        return 1
    print(f"filter_data_dir: {args.dst_dir}: {report.summary()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
