"""PCGrad (Yu et al. 2020, "Gradient Surgery for Multi-Task Learning").

Why: where the surface and meaning gradients conflict, each loses its component
along the other before they are summed, so neither task's step undoes the other's.
"""

from __future__ import annotations

from typing import Optional, Sequence

import torch

from espnet_l2dual.methods.abs_grad_surgery import AbsGradSurgery


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


class PCGrad(AbsGradSurgery):
    """``grad_surgery: pcgrad``, ``grad_surgery_conf: {layers_topk}``."""

    def __init__(self, layers_topk: Optional[int] = None):
        super().__init__(layers_topk)

    def direction(self, grads: Sequence[torch.Tensor]) -> torch.Tensor:
        return pcgrad(grads)
