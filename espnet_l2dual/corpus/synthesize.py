"""Text to 16 kHz 16-bit mono wav with espeak-ng + sox, resumable and parallel.

Why this shape: the ``mini`` corpus must be made on a fresh machine in a few
minutes. Each utterance is written to a temp file and renamed into place, so a
killed run never leaves a truncated wav, and a re-run skips every wav that
already exists and is non-empty. Callers give the SURFACE text: the audio
speaks what the learner pronounced.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Optional, TextIO, Union

PathLike = Union[str, Path]


@dataclass(frozen=True)
class SynthesisJob:
    text: str
    voice: str
    pitch: int
    speed: int
    out_wav: Path


def synthesize(text: str, voice: str, pitch: int, speed: int, out_wav: PathLike) -> None:
    """Speak ``text`` with espeak-ng (``-v voice -p pitch -s speed``) into ``out_wav`` (16 kHz, 16-bit, mono).

    Atomic: the result appears under ``out_wav`` only when complete.
    """
    out_wav = Path(out_wav)
    out_wav.parent.mkdir(parents=True, exist_ok=True)
    if not text.strip():
        raise ValueError(f"{out_wav}: empty text to synthesise")
    fd, raw = tempfile.mkstemp(prefix=f".{out_wav.stem}.", suffix=".raw.wav", dir=out_wav.parent)
    os.close(fd)
    fd, tmp = tempfile.mkstemp(prefix=f".{out_wav.stem}.", suffix=".tmp.wav", dir=out_wav.parent)
    os.close(fd)
    try:
        # "--" is not understood by espeak-ng; texts never start with "-" (a leading space keeps it so).
        _run(["espeak-ng", "-v", voice, "-p", str(pitch), "-s", str(speed), "-w", raw, " " + text], out_wav)
        _run(["sox", "-D", raw, "-r", "16000", "-b", "16", "-c", "1", tmp], out_wav)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; wavs are shared data
        os.replace(tmp, out_wav)
    finally:
        for path in (raw, tmp):
            if os.path.exists(path):
                os.unlink(path)


def _run(cmd: List[str], target: Path) -> None:
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{target}: '{cmd[0]}' failed (exit {proc.returncode}): {proc.stderr.strip()}")


def _done(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 0


def synthesize_all(jobs: Iterable[SynthesisJob], nj: Optional[int] = None, log: TextIO = sys.stderr) -> int:
    """Run the jobs ``nj`` at a time (default: number of CPUs); skip finished wavs.

    Prints ``synthesised k/N (p%)`` about every 10%. Returns how many wavs were made.
    """
    jobs = list(jobs)
    todo = [j for j in jobs if not _done(j.out_wav)]
    total = len(todo)
    if len(jobs) > total:
        print(f"synthesis: {len(jobs) - total} of {len(jobs)} wavs already exist, skipped", file=log)
    if not total:
        return 0
    nj = max(1, nj or os.cpu_count() or 1)
    step = max(1, total // 10)
    done = 0
    with ThreadPoolExecutor(max_workers=nj) as pool:  # threads suffice: the work is in subprocesses
        futures = [pool.submit(synthesize, j.text, j.voice, j.pitch, j.speed, j.out_wav) for j in todo]
        try:
            for fut in as_completed(futures):
                fut.result()
                done += 1
                if done % step == 0 or done == total:
                    print(f"synthesised {done}/{total} ({100 * done // total}%)", file=log, flush=True)
        except BaseException:
            for f in futures:
                f.cancel()
            raise
    return done
