"""Decode both outputs of a dual-output model (stage 8, one job).

One encoder forward per utterance feeds one joint CTC/attention beam search per
output (``espnet_l2dual.inference.speech2dualtext``); ``--ctc_weight 1.0`` skips the
beam search and takes the CTC best path, which is the fast mode for quick checks.

CLI::

    python -m espnet_l2dual.bin.l2dual_inference \\
        --data_path_and_name_and_type dump/raw/test/wav.scp,speech,sound \\
        --key_file split/keys.1.scp --train_config exp/x/config.yaml \\
        --model_file exp/x/valid.acc.ave.pth --output_dir exp/x/decode/test/output.1

writes ``<output_dir>/<output>/{text,token,score}`` (1-best, sorted, atomically).
"""

from __future__ import annotations

import logging
import math
import os
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from espnet_l2dual.errors import DataError
from espnet_l2dual.inference.speech2dualtext import Speech2DualText
from espnet_l2dual.utils.digest import entry_files
from espnet_l2dual.utils.fileio import PathLike, iter_table, read_table, write_table

logger = logging.getLogger("l2dual_inference")


def read_keys(key_file: PathLike) -> List[str]:
    """The first column of a key file (the utterances one decoding job decodes)."""
    keys = []
    with open(key_file, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                keys.append(line.split(maxsplit=1)[0])
    return keys


class _Progress:
    """One log line every ``every_s`` seconds with count and real-time factor."""

    def __init__(self, total: int, every_s: float = 10.0) -> None:
        self.total, self.every_s, self.done = total, every_s, 0
        self.start = self.last = time.monotonic()
        self.audio_s = 0.0

    def step(self, audio_s: float) -> None:
        self.done += 1
        self.audio_s += audio_s
        now = time.monotonic()
        if now - self.last >= self.every_s or self.done == self.total:
            self.last = now
            rtf = (now - self.start) / self.audio_s if self.audio_s else float("nan")
            logger.info(f"decoded {self.done}/{self.total} utterances (RTF {rtf:.3f})")


def _by_length(keys: List[str], scp: PathLike) -> List[str]:
    """Longest first by ``utt2num_samples`` beside the scp (padding is then small); else as given."""
    lengths_path = Path(scp).parent / "utt2num_samples"
    if not lengths_path.is_file():
        return keys
    lengths = read_table(lengths_path)
    if any(k not in lengths for k in keys):
        return keys
    return sorted(keys, key=lambda k: -int(lengths[k]))


def decode_dir(s2t: Speech2DualText, scp: str, keys: Optional[List[str]], output_dir: PathLike,
               fs: Optional[int] = None, batch_size: int = 1) -> None:
    """Decode the utterances ``keys`` of ``scp`` and write ``output_dir/<output>/{text,token,score}``.

    ``batch_size > 1`` decodes that many utterances together (sorted by length,
    :meth:`Speech2DualText.decode_batch`); the tables are written in key order either way.
    """
    from espnet_l2dual.audio.read import read_audio, to_mono

    table = read_table(scp)
    line_of = {key: no for no, key, _ in iter_table(scp)}
    keys = list(table) if keys is None else keys
    missing = [k for k in keys if k not in table]
    if missing:
        raise DataError(scp, None, f"{len(missing)} key(s) of the key file are missing, e.g. '{missing[0]}'")
    for key in keys:  # every file before the first decode: a missing one fails in seconds, not hours
        for path in entry_files(table[key]):
            if not os.path.isfile(path):
                raise DataError(scp, line_of[key], f"'{key}': missing audio: '{path}' does not exist")

    def load(key: str):
        try:
            data, rate = read_audio(table[key])
        except Exception as e:
            raise DataError(scp, line_of[key], f"'{key}': cannot read audio '{table[key]}' ({e})") from None
        if fs is not None and rate != fs:
            raise DataError(scp, line_of[key], f"'{key}': sampling rate {rate} != {fs}")
        return to_mono(data), len(data) / rate

    results: Dict[str, Dict[str, List]] = {}
    progress = _Progress(len(keys))
    order = _by_length(keys, scp) if batch_size > 1 else keys
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        audio = [load(k) for k in chunk]
        decoded = s2t.decode_batch([a for a, _ in audio]) if batch_size > 1 else [s2t(audio[0][0])]
        for key, (_, seconds), result in zip(chunk, audio, decoded):
            results[key] = result
            progress.step(seconds)
    rows: Dict[str, Dict[str, List[Tuple[str, str]]]] = {o: {"text": [], "token": [], "score": []}
                                                         for o in s2t.outputs}
    for key in keys:
        for o, hyps in results[key].items():
            text, tokens, score = hyps[0]
            rows[o]["text"].append((key, text))
            rows[o]["token"].append((key, " ".join(tokens)))
            rows[o]["score"].append((key, f"{score:.4f}" if math.isfinite(score) else str(score)))
    for o, tables in rows.items():
        for name, items in tables.items():
            write_table(Path(output_dir) / o / name, items)


def speech_scp(triples: List[str]) -> str:
    """The scp of the ``speech`` entry of ESPnet's ``--data_path_and_name_and_type`` triples."""
    for triple in triples:
        parts = triple.split(",")
        if len(parts) != 3:
            raise ValueError(f"--data_path_and_name_and_type expects path,name,type; got '{triple}'")
        if parts[1] == "speech":
            if parts[2] not in ("sound", "kaldi_ark"):
                raise ValueError(f"speech data type '{parts[2]}' is not supported (sound, kaldi_ark)")
            return parts[0]
    raise ValueError("no 'speech' entry in --data_path_and_name_and_type")
