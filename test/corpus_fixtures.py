"""Small synthetic corpus pieces for the adapter tests: audio files and TextGrids."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import soundfile

Intervals = List[Tuple[float, float, str]]


def write_wav(path: Path, seconds: float = 0.5, sr: int = 16000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sr)) / sr
    soundfile.write(str(path), 0.1 * np.sin(2 * np.pi * 220 * t), sr, subtype="PCM_16")
    return path


def dual_trn_rows(audio: Path) -> List[str]:
    """Six half-second recordings of three speakers (A01-A03) and their dual-convention trn rows."""
    rows = []
    for spk in ("A01", "A02", "A03"):
        for k in range(2):
            write_wav(audio / f"{spk}_{k}.wav", 0.5)
            rows.append(f"{spk}_{k}.wav :: 나는 (먹어요)/(머거요)")
    return rows


def write_pcm(path: Path, seconds: float = 0.5, sr: int = 16000) -> Path:
    """Headerless 16-bit little-endian mono PCM (KsponSpeech style)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    samples = (1000 * np.sin(np.arange(int(seconds * sr)) / 10)).astype("<i2")
    path.write_bytes(samples.tobytes())
    return path


def _q(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def long_textgrid(tiers: Dict[str, Intervals], xmax: float = 1.0) -> str:
    """A TextGrid in Praat's long text format with the given interval tiers."""
    out = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "", "xmin = 0 ", f"xmax = {xmax} ",
           "tiers? <exists> ", f"size = {len(tiers)} ", "item []: "]
    for k, (name, ivs) in enumerate(tiers.items(), start=1):
        out += [f"    item [{k}]:", '        class = "IntervalTier" ', f"        name = {_q(name)} ",
                "        xmin = 0 ", f"        xmax = {xmax} ", f"        intervals: size = {len(ivs)} "]
        for j, (a, b, text) in enumerate(ivs, start=1):
            out += [f"        intervals [{j}]:", f"            xmin = {a} ", f"            xmax = {b} ",
                    f"            text = {_q(text)} "]
    return "\n".join(out) + "\n"


def short_textgrid(tiers: Dict[str, Intervals], xmax: float = 1.0) -> str:
    """The same in Praat's short text format."""
    out = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "", "0", str(xmax), "<exists>", str(len(tiers))]
    for name, ivs in tiers.items():
        out += ['"IntervalTier"', _q(name), "0", str(xmax), str(len(ivs))]
        for a, b, text in ivs:
            out += [str(a), str(b), _q(text)]
    return "\n".join(out) + "\n"


def even_intervals(labels: List[str], xmax: float = 1.0) -> Intervals:
    step = xmax / len(labels)
    return [(round(i * step, 4), round((i + 1) * step, 4), lab) for i, lab in enumerate(labels)]
