"""Drop utterances too short, too long, too quiet or with too long a transcription (stage 4).

Transcription length is counted in characters, spaces included: the longest a character
tokenizer can make it, so no output is cut whatever tokenizer stage 5 picks. Every
per-utterance file is restricted to the kept ids; spk2utt is regenerated. Source and
destination may be the same dir (everything is read before writing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List

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
