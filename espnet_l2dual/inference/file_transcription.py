"""Transcribe audio files given by path, in batches, going on past the ones that cannot be read.

A user's list of recordings may hold a typo or a broken file: each gets one line and the
rest are still transcribed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Iterator, List, Optional, Sequence, Set, Tuple

from espnet_l2dual.audio.read import read_audio, to_mono
from espnet_l2dual.audio.resample import resample
from espnet_l2dual.inference.transcription import (
    alignment_note, format_result, mispronunciation_note, mispronunciations, output_units)
from espnet_l2dual.outputs import OUTPUTS
from espnet_l2dual.report.transcription_page import html_row


def decode_files(s2t: Any, paths: Sequence[str], batch_size: int, fs: int,
                 failed: List[str]) -> Iterator[Tuple[str, dict]]:
    """(path, result) per readable file, in order; ``batch_size`` files per batched search. A file that
    is missing, unreadable or empty gets one line on stderr and goes into ``failed``."""
    for start in range(0, len(paths), batch_size):
        chunk = []
        for path in paths[start:start + batch_size]:
            if not os.path.exists(path):
                print(f"transcribe: error: {path}: does not exist", file=sys.stderr)
                failed.append(path)
                continue
            try:
                data, rate = read_audio(path)
            except Exception as e:  # soundfile raises several types; report and go on with the rest
                print(f"transcribe: error: {path}: cannot read audio ({e})", file=sys.stderr)
                failed.append(path)
                continue
            samples = to_mono(data)
            if samples.size == 0:
                print(f"transcribe: error: {path}: holds no samples (a header without audio): "
                      "nothing to transcribe", file=sys.stderr)
                failed.append(path)
                continue
            chunk.append((path, resample(samples, rate, fs) if rate != fs else samples))
        results = s2t.decode_batch([x for _, x in chunk]) if chunk else []
        yield from zip([p for p, _ in chunk], results)


def transcribe_files(s2t: Any, paths: Sequence[str], batch_size: int, lang: Optional[str], prompt: Optional[str],
                     html: Optional[Path], model_name: str) -> Tuple[List[str], List[dict], Set[str]]:
    """Print each file's block (stdout) as it is decoded, each note once (stderr); returns the files
    that could not be read, the HTML rows (with ``html``: the page to be) and the notes."""
    fs = int((getattr(s2t.train_args, "frontend_conf", None) or {}).get("fs", 16000))
    token_types = {o: getattr(s2t.train_args, f"{o}_token_type", None) for o in OUTPUTS}
    lang = lang or ("ko" if "jamo" in token_types.values() else "en")
    units = output_units(token_types)
    noted: set = set()
    rows: List[dict] = []
    failed: List[str] = []
    for path, result in decode_files(s2t, paths, batch_size, fs, failed):
        texts = {o: hyps[0][0] for o, hyps in result.items()}
        both = "surface" in texts and "meaning" in texts
        align = alignment_note(token_types) if both else None
        for note in (align, mispronunciation_note(list(texts), lang, prompt, units["surface"])):
            if note is not None and note not in noted:  # once per run, not per file
                noted.add(note)
                print(f"transcribe: note: {note}", file=sys.stderr, flush=True)
        errors, mode = mispronunciations(texts, lang, prompt, units["surface"])
        print(format_result(path, texts, errors, mode, aligned=align is None), flush=True)
        if html is not None:
            rows.append(html_row(path, texts, errors, mode, align is None, html.parent, model_name))
    return failed, rows, noted
