"""What a gradient-surgery method provides: one update direction from the per-output gradients.

The trainer's step (``train/grad_surgery.GradSurgeryStep``) computes each output's
gradient of the shared parameters and asks the method how to combine them; the
task-specific parameters keep their plain gradient.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Optional, Sequence

import torch


class AbsGradSurgery(ABC):
    """``grad_surgery: <name>``, ``grad_surgery_conf: {layers_topk, <the method's own keys>}``.

    ``layers_topk: null`` treats all shared layers as one vector (as in the papers);
    ``k`` operates only on the k shared layers whose task gradients conflict most
    (most negative cosine, negative only) and sums the others.
    """

    def __init__(self, layers_topk: Optional[int] = None):
        if layers_topk is not None and int(layers_topk) < 1:
            raise ValueError(f"grad_surgery_conf.layers_topk must be >= 1 or null, got {layers_topk}")
        self.layers_topk = None if layers_topk is None else int(layers_topk)

    @abstractmethod
    def direction(self, grads: Sequence[torch.Tensor]) -> torch.Tensor:
        """The combined gradient of flat per-task gradients, on the scale of their sum."""
