"""Task-routed experts: chosen encoder blocks get one feed-forward module per output.

Why: a lighter split than partial sharing; attention and convolution stay shared,
only the feed-forward capacity of those blocks is task-specific (no gate: the
task picks its expert).
"""

from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import torch

from espnet_l2dual.methods.abs_encoder_sharing import AbsEncoderSharing
from espnet_l2dual.models import task_encoder


def check_blocks(blocks, num_blocks: int) -> List[int]:
    """Validate ``encoder_sharing_conf.encoder_blocks``; sorted block indices."""
    if isinstance(blocks, int):
        blocks = [blocks]
    blocks = sorted({int(b) for b in blocks or []})
    if not blocks:
        raise ValueError("encoder_sharing_conf.encoder_blocks is empty")
    bad = [b for b in blocks if not 0 <= b < num_blocks]
    if bad:
        raise ValueError(f"encoder_sharing_conf.encoder_blocks: {bad} not in 0..{num_blocks - 1}")
    return blocks


class TaskExperts(AbsEncoderSharing):
    """``encoder_sharing: experts``, ``encoder_sharing_conf: {encoder_blocks: [i, ...]}``.

    The experts live inside the encoder blocks (``encoder.encoders.<i>.feed_forward.experts.<o>``);
    the blocks from the first expert block up run once per output.
    """

    def __init__(self, encoder: torch.nn.Module, tasks: Sequence[str], encoder_blocks):
        super().__init__()
        n = task_encoder.check_splittable(encoder, "encoder_sharing_conf")
        if len(tasks) < 2:
            raise ValueError("encoder_sharing: experts needs two outputs in model_conf.tasks")
        self.expert_blocks = check_blocks(encoder_blocks, n)
        self.tasks = list(tasks)
        # a plain list: the routers are submodules of the encoder, not registered twice
        self._routers = task_encoder.add_experts(encoder, self.expert_blocks, tasks)

    @property
    def first_task_block(self) -> int:
        return self.expert_blocks[0]

    def forward(self, encoder, feats, lens) -> Dict[str, Tuple[torch.Tensor, torch.Tensor]]:
        x, masks = task_encoder.embed(encoder, feats, lens)
        split = self.first_task_block
        x, masks = task_encoder.run_blocks(encoder.encoders[:split], x, masks)
        outs = {}
        for o in self.tasks:
            for router in self._routers:
                router.task = o
            try:
                y, m = task_encoder.run_blocks(encoder.encoders[split:], x, masks)
            finally:
                for router in self._routers:
                    router.task = None
            outs[o] = task_encoder.finish(encoder, y, m)
        return outs

    def task_blocks(self, encoder, output: str) -> List[torch.nn.Module]:
        """The shared block modules: a hook on one fires once per output, in ``tasks`` order."""
        return list(encoder.encoders)

    def is_task_specific(self, name: str) -> bool:
        return ".experts." in name

    def sync_copies(self) -> None:
        task_encoder.sync_copies(r.experts for r in self._routers)
