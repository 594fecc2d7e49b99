"""The process group as the dual model sees it: how many ranks, and one batch-level set of rows.

Losses that are means over utterances need nothing under DDP (ESPnet weights each rank's
loss by its batch share).  A loss computed from the whole batch's frames at once (the
ortho method's CKA penalty) is not such a mean: each rank alone would see only its part.
``gather_rows`` gives every rank all ranks' rows, with autograd through the gather, so
the penalty and its gradient are those of one process on the global batch.
"""

from __future__ import annotations

import torch
import torch.distributed as dist


def world_size() -> int:
    """Ranks in the default process group; 1 when there is none."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return 1


def gather_rows(x: torch.Tensor) -> torch.Tensor:
    """(N_r, D) rows of this rank -> (sum_r N_r, D) rows of every rank, in rank order; differentiable.

    Ranks may hold different numbers of rows: they are padded to the largest for the gather
    and cut back after it.  Every rank must call this the same number of times (a collective).
    Without a process group (or with one rank) ``x`` is returned as it is.
    """
    if world_size() == 1:
        return x
    from torch.distributed.nn.functional import all_gather  # the gather with a backward

    count = torch.tensor([x.size(0)], dtype=torch.long, device=x.device)
    counts = [torch.zeros_like(count) for _ in range(world_size())]
    dist.all_gather(counts, count)
    most = int(max(int(c) for c in counts))
    padded = torch.nn.functional.pad(x, (0, 0) * (x.dim() - 1) + (0, most - x.size(0)))
    parts = all_gather(padded)
    return torch.cat([p[: int(c)] for p, c in zip(parts, counts)])
