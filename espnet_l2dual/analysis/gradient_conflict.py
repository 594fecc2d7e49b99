"""Gradient conflict in the shared encoder of an MTL model.

On N training batches: per shared layer, the cosine between the gradient of the
surface loss and the gradient of the meaning loss (the model's ``task_losses``;
task weights scale a gradient without changing its direction).  The measure and
what counts as shared (``model.is_shared_parameter``: no task-routed experts, no
task-specific branches) are ``train.shared_gradients``, the same as gradient
surgery's training logs.  Negative = the tasks pull that layer in opposite
directions.  The model is in eval mode (no dropout, no specaug) so the numbers are
reproducible for a seed; batches are drawn with the seed.  The mean over batches gets a
95% percentile interval from a bootstrap over the batches (disjoint, so independent
draws of the training set); with fewer than :data:`MIN_BATCHES` batches there is none.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from espnet_l2dual.analysis.utterances import Utterance, load_utterances, tokenize
from espnet_l2dual.outputs import PAIR
from espnet_l2dual.train import shared_gradients
from espnet_l2dual.utils.fileio import read_table

_BLOCK = re.compile(r"^block\d+$")
MIN_BATCHES = 10  # fewer batches: no interval (a bootstrap over a handful of values says little)
N_BOOT = 9999


def draw_batches(data_dir: Path, n_batches: int, batch_size: int, seed: int) -> List[List[str]]:
    """``n_batches`` disjoint batches of utterance ids (fewer if the set is small)."""
    keys = sorted(read_table(data_dir / "text_surface"))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(keys))
    batches = [[keys[i] for i in order[b * batch_size:(b + 1) * batch_size]] for b in range(n_batches)]
    return [sorted(b) for b in batches if b]


def collate(preprocess: Callable, collate_fn: Callable, utts: Sequence[Utterance], tasks: Sequence[str]):
    items = []
    for u in utts:
        ids = tokenize(preprocess, u, tasks)
        items.append((u.utt_id, {"speech": u.speech, **{f"text_{o}": ids[o] for o in tasks}}))
    _, batch = collate_fn(items)
    return batch


def batch_interval(values: Sequence[float], seed: int) -> Optional[List[float]]:
    """95% percentile interval of the mean over batches (bootstrap over batches); None if too few."""
    vals = np.asarray([x for x in values if x is not None], dtype=np.float64)
    if vals.size < MIN_BATCHES:
        return None
    rng = np.random.default_rng(seed)
    means = vals[rng.integers(0, vals.size, size=(N_BOOT, vals.size))].mean(axis=1)
    return [float(x) for x in np.quantile(means, [0.025, 0.975])]


def _summary(layer: str, values: List[Optional[float]], seed: int = 0) -> dict:
    vals = [x for x in values if x is not None]
    ci = batch_interval(vals, seed)
    return {"layer": layer, "mean": float(np.mean(vals)) if vals else None,
            "std": float(np.std(vals)) if vals else None, "per_batch": list(values),
            "ci95": ci, **({} if ci else {"no_ci": f"{len(vals)} batches, an interval needs {MIN_BATCHES}"})}


def gradient_cosines(model, preprocess: Callable, collate_fn: Callable, data_dir: Path,
                     n_batches: int, batch_size: int, seed: int,
                     progress: Optional[Callable[[str], None]] = None) -> dict:
    """Per shared layer: cosine of the surface and meaning gradients, per batch and mean.

    ``layers`` are the encoder blocks (``block<i>``), ``parts`` the other shared
    groups (``embed``, ``after_norm``, ...) in model order, ``all`` the whole shared
    part -- the layers and numbers gradient surgery logs as ``gcos_<layer>``.  A
    batch where a layer's gradient is zero has ``None`` there and is left out of
    that layer's mean.
    """
    if list(model.tasks) != list(PAIR):
        raise ValueError(f"gradient conflict needs an MTL model (tasks surface and meaning), got {model.tasks}")
    model.eval()
    layers = shared_gradients.shared_layers(model).layers
    blocks = sorted((g for g in layers if _BLOCK.match(g)), key=lambda g: int(g[5:]))
    parts = [g for g in layers if not _BLOCK.match(g)]
    device = next(model.parameters()).device
    per_batch: List[Dict[str, Optional[float]]] = []
    batches = draw_batches(data_dir, n_batches, batch_size, seed)
    for b, keys in enumerate(batches):
        batch = collate(preprocess, collate_fn, load_utterances(data_dir, keys), model.tasks)
        batch = {k: v.to(device) for k, v in batch.items()}
        row = shared_gradients.batch_cosines(model, batch)
        per_batch.append(row)
        if progress is not None:
            progress(f"batch {b + 1}/{len(batches)}: shared-encoder gradient cosine {row[shared_gradients.ALL]}")
    rows = {g: _summary(g, [r[g] for r in per_batch], seed) for g in blocks + parts + [shared_gradients.ALL]}
    return {"n_batches": len(batches), "batch_size": batch_size,
            "interval": f"percentile bootstrap over batches, {N_BOOT} resamples",
            "layers": [rows[g] for g in blocks], "parts": [rows[g] for g in parts],
            "all": rows[shared_gradients.ALL]}
