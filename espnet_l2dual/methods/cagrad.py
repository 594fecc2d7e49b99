"""CAGrad (Liu et al. 2021, "Conflict-Averse Gradient Descent").

Why: the average gradient, corrected towards the task that would gain least from
it, so the step improves the worst-off output too (``cagrad_c = 0`` is the average).
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

import torch

from espnet_l2dual.methods.abs_grad_surgery import AbsGradSurgery


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


class CAGrad(AbsGradSurgery):
    """``grad_surgery: cagrad``, ``grad_surgery_conf: {cagrad_c, layers_topk}``."""

    def __init__(self, cagrad_c: float = 0.5, layers_topk: Optional[int] = None):
        super().__init__(layers_topk)
        if float(cagrad_c) < 0:
            raise ValueError(f"grad_surgery_conf.cagrad_c must be >= 0, got {cagrad_c}")
        self.c = float(cagrad_c)

    def direction(self, grads: Sequence[torch.Tensor]) -> torch.Tensor:
        """CAGrad's direction is on the scale of the mean gradient: x K for the scale of the sum."""
        return len(grads) * cagrad(grads, self.c)
