"""What a task-projection method provides: each output's own view of the encoder output."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Dict, Mapping, Optional, Tuple

import torch

Encoded = Dict[str, Tuple[torch.Tensor, torch.Tensor]]


class AbsTaskProjection(torch.nn.Module, ABC):
    """Built before the CTCs and decoders (``__init__(input_size, tasks, **conf)``): they read its output size."""

    @abstractmethod
    def output_size(self) -> int:
        """Feature size of the projected encoder output (the CTCs' and decoders' input)."""

    @abstractmethod
    def forward(self, encoded: Encoded) -> Encoded:
        """{output: (encoder output, lengths)} -> the same, projected per output."""

    def penalty(self, projected: Encoded) -> Optional[Tuple[str, torch.Tensor, torch.Tensor]]:
        """An extra loss term ``(name, weighted term, unweighted value for the stats)``, or None."""
        return None

    def batch_penalty(self, projected: Encoded, targets: Mapping[str, Tuple[torch.Tensor, torch.Tensor]],
                      twin_group: Optional[torch.Tensor] = None) -> Optional[Tuple[str, torch.Tensor, torch.Tensor]]:
        """What the model calls: ``penalty`` with the batch's targets ``{output: (ids, lengths)}`` and
        twin groups (``twin_group``: (B,) ids, -1 for none) for methods that need them."""
        return self.penalty(projected)
