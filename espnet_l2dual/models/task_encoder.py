"""Task-specific encoder blocks: partial sharing and task-routed experts.

Both methods give each output its own path through the top of the encoder while
the bottom stays shared.  The shared part (subsampling stem + the blocks below
the first task-specific one) runs once per batch; only the blocks above run once
per output.  ESPnet's encoder ``forward`` cannot stop half-way, so this module
drives the encoder's own sub-modules (``embed``, ``encoders``, ``after_norm``)
in the same order that forward does; the equivalence is tested against it.
"""

from __future__ import annotations

import copy
from typing import Iterable, List, Sequence, Tuple

import torch

from espnet2.asr.encoder.conformer_encoder import ConformerEncoder
from espnet2.asr.encoder.transformer_encoder import TransformerEncoder
from espnet_l2dual.compat.espnet1 import make_pad_mask
from espnet_l2dual.compat.espnet1 import (
    Conv1dSubsampling2,
    Conv2dSubsampling,
    Conv2dSubsampling1,
    Conv2dSubsampling2,
    Conv2dSubsampling6,
    Conv2dSubsampling8,
    TooShortUttError,
    check_short_utt,
)

# Encoders whose forward is "embed -> blocks -> after_norm": the ones we can split.
SPLITTABLE_ENCODERS = (ConformerEncoder, TransformerEncoder)
_SUBSAMPLERS = (Conv2dSubsampling, Conv1dSubsampling2, Conv2dSubsampling1, Conv2dSubsampling2,
                Conv2dSubsampling6, Conv2dSubsampling8)
FEED_FORWARD_NAMES = ("feed_forward", "feed_forward_macaron")


def check_splittable(encoder: torch.nn.Module, option: str) -> int:
    """Fail clearly unless ``encoder`` can be split between blocks; return its block count."""
    if not isinstance(encoder, SPLITTABLE_ENCODERS):
        raise ValueError(
            f"{option}: needs a conformer or transformer encoder, got {type(encoder).__name__}"
        )
    if len(getattr(encoder, "interctc_layer_idx", []) or []) > 0:
        raise ValueError(f"{option}: intermediate CTC (encoder_conf.interctc_layer_idx) is not supported")
    return len(encoder.encoders)


def embed(encoder: torch.nn.Module, feats: torch.Tensor, lens: torch.Tensor):
    """The encoder's input stem (subsampling + positional encoding) and the frame mask."""
    masks = (~make_pad_mask(lens)[:, None, :]).to(feats.device)
    stem = encoder.embed
    if stem is None:
        return feats, masks
    if isinstance(stem, _SUBSAMPLERS):
        too_short, needed = check_short_utt(stem, feats.size(1))
        if too_short:
            raise TooShortUttError(
                f"has {feats.size(1)} frames and is too short for subsampling (it needs more than {needed})",
                feats.size(1),
                needed,
            )
        return stem(feats, masks)
    return stem(feats), masks


def run_blocks(blocks: Iterable[torch.nn.Module], x, masks):
    """Apply encoder blocks in order (``x`` may be a (hidden, pos_emb) pair)."""
    for block in blocks:
        x, masks = block(x, masks)
    return x, masks


def finish(encoder: torch.nn.Module, x, masks) -> Tuple[torch.Tensor, torch.Tensor]:
    """Drop the positional embedding, apply the final norm, count the output frames."""
    if isinstance(x, tuple):
        x = x[0]
    if getattr(encoder, "normalize_before", True) and hasattr(encoder, "after_norm"):
        x = encoder.after_norm(x)
    return x, masks.squeeze(1).sum(1)


def make_branches(encoder: torch.nn.Module, shared_layers: int, tasks: Sequence[str]) -> torch.nn.ModuleDict:
    """Cut the blocks above ``shared_layers`` out of ``encoder`` and give each task a copy.

    The first task keeps the original modules, the others get deep copies, so every
    branch starts from the same weights.  ``encoder.encoders`` keeps the shared blocks only.
    """
    top = list(encoder.encoders[shared_layers:])
    del encoder.encoders[shared_layers:]
    branches = torch.nn.ModuleDict()
    for i, o in enumerate(tasks):
        blocks = top if i == 0 else [copy.deepcopy(b) for b in top]
        branches[o] = torch.nn.ModuleList(blocks)
    return branches


class TaskRoutedFeedForward(torch.nn.Module):
    """One copy of a feed-forward module per output, picked by the task, no gate.

    The model sets ``task`` before running the block for one output; running with
    no task set is a bug, not a silent default.
    """

    def __init__(self, feed_forward: torch.nn.Module, tasks: Sequence[str]):
        super().__init__()
        self.experts = torch.nn.ModuleDict({o: copy.deepcopy(feed_forward) for o in tasks})
        self.task: str | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.task is None:
            raise RuntimeError("TaskRoutedFeedForward called with no task selected")
        return self.experts[self.task](x)


def add_experts(encoder: torch.nn.Module, blocks: Sequence[int], tasks: Sequence[str]) -> List[TaskRoutedFeedForward]:
    """Replace the feed-forward modules of the chosen blocks by task-routed experts."""
    routers = []
    for i in blocks:
        layer = encoder.encoders[i]
        for name in FEED_FORWARD_NAMES:
            ff = getattr(layer, name, None)
            if ff is not None:
                router = TaskRoutedFeedForward(ff, tasks)
                setattr(layer, name, router)
                routers.append(router)
    if not routers:
        raise ValueError("encoder_sharing_conf.encoder_blocks: the chosen encoder blocks have no feed-forward module")
    return routers


def sync_copies(groups: Iterable[torch.nn.ModuleDict]) -> None:
    """Copy the first entry's weights into the others (after a global re-initialisation)."""
    with torch.no_grad():
        for group in groups:
            modules = list(group.values())
            for other in modules[1:]:
                other.load_state_dict(modules[0].state_dict())
