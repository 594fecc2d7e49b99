"""Interventional subspace post-training: surface and meaning subspaces of the shared encoder, shaped by twins.

Why: a learner-error twin is an intervention on the input that changes *what was said* and
leaves *what was meant* alone. So a meaning representation should not move between an
utterance and its twins, and a surface representation should move by as much as the surface
text changes. Starting from a trained MTL model, a linear projection per output is learned with
three loss parts over the batch's utterances (time-pooled projections):

- ``meaning``: supervised contrastive loss (InfoNCE with the twin group as positives): twins
  and their original together, other utterances apart;
- ``surface``: ``(1 - cos(s_i, s_j) - surface_scale * edit_ij)^2`` over pairs of the batch, where
  ``edit_ij`` is the normalised edit distance of their surface token sequences: apart in
  proportion to how differently they were said;
- ``independence``: linear CKA (``cka``, a normalised linear HSIC) or the squared cross-covariance
  (``xcov``) between the two projections over valid frames: the subspaces carry different things.

The CTC and decoder of each output read its own projection and are fine-tuned on it in the same
run (the recipe's YAML freezes the encoder). With ``output_size`` equal to the encoder size the
projections start as the identity, so training starts from exactly the MTL model's behaviour.
Twin groups come from the batch's ``twin_group`` (``data.twin_batches``); a batch without
pairs gets only the surface and independence parts.
"""

from __future__ import annotations

from typing import Dict, Mapping, Optional, Sequence, Tuple

import editdistance
import torch

from espnet_l2dual.methods.abs_task_projection import AbsTaskProjection, Encoded
from espnet_l2dual.models.ortho import PENALTIES, subspace_penalty, valid_frames

PARTS = ("meaning", "surface", "independence")


def pooled(x: torch.Tensor, lens: torch.Tensor) -> torch.Tensor:
    """(B, T, D) padded frames -> (B, D) mean over each utterance's valid frames."""
    mask = (torch.arange(x.size(1), device=x.device)[None, :] < lens.to(x.device)[:, None]).to(x.dtype)
    return (x * mask[:, :, None]).sum(1) / mask.sum(1).clamp(min=1.0)[:, None]


def group_contrastive(z: torch.Tensor, group: torch.Tensor, temperature: float) -> Optional[torch.Tensor]:
    """Supervised contrastive loss (Khosla et al. 2020) of (B, D) ``z``: positives share a ``group`` id >= 0.

    None when no utterance has a positive in the batch.
    """
    z = torch.nn.functional.normalize(z, dim=-1)
    logits = z @ z.t() / temperature
    eye = torch.eye(len(z), dtype=torch.bool, device=z.device)
    pos = (group[:, None] == group[None, :]) & ~eye & (group[:, None] >= 0)
    anchors = pos.any(dim=1)
    if not bool(anchors.any()):
        return None
    log_prob = logits.masked_fill(eye, float("-inf")).log_softmax(dim=1)
    per_anchor = -(log_prob.masked_fill(~pos, 0.0).sum(1) / pos.sum(1).clamp(min=1))
    return per_anchor[anchors].mean()


def edit_distances(ys: torch.Tensor, lens: torch.Tensor) -> torch.Tensor:
    """(B, B) normalised edit distances (by the longer sequence) between the token sequences ``ys``."""
    seqs = [ys[i, : int(lens[i])].tolist() for i in range(len(ys))]
    out = torch.zeros(len(seqs), len(seqs))
    for i in range(len(seqs)):
        for j in range(i + 1, len(seqs)):
            d = editdistance.eval(seqs[i], seqs[j]) / max(len(seqs[i]), len(seqs[j]), 1)
            out[i, j] = out[j, i] = d
    return out


def surface_proportional(z: torch.Tensor, edit: torch.Tensor, scale: float) -> torch.Tensor:
    """Mean over pairs of ``(1 - cos(z_i, z_j) - scale * edit_ij)^2``: distance in proportion to edit distance."""
    z = torch.nn.functional.normalize(z, dim=-1)
    dist = 1.0 - z @ z.t()
    i, j = torch.triu_indices(len(z), len(z), offset=1, device=z.device)
    if len(i) == 0:
        return z.sum() * 0.0
    return (dist[i, j] - scale * edit.to(z.device)[i, j]).pow(2).mean()


class TwinSubspaceProjection(AbsTaskProjection):
    """``task_projection: twin_subspace``; ``task_projection_conf``: ``output_size`` (default: the encoder
    size, identity start), ``meaning_weight``, ``surface_weight``, ``independence_weight`` (the loss parts),
    ``temperature`` (of the meaning contrast), ``surface_scale`` (cosine distance per unit of normalised
    surface edit distance), ``independence`` (``cka`` or ``xcov``). Loss term ``twin_subspace``, logged as
    ``twin_subspace_penalty``. Needs both outputs.
    """

    def __init__(self, input_size: int, tasks: Sequence[str], output_size: Optional[int] = None,
                 meaning_weight: float = 1.0, surface_weight: float = 1.0, independence_weight: float = 1.0,
                 temperature: float = 0.1, surface_scale: float = 1.0, independence: str = "cka"):
        super().__init__()
        if sorted(tasks) != ["meaning", "surface"]:
            raise ValueError(f"task_projection twin_subspace needs model_conf.tasks [surface, meaning], got {list(tasks)}")
        if independence not in PENALTIES:
            raise ValueError(f"task_projection_conf.independence: unknown '{independence}' "
                             f"(expected {', '.join(PENALTIES)})")
        weights = {"meaning": meaning_weight, "surface": surface_weight, "independence": independence_weight}
        for name, w in weights.items():
            if float(w) < 0.0:
                raise ValueError(f"task_projection_conf.{name}_weight must be >= 0, got {w}")
        if float(temperature) <= 0.0:
            raise ValueError(f"task_projection_conf.temperature must be > 0, got {temperature}")
        self.weights = {k: float(v) for k, v in weights.items()}
        self.temperature, self.scale, self.kind = float(temperature), float(surface_scale), independence
        self.tasks = list(tasks)
        self._size = int(output_size or input_size)
        self.projections = torch.nn.ModuleDict({o: torch.nn.Linear(input_size, self._size) for o in tasks})
        if self._size == input_size:  # start from the MTL model: each head reads what it read before
            for p in self.projections.values():
                torch.nn.init.eye_(p.weight)
                torch.nn.init.zeros_(p.bias)

    def output_size(self) -> int:
        return self._size

    def forward(self, encoded: Encoded) -> Encoded:
        return {o: (self.projections[o](enc), lens) for o, (enc, lens) in encoded.items()}

    def loss_parts(self, projected: Encoded, surface_tokens: Tuple[torch.Tensor, torch.Tensor],
                   twin_group: Optional[torch.Tensor]) -> Dict[str, torch.Tensor]:
        """The unweighted parts; ``meaning`` is absent when the batch holds no twin pair."""
        (s, s_lens), (m, m_lens) = projected["surface"], projected["meaning"]
        parts: Dict[str, torch.Tensor] = {}
        if twin_group is not None:
            c = group_contrastive(pooled(m, m_lens), twin_group.to(m.device), self.temperature)
            if c is not None:
                parts["meaning"] = c
        parts["surface"] = surface_proportional(pooled(s, s_lens), edit_distances(*surface_tokens), self.scale)
        parts["independence"] = subspace_penalty(self.kind, valid_frames(s, s_lens), valid_frames(m, m_lens))
        return parts

    def batch_penalty(self, projected: Encoded, targets: Mapping[str, Tuple[torch.Tensor, torch.Tensor]],
                      twin_group: Optional[torch.Tensor] = None):
        parts = self.loss_parts(projected, targets["surface"], twin_group)
        total = sum(self.weights[k] * v for k, v in parts.items())
        return "twin_subspace", total, total
