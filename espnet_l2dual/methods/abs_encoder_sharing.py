"""What an encoder-sharing method provides to the dual model.

A method of this kind gives each output its own path through the top of the
encoder while the bottom stays shared.  The model runs the shared part once and
asks the method for one encoder output per task.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Dict, List, Tuple

import torch


class AbsEncoderSharing(torch.nn.Module, ABC):
    """Built after the encoder (``__init__(encoder, tasks, **conf)``); may restructure it."""

    @property
    @abstractmethod
    def first_task_block(self) -> int:
        """Index of the first encoder block that is not shared by all outputs."""

    @abstractmethod
    def forward(self, encoder: torch.nn.Module, feats: torch.Tensor,
                lens: torch.Tensor) -> Dict[str, Tuple[torch.Tensor, torch.Tensor]]:
        """Encoder features -> {output: (encoder output, lengths)}, before any post-encoder."""

    @abstractmethod
    def task_blocks(self, encoder: torch.nn.Module, output: str) -> List[torch.nn.Module]:
        """The blocks ``output`` runs through, bottom to top (analysis hooks)."""

    @abstractmethod
    def is_task_specific(self, name: str) -> bool:
        """True for a model parameter name that only one output's loss reaches."""

    def sync_copies(self) -> None:
        """Make the per-output copies identical again (after a global re-initialisation)."""
