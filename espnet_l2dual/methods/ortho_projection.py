"""Orthogonal task subspaces: a linear projection per output plus a penalty on what they share.

Why: the study found the two outputs' representations nearly identical (CKA) in
English; penalising the similarity of the two projections pushes them towards
unrelated subspaces while the encoder stays shared.
"""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

import torch

from espnet_l2dual.methods.abs_task_projection import AbsTaskProjection, Encoded
from espnet_l2dual.models.ortho import PENALTIES, subspace_penalty, valid_frames
from espnet_l2dual.utils.distributed import gather_rows


class OrthoProjection(AbsTaskProjection):
    """``task_projection: ortho``, ``task_projection_conf: {output_size, penalty, penalty_weight}``.

    ``output_size`` defaults to the encoder size; ``penalty``: ``cka`` (linear CKA of the
    two projections over valid frames, scale-invariant) or ``xcov`` (squared Frobenius norm of
    their cross-covariance); ``penalty_weight: 0`` keeps the projections without a penalty.
    The loss term is named ``ortho``, its value is logged as ``ortho_penalty``.

    The penalty is one number over the batch's frames, not a mean over utterances, so in
    multi-process training (DDP) it is computed over every rank's frames (``gather_rows``,
    differentiable): the same penalty and gradient as one process on the global batch.
    Only while training: validation and attention plots (rank 0 alone) stay per rank.
    """

    def __init__(self, input_size: int, tasks: Sequence[str], output_size: Optional[int] = None,
                 penalty: str = "cka", penalty_weight: float = 0.0):
        super().__init__()
        if penalty not in PENALTIES:
            raise ValueError(f"task_projection_conf.penalty: unknown '{penalty}' (expected {', '.join(PENALTIES)})")
        if float(penalty_weight) < 0.0:
            raise ValueError(f"task_projection_conf.penalty_weight must be >= 0, got {penalty_weight}")
        if float(penalty_weight) > 0.0 and len(tasks) < 2:
            raise ValueError("task_projection_conf.penalty_weight > 0 needs two outputs in model_conf.tasks")
        self.kind = penalty
        self.weight = float(penalty_weight)
        self.tasks = list(tasks)
        self._size = int(output_size or input_size)
        self.projections = torch.nn.ModuleDict({o: torch.nn.Linear(input_size, self._size) for o in tasks})

    def output_size(self) -> int:
        return self._size

    def forward(self, encoded: Encoded) -> Encoded:
        return {o: (self.projections[o](enc), lens) for o, (enc, lens) in encoded.items()}

    def penalty(self, projected: Encoded) -> Optional[Tuple[str, torch.Tensor, torch.Tensor]]:
        if self.weight <= 0.0:
            return None
        (a, a_lens), (b, b_lens) = (projected[o] for o in self.tasks[:2])
        a, b = valid_frames(a, a_lens), valid_frames(b, b_lens)
        if self.training:
            a, b = gather_rows(a), gather_rows(b)
        value = subspace_penalty(self.kind, a, b)
        return "ortho", self.weight * value, value
