"""The test utterances stage 10 forwards: which ones (drawn once, the same for every model),
their audio and reference texts, and their token ids through a model's own preprocessor."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence

import numpy as np

from espnet_l2dual.errors import DataError
from espnet_l2dual.outputs import PAIR, data_key
from espnet_l2dual.utils.fileio import read_table


class Utterance:
    """One test utterance: 1-D speech samples and its reference texts per output."""

    def __init__(self, utt_id: str, speech: np.ndarray, texts: Mapping[str, str], rate: Optional[int] = None):
        self.utt_id = utt_id
        self.speech = speech
        self.texts = dict(texts)
        self.rate = rate  # samples per second, where known


def load_utterances(data_dir: Path, keys: Sequence[str]) -> List[Utterance]:
    """Read audio (any wav.scp entry, pipes included) and both texts of ``keys``."""
    from espnet_l2dual.audio.read import read_audio, to_mono

    wav_scp = data_dir / "wav.scp"
    if not wav_scp.is_file():
        raise DataError(wav_scp, None, "wav.scp not found")
    wavs = read_table(wav_scp)
    texts = {}
    for o in PAIR:
        path = data_dir / data_key(o)
        if not path.is_file():
            raise DataError(path, None, f"reference text of output '{o}' not found")
        texts[o] = read_table(path)
    out = []
    for key in keys:
        for o, table in texts.items():
            if key not in table:
                raise DataError(data_dir / f"text_{o}", None, f"utterance '{key}' has no text")
        if key not in wavs:
            raise DataError(wav_scp, None, f"utterance '{key}' has no audio")
        try:
            data, rate = read_audio(wavs[key])
        except Exception as e:  # soundfile / subprocess raise many types
            raise DataError(wav_scp, None, f"utterance '{key}': cannot read audio ({e})") from None
        out.append(Utterance(key, to_mono(data).astype(np.float32), {o: t[key] for o, t in texts.items()},
                             int(rate)))
    return out


def select_utterances(data_dir: Path, max_utts: int, seed: int) -> List[str]:
    """Up to ``max_utts`` ids of ``text_surface`` (sorted), drawn with ``seed`` when there are more."""
    keys = sorted(read_table(data_dir / "text_surface"))
    if max_utts and len(keys) > max_utts:
        rng = np.random.default_rng(seed)
        keys = sorted(rng.choice(keys, size=max_utts, replace=False).tolist())
    return keys


def tokenize(preprocess: Callable, utt: Utterance, tasks: Sequence[str]) -> Dict[str, np.ndarray]:
    """Token ids of the model's outputs, through the model's own preprocessor."""
    data = {"speech": utt.speech}
    data.update({f"text_{o}": utt.texts[o] for o in tasks})
    data = preprocess(utt.utt_id, data)
    return {o: np.asarray(data[f"text_{o}"], dtype=np.int64) for o in tasks}
