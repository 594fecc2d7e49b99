"""Partial sharing: the bottom K encoder blocks are shared, each output gets its own copy of the rest.

Why: if the tasks' entanglement lives in the top of the encoder, separate top
blocks let each output specialise while the acoustic bottom still learns from both.
"""

from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import torch

from espnet_l2dual.methods.abs_encoder_sharing import AbsEncoderSharing
from espnet_l2dual.models import task_encoder


class PartialSharing(AbsEncoderSharing):
    """``encoder_sharing: partial``, ``encoder_sharing_conf: {shared_layers: K}``.

    Blocks K.. move out of ``encoder.encoders`` into ``branches[o]`` (the first
    output keeps the original modules, the others get copies, so all start equal);
    the subsampling stem and ``encoder.after_norm`` stay shared.  K must leave at
    least one task-specific block (K = number of blocks would be plain MTL).
    """

    def __init__(self, encoder: torch.nn.Module, tasks: Sequence[str], shared_layers: int):
        super().__init__()
        n = task_encoder.check_splittable(encoder, "encoder_sharing_conf")
        k = int(shared_layers)
        if not 0 <= k < n:
            raise ValueError(f"encoder_sharing_conf.shared_layers must be in 0..{n - 1} (the encoder has {n} "
                             f"blocks; {n} shares everything: use no encoder_sharing), got {shared_layers}")
        if len(tasks) < 2:
            raise ValueError("encoder_sharing: partial needs two outputs in model_conf.tasks")
        self.shared_layers = k
        self.branches = task_encoder.make_branches(encoder, k, tasks)

    @property
    def first_task_block(self) -> int:
        return self.shared_layers

    def forward(self, encoder, feats, lens) -> Dict[str, Tuple[torch.Tensor, torch.Tensor]]:
        x, masks = task_encoder.embed(encoder, feats, lens)
        x, masks = task_encoder.run_blocks(encoder.encoders, x, masks)
        outs = {}
        for o, blocks in self.branches.items():
            y, m = task_encoder.run_blocks(blocks, x, masks)
            outs[o] = task_encoder.finish(encoder, y, m)
        return outs

    def task_blocks(self, encoder, output: str) -> List[torch.nn.Module]:
        return list(encoder.encoders) + list(self.branches[output])

    def is_task_specific(self, name: str) -> bool:
        return name.startswith("encoder_sharing.")

    def sync_copies(self) -> None:
        task_encoder.sync_copies([self.branches])
