"""What a decoder-coupling method provides: decoders that read each other while they decode."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Dict, Mapping, Tuple

import torch


class AbsDecoderCoupling(torch.nn.Module, ABC):
    """Built after the decoders (``__init__(decoders, tasks, **conf)``).

    Training and teacher-forced analysis call ``forward``; decoding needs a joint
    search over the coupled outputs, which the method provides as ``joint_beam_search``.
    """

    @abstractmethod
    def forward(self, decoders: Mapping[str, torch.nn.Module],
                memories: Mapping[str, Tuple[torch.Tensor, torch.Tensor]],
                ys_in: Mapping[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Logits ``(B, T, V_o)`` per output for inputs ``ys_in[o]: (B, T)`` of one common length."""

    @abstractmethod
    def joint_beam_search(self, decoders, memories, ctcs, sos, eos, blank, opts) -> list:
        """n-best joint hypotheses (objects with ``.sides[o].ys`` and ``.score``), best first."""
