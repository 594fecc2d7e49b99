"""Gradient surgery on the shared parameters of a dual-output model: PCGrad and CAGrad.

When the surface and meaning losses pull the shared encoder in opposite
directions, the summed MTL gradient serves one task at the other's expense.
PCGrad (Yu et al. 2020, "Gradient Surgery for Multi-Task Learning") removes from
each task gradient its component along a conflicting other task gradient;
CAGrad (Liu et al. 2021, "Conflict-Averse Gradient Descent") moves along the
average gradient corrected towards the worst-off task.  Task-specific
parameters keep their plain gradient.

With ``layers_topk = k`` the surgery runs only on the k shared layers whose task
gradients conflict most (most negative cosine, negative only), the plain sum
elsewhere (the "Objective Soups" layer selection).  The per-layer cosines are
returned as stats (``gcos_<layer>``, ``gcos_all``; the measure of
``shared_gradients``, the same as stage 10's) so ESPnet's reporter logs and plots them.
"""

from __future__ import annotations

import math
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import torch

from espnet_l2dual.train import shared_gradients
from espnet_l2dual.utils import offline

offline.guard()

from espnet2.torch_utils.device_funcs import force_gatherable  # noqa: E402

SURGERIES = ("none", "pcgrad", "cagrad")
CONF_KEYS = ("layers_topk", "cagrad_c")


def pcgrad(grads: Sequence[torch.Tensor]) -> torch.Tensor:
    """PCGrad: g_i <- g_i - (g_i.g_j / |g_j|^2) g_j for each other j with g_i.g_j < 0; sum.

    The other tasks are visited in the given order (the paper shuffles; with two
    tasks the order does not matter).
    """
    out = torch.zeros_like(grads[0])
    for i, g in enumerate(grads):
        projected = g.clone()
        for j, other in enumerate(grads):
            if i == j:
                continue
            dot = torch.dot(projected, other)
            if dot < 0:  # implies |other| > 0
                projected = projected - dot / torch.dot(other, other) * other
        out = out + projected
    return out


def _golden_min(f, lo: float = 0.0, hi: float = 1.0, iters: int = 200) -> float:
    """Minimiser of a convex 1-D function on [lo, hi]."""
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = lo, hi
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(iters):
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = f(d)
    x = (a + b) / 2.0
    return min((lo, hi, x), key=f)


def cagrad(grads: Sequence[torch.Tensor], c: float = 0.5) -> torch.Tensor:
    """CAGrad update direction d, on the scale of the *average* gradient g0.

    d = g0 + (sqrt(phi) / |g_w|) g_w with phi = c^2 |g0|^2 and
    w = argmin over the simplex of g_w.g0 + sqrt(phi) |g_w|, g_w = sum_i w_i g_i.
    Two tasks (the case here) are solved by a 1-D convex minimisation over w = (x, 1 - x).
    ``c = 0`` gives g0.
    """
    k = len(grads)
    g0 = torch.stack(list(grads)).mean(dim=0)
    if k == 1:
        return g0
    if k != 2:
        raise ValueError(f"cagrad is implemented for two tasks, got {k}")
    g1, g2 = grads
    gram = [[float(torch.dot(a, b)) for b in grads] for a in grads]
    a1, a2 = float(torch.dot(g1, g0)), float(torch.dot(g2, g0))
    s = c * float(g0.norm())

    def objective(x: float) -> float:
        sq = x * x * gram[0][0] + 2 * x * (1 - x) * gram[0][1] + (1 - x) * (1 - x) * gram[1][1]
        return x * a1 + (1 - x) * a2 + s * math.sqrt(max(sq, 0.0))

    x = _golden_min(objective)
    gw = x * g1 + (1 - x) * g2
    gw_norm = float(gw.norm())
    if gw_norm == 0.0:
        return g0
    return g0 + (s / gw_norm) * gw


def surgery_direction(method: str, grads: Sequence[torch.Tensor], cagrad_c: float = 0.5) -> torch.Tensor:
    """The combined gradient on the scale of the summed MTL gradient (CAGrad's mean x K)."""
    if method == "pcgrad":
        return pcgrad(grads)
    if method == "cagrad":
        return len(grads) * cagrad(grads, cagrad_c)
    raise ValueError(f"grad_surgery: unknown method '{method}' (expected pcgrad or cagrad)")


def select_conflicting(cosines: Mapping[str, Optional[float]], k: int) -> List[str]:
    """The (at most) k layers with the most negative cosine; agreeing or undefined (None) layers never."""
    negative = sorted((c, layer) for layer, c in cosines.items() if c is not None and c < 0)
    return [layer for _, layer in negative[:k]]


def combine_task_gradients(
    task_grads: Sequence[Dict[str, torch.Tensor]],
    method: str,
    cagrad_c: float = 0.5,
    layers_topk: Optional[int] = None,
) -> Tuple[Dict[str, torch.Tensor], Dict[str, Optional[float]], List[str]]:
    """Per-layer flat gradients of each task -> (combined per layer, cosines, layers operated on).

    Without ``layers_topk`` the surgery sees all shared layers as one vector (as in the
    papers); with it, each selected layer is treated on its own.  The cosines are the
    shared measure (``shared_gradients.cosines``: per layer and ``all``), the same
    numbers that are logged, so the layers operated on are the ones the logs show
    conflicting; with other than two tasks there are none.
    """
    layers = list(task_grads[0])
    cosines = shared_gradients.cosines(task_grads) if len(task_grads) == 2 else {}
    combined = {layer: sum(g[layer] for g in task_grads) for layer in layers}
    if layers_topk is None:
        sizes = [task_grads[0][layer].numel() for layer in layers]
        flat = [torch.cat([g[layer] for layer in layers]) for g in task_grads]
        pieces = surgery_direction(method, flat, cagrad_c).split(sizes)
        combined = dict(zip(layers, pieces))
        return combined, cosines, layers
    selected = select_conflicting({layer: cosines.get(layer) for layer in layers}, int(layers_topk))
    for layer in selected:
        combined[layer] = surgery_direction(method, [g[layer] for g in task_grads], cagrad_c)
    return combined, cosines, selected


def check_conf(method: str, conf: Optional[Dict]) -> Dict:
    """Validate ``--grad_surgery`` / ``--grad_surgery_conf`` and fill the defaults."""
    if method not in SURGERIES:
        raise ValueError(f"--grad_surgery: unknown '{method}' (expected {', '.join(SURGERIES)})")
    conf = dict(conf or {})
    unknown = set(conf) - set(CONF_KEYS)
    if unknown:
        raise ValueError(f"--grad_surgery_conf: unknown key(s) {sorted(unknown)} (known: {', '.join(CONF_KEYS)})")
    topk = conf.get("layers_topk")
    if topk is not None and int(topk) < 1:
        raise ValueError(f"--grad_surgery_conf layers_topk must be >= 1 or null, got {topk}")
    c = float(conf.get("cagrad_c", 0.5))
    if c < 0:
        raise ValueError(f"--grad_surgery_conf cagrad_c must be >= 0, got {c}")
    return {"layers_topk": None if topk is None else int(topk), "cagrad_c": c}


class GradSurgeryStep(torch.nn.Module):
    """Wraps the model for one training step so that ``loss.backward()`` yields the surgery gradient.

    The returned loss has the plain value; its gradient on the shared parameters is
    the combined one, through a zero-valued correction term ``sum p * (d - g_sum)``
    whose derivative is ``d - g_sum``.  So ESPnet's trainer (accum_grad, AMP scaling,
    clipping) works unchanged.  Cost: one extra backward per task, shared params only.
    """

    def __init__(self, model: torch.nn.Module, method: str, layers_topk: Optional[int] = None,
                 cagrad_c: float = 0.5):
        super().__init__()
        if method not in ("pcgrad", "cagrad"):
            raise ValueError(f"GradSurgeryStep: method must be pcgrad or cagrad, got '{method}'")
        self.model = model
        self.method = method
        self.layers_topk = layers_topk
        self.cagrad_c = cagrad_c

    def forward(self, **batch):
        model = self.model
        if not (self.training and torch.is_grad_enabled()) or len(model.tasks) < 2:
            return model(**batch)
        losses, stats, batch_size = model.task_losses(**batch)
        total = None
        for term in losses.values():
            total = term if total is None else total + term

        shared = shared_gradients.shared_layers(model)
        params = shared.params
        task_grads = shared_gradients.task_gradients(losses, model.tasks, shared)
        combined, cosines, operated = combine_task_gradients(
            task_grads, self.method, self.cagrad_c, self.layers_topk
        )
        correction = total.new_zeros(())
        for layer in operated:
            idx = shared.index[layer]
            delta = (combined[layer] - sum(g[layer] for g in task_grads)).detach()
            for i, piece in zip(idx, delta.split([params[i].numel() for i in idx])):
                correction = correction + (params[i] * piece.view_as(params[i])).sum()
        loss = total + (correction - correction.detach())

        for layer, c in cosines.items():  # None (a zero gradient) is logged as nan and left out of means
            stats[f"gcos_{layer}"] = None if c is None else torch.tensor(c, dtype=torch.float64)
        stats["gsurgery_layers"] = torch.tensor(float(len(operated)))
        stats["loss"] = total.detach()
        return force_gatherable((loss, stats, batch_size), loss.device)
