"""Dump the audio of one wav.scp part at one sampling rate and format: one job of stage 3.

Every output is written to a temp file and renamed, so a killed job leaves no half-written
file; a re-run reuses a per-utterance file only when it was made from the same source at the
same rate and format (``OUT_DIR/source_keys``). ``OUT_DIR/<out_scp>`` is written last: its
presence means the job finished.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import soundfile

from espnet_l2dual.audio.read import read_audio, to_mono
from espnet_l2dual.audio.resample import resample
from espnet_l2dual.errors import DataError
from espnet_l2dual.utils.digest import entry_files, file_sha1, text_sha1
from espnet_l2dual.utils.fileio import PathLike, atomic_write, iter_table, reporting_no_space


AUDIO_FORMATS = ("wav", "flac", "wav.ark", "flac.ark")
_SOUNDFILE_FORMAT = {"wav": "WAV", "flac": "FLAC"}
_TMP_SUFFIX = ".tmp"


# ---------------------------------------------------------------- samples


def to_int16(samples: np.ndarray) -> np.ndarray:
    """16-bit PCM, clipping instead of wrapping around."""
    return np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int16)


# ---------------------------------------------------------------- writing


def format_scp(
    in_scp: PathLike,
    out_dir: PathLike,
    fs: int,
    audio_format: str = "wav",
    out_scp: str = "wav.scp",
    backend: Optional[str] = None,
    progress: bool = True,
) -> int:
    """Dump every entry of ``in_scp`` under ``out_dir``; return the number of utterances."""
    if audio_format not in AUDIO_FORMATS:
        raise ValueError(f"--audio_format must be one of {', '.join(AUDIO_FORMATS)}, got '{audio_format}'")
    out_dir = Path(out_dir)
    audio_dir = out_dir / "data"
    audio_dir.mkdir(parents=True, exist_ok=True)
    for stale in audio_dir.glob(f".*{_TMP_SUFFIX}"):  # left by a killed run of this job
        stale.unlink()
    entries = [(no, utt, value) for no, utt, value in iter_table(in_scp)]
    for no, utt, _ in entries:
        if "/" in utt or utt.startswith("."):
            raise DataError(in_scp, no, f"utterance id '{utt}' cannot be used as a file name")

    report = _Progress(len(entries), f"format_wav_scp: {out_dir}", enabled=progress)
    rows: List[Tuple[str, str, int]] = []  # (utt, scp value, num samples)
    levels: Dict[str, float] = {}
    if audio_format.endswith(".ark"):
        rows = _write_ark(in_scp, entries, audio_dir, fs, audio_format.split(".")[0], backend, report, levels)
    else:
        journal = _SourceKeys(out_dir / "source_keys")
        for no, utt, value in entries:
            key = source_key(value, fs, audio_format)
            rows.append(_write_file(in_scp, no, utt, value, audio_dir, fs, audio_format, backend, journal, key,
                                    levels))
            report.step()
        journal.compact({utt for utt, _, _ in rows})

    rows.sort(key=lambda r: r[0])
    with atomic_write(out_dir / "utt2num_samples") as f:
        f.writelines(f"{utt} {n}\n" for utt, _, n in rows)
    with atomic_write(out_dir / "utt2level_db") as f:  # stage 4 filters silent audio with it
        f.writelines(f"{utt} {levels[utt]:.1f}\n" for utt, _, _ in rows)
    with atomic_write(out_dir / "audio_format") as f:
        f.write(f"{audio_format}\n")
    with atomic_write(out_dir / out_scp) as f:  # last: marks the job as done
        f.writelines(f"{utt} {value}\n" for utt, value, _ in rows)
    return len(rows)


def _load(in_scp: PathLike, no: int, utt: str, value: str, fs: int, backend: Optional[str]) -> np.ndarray:
    try:
        data, rate = read_audio(value)
    except Exception as e:  # any reader failure is a bad entry: say which one
        raise DataError(in_scp, no, f"'{utt}': cannot read audio from '{value}': {e}") from None
    return to_int16(resample(to_mono(data), rate, fs, backend))


def level_db(samples: np.ndarray) -> float:
    """RMS level in dB relative to full scale (int16 samples); digital silence is -inf."""
    if samples.size == 0:
        return float("-inf")
    rms = float(np.sqrt(np.mean(np.square(samples.astype(np.float64) / 32768.0))))
    return 20.0 * np.log10(rms) if rms > 0 else float("-inf")


def source_key(value: str, fs: int, fmt: str) -> str:
    """What a dumped file is made from: the wav.scp value, the bytes it reads, rate and format."""
    parts = [value, str(fs), fmt]
    for path in entry_files(value):
        parts.append(file_sha1(path) if os.path.isfile(path) else "missing")
    return text_sha1("\n".join(parts))


class _SourceKeys:
    """``utt key`` lines, appended as each file is finished, so a killed job's work is reusable."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.keys: Dict[str, str] = {}
        if path.is_file():
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                parts = line.split()
                if len(parts) == 2:  # a torn last line (killed mid-write) is ignored
                    self.keys[parts[0]] = parts[1]
        self._fd = open(path, "a", encoding="utf-8")

    def add(self, utt: str, key: str) -> None:
        self.keys[utt] = key
        self._fd.write(f"{utt} {key}\n")
        self._fd.flush()

    def compact(self, utts: set) -> None:
        self._fd.close()
        with atomic_write(self.path) as f:
            f.writelines(f"{u} {k}\n" for u, k in sorted(self.keys.items()) if u in utts)


def _write_file(
    in_scp: PathLike, no: int, utt: str, value: str, audio_dir: Path, fs: int, fmt: str,
    backend: Optional[str], journal: _SourceKeys, key: str, levels: Dict[str, float],
) -> Tuple[str, str, int]:
    final = audio_dir / f"{utt}.{fmt}"
    if journal.keys.get(utt) == key and final.is_file() and final.stat().st_size > 0:
        info = soundfile.info(str(final))
        if info.samplerate == fs and info.channels == 1:
            levels[utt] = level_db(soundfile.read(str(final), dtype="int16")[0])
            return utt, str(final), info.frames
    samples = _load(in_scp, no, utt, value, fs, backend)
    levels[utt] = level_db(samples)
    tmp = audio_dir / f".{utt}.{fmt}{_TMP_SUFFIX}"
    try:
        with reporting_no_space(final):
            soundfile.write(str(tmp), samples, fs, format=_SOUNDFILE_FORMAT[fmt], subtype="PCM_16")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, final)
    with reporting_no_space(journal.path):
        journal.add(utt, key)
    return utt, str(final), len(samples)


def _write_ark(
    in_scp: PathLike,
    entries: Sequence[Tuple[int, str, str]],
    audio_dir: Path,
    fs: int,
    fmt: str,
    backend: Optional[str],
    report: "_Progress",
    levels: Dict[str, float],
) -> List[Tuple[str, str, int]]:
    """One ark for the job, written to a temp name; scp offsets point at the final name."""
    import kaldiio

    ark = audio_dir / f"{fmt}.ark"
    tmp = audio_dir / f".{fmt}.ark{_TMP_SUFFIX}"
    rows = []
    try:
        with reporting_no_space(ark), open(tmp, "wb") as fd:
            for no, utt, value in entries:
                samples = _load(in_scp, no, utt, value, fs, backend)
                levels[utt] = level_db(samples)
                # kaldiio writes "<utt> " then the audio; the scp offset points just past the key.
                offset = fd.tell() + len(f"{utt} ".encode("utf-8"))
                kaldiio.save_ark(
                    fd,
                    {utt: (int(fs), samples)},
                    write_function="soundfile",
                    write_kwargs={"format": _SOUNDFILE_FORMAT[fmt], "subtype": "PCM_16"},
                )
                rows.append((utt, f"{ark}:{offset}", len(samples)))
                report.step()
        os.replace(tmp, ark)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return rows


class _Progress:
    """A stderr line at every further 10% of the work."""

    def __init__(self, total: int, label: str, enabled: bool = True) -> None:
        self.total, self.label, self.enabled = total, label, enabled
        self.done = 0
        self.next_tenth = 1

    def step(self) -> None:
        self.done += 1
        if not self.enabled or self.total == 0:
            return
        tenth = self.done * 10 // self.total
        if tenth >= self.next_tenth:
            print(f"{self.label}: {tenth * 10}% ({self.done}/{self.total})", file=sys.stderr, flush=True)
            self.next_tenth = tenth + 1
