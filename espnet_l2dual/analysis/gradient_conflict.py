"""Gradient conflict in the shared encoder of an MTL model.

On N training batches: per encoder block, the cosine between the gradient of the
surface loss and the gradient of the meaning loss (each output's
``ctc_weight * ctc + (1 - ctc_weight) * att``, without task weights: a positive
scale does not change a cosine).  Negative = the tasks pull that block in opposite
directions.  The model is in eval mode (no dropout, no specaug) so the numbers are
reproducible for a seed; batches are drawn with the seed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import torch

from espnet_l2dual.analysis.hidden_states import Utterance, load_utterances, tokenize
from espnet_l2dual.utils.fileio import read_table

_BLOCK = re.compile(r"^encoder\.encoders\.(\d+)\.")


def draw_batches(data_dir: Path, n_batches: int, batch_size: int, seed: int) -> List[List[str]]:
    """``n_batches`` disjoint batches of utterance ids (fewer if the set is small)."""
    keys = sorted(read_table(data_dir / "text_surface"))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(keys))
    batches = [[keys[i] for i in order[b * batch_size:(b + 1) * batch_size]] for b in range(n_batches)]
    return [sorted(b) for b in batches if b]


def task_losses(model, batch: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Each output's hybrid loss on one batch, sharing one encoder forward (graph kept).

    Uses the model's own ``task_losses`` where it has one (task-specific encoder parts,
    task weights); the weights scale a gradient without changing its direction.
    """
    if hasattr(model, "task_losses"):
        losses = model.task_losses(**batch)[0]
        return {o: losses[o] for o in model.tasks}
    enc, enc_lens = model.encode(batch["speech"], batch["speech_lengths"])
    bs = batch["speech"].shape[0]
    out = {}
    for o in model.tasks:
        ys, ys_lens = model._targets(o, batch, bs)
        parts = []
        if model.ctc_weight > 0.0:
            parts.append(model.ctc_weight * model._ctc_branch(o, enc, enc_lens, ys, ys_lens)[0])
        if model.ctc_weight < 1.0:
            parts.append((1.0 - model.ctc_weight) * model._att_branch(o, enc, enc_lens, ys, ys_lens)[0])
        out[o] = sum(parts)
    return out


def encoder_groups(model) -> Dict[str, List[torch.nn.Parameter]]:
    """Encoder parameters per block ('block<i>') and the rest ('other': input layer, final norm)."""
    groups: Dict[str, List[torch.nn.Parameter]] = {}
    for name, p in model.named_parameters():
        if not name.startswith("encoder.") or not p.requires_grad:
            continue
        m = _BLOCK.match(name)
        groups.setdefault(f"block{m.group(1)}" if m else "other", []).append(p)
    return groups


def _cos(a: torch.Tensor, b: torch.Tensor) -> Optional[float]:
    na, nb = float(a.norm()), float(b.norm())
    if na == 0.0 or nb == 0.0:
        return None
    return float(a @ b) / (na * nb)


def collate(preprocess: Callable, collate_fn: Callable, utts: Sequence[Utterance], tasks: Sequence[str]):
    items = []
    for u in utts:
        ids = tokenize(preprocess, u, tasks)
        items.append((u.utt_id, {"speech": u.speech, **{f"text_{o}": ids[o] for o in tasks}}))
    _, batch = collate_fn(items)
    return batch


def gradient_cosines(model, preprocess: Callable, collate_fn: Callable, data_dir: Path,
                     n_batches: int, batch_size: int, seed: int,
                     progress: Optional[Callable[[str], None]] = None) -> dict:
    """Per encoder block: cosine of the surface and meaning gradients, per batch and mean."""
    if list(model.tasks) != ["surface", "meaning"]:
        raise ValueError(f"gradient conflict needs an MTL model (tasks surface and meaning), got {model.tasks}")
    model.eval()
    groups = encoder_groups(model)
    names = sorted((g for g in groups if g.startswith("block")), key=lambda g: int(g[5:]))
    names += ["other"] if "other" in groups else []
    params = [p for g in names for p in groups[g]]
    device = next(model.parameters()).device
    per_batch: List[Dict[str, Optional[float]]] = []
    batches = draw_batches(data_dir, n_batches, batch_size, seed)
    for b, keys in enumerate(batches):
        batch = collate(preprocess, collate_fn, load_utterances(data_dir, keys), model.tasks)
        batch = {k: v.to(device) for k, v in batch.items()}
        losses = task_losses(model, batch)
        grads = {o: torch.autograd.grad(losses[o], params, retain_graph=True, allow_unused=True)
                 for o in ("surface", "meaning")}
        row: Dict[str, Optional[float]] = {}
        flat = {o: [] for o in grads}
        i = 0
        for g in names:
            n = len(groups[g])
            vec = {}
            for o in grads:
                parts = [(x if x is not None else torch.zeros_like(p)).detach().double().flatten()
                         for x, p in zip(grads[o][i:i + n], groups[g])]
                vec[o] = torch.cat(parts)
                flat[o].append(vec[o])
            row[g] = _cos(vec["surface"], vec["meaning"])
            i += n
        row["all"] = _cos(torch.cat(flat["surface"]), torch.cat(flat["meaning"]))
        per_batch.append(row)
        if progress is not None:
            progress(f"batch {b + 1}/{len(batches)}: encoder gradient cosine {row['all']}")
    layers = []
    for g in names + ["all"]:
        vals = [r[g] for r in per_batch if r[g] is not None]
        layers.append({"layer": g, "mean": float(np.mean(vals)) if vals else None,
                       "std": float(np.std(vals)) if vals else None, "per_batch": [r[g] for r in per_batch]})
    return {"n_batches": len(batches), "batch_size": batch_size,
            "layers": [r for r in layers if r["layer"].startswith("block")],
            "other": next((r for r in layers if r["layer"] == "other"), None),
            "all": layers[-1]}
