"""The hidden states of one model on the test utterances, cached as kaldiio ark/scp under
``<out_dir>/feats/<tag>/`` so a re-run skips the forwards; ``meta.json`` (written last) says
which model file, utterances and subsample made them, and a cache of anything else is ignored."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Callable, Dict, Mapping, Optional, Sequence, Tuple

import numpy as np

from espnet_l2dual.analysis.layer_states import collect
from espnet_l2dual.analysis.utterances import Utterance
from espnet_l2dual.utils.fileio import atomic_write

log = logging.getLogger("espnet_l2dual.analysis")

CACHE_VERSION = 3


def _meta(model_file: Path, utt_ids: Sequence[str], max_frames: int, seed: int) -> dict:
    st = model_file.stat()
    return {"version": CACHE_VERSION, "model_file": str(model_file.resolve()), "model_size": st.st_size,
            "model_mtime": st.st_mtime, "utts": list(utt_ids), "max_frames": max_frames, "seed": seed}


def load_cached(cache_dir: Path, model_file: Path, utt_ids: Sequence[str], max_frames: int,
                seed: int) -> Optional[Dict[str, np.ndarray]]:
    """The cached states when they were made from the same model file, utterances and subsample."""
    import kaldiio

    meta_path, scp = cache_dir / "meta.json", cache_dir / "feats.scp"
    if not (meta_path.is_file() and scp.is_file()):
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta != json.loads(json.dumps(_meta(model_file, utt_ids, max_frames, seed))):
        return None
    with kaldiio.ReadHelper(f"scp:{scp}") as reader:
        return {key: np.asarray(mat) for key, mat in reader}


def save_cache(cache_dir: Path, states: Mapping[str, np.ndarray], model_file: Path,
               utt_ids: Sequence[str], max_frames: int, seed: int) -> None:
    """Write ``feats.ark``/``feats.scp`` (one matrix per layer) and ``meta.json`` last, atomically."""
    import kaldiio

    cache_dir.mkdir(parents=True, exist_ok=True)
    meta_path = cache_dir / "meta.json"
    if meta_path.exists():
        meta_path.unlink()  # the cache is invalid until the new one is complete
    ark, scp = cache_dir / "feats.ark", cache_dir / "feats.scp"
    tmp_ark, tmp_scp = cache_dir / f".feats.ark.{os.getpid()}.tmp", cache_dir / f".feats.scp.{os.getpid()}.tmp"
    with kaldiio.WriteHelper(f"ark,scp:{tmp_ark},{tmp_scp}") as writer:
        for key in sorted(states):
            writer(key, np.ascontiguousarray(states[key], dtype=np.float32))
    tmp_ark.replace(ark)
    # the scp names the temporary ark: point it at the final one
    scp_text = tmp_scp.read_text(encoding="utf-8").replace(str(tmp_ark), str(ark))
    with atomic_write(scp) as f:
        f.write(scp_text)
    tmp_scp.unlink()
    with atomic_write(meta_path) as f:
        json.dump(_meta(model_file, utt_ids, max_frames, seed), f, indent=1)


def cached_states(model_loader: Callable[[], Tuple[object, Callable]], model_file: Path,
                  cache_dir: Path, utterances: Callable[[], Sequence[Utterance]], utt_ids: Sequence[str],
                  max_frames: int, seed: int, tag: str) -> Dict[str, np.ndarray]:
    """Cached states of one model, or forward it (loading model and audio only when needed)."""
    cached = load_cached(cache_dir, model_file, utt_ids, max_frames, seed)
    if cached is not None:
        log.info("%s: hidden states from the cache %s", tag, cache_dir)
        return cached
    model, preprocess = model_loader()
    log.info("%s: forwarding %d utterances (<= %d frames kept)", tag, len(utt_ids), max_frames)
    states = collect(model, preprocess, utterances(), max_frames, seed,
                     progress=lambda msg: log.info("%s: %s", tag, msg))
    save_cache(cache_dir, states, model_file, utt_ids, max_frames, seed)
    return states
