"""Pair-aware batches of learner-error twins for twin-contrastive training (``task_projection: twin_subspace``).

Why: the contrastive loss compares an utterance with its twins, so they must share a batch.
ESPnet's batch sampler groups by length only; :func:`keep_twins_together` moves every twin
group into the batch of its first member (twins differ by one error, so their lengths are
close and batch sizes change little), and :class:`TwinCollateFn` tells the model which
utterances of a batch belong together (``twin_group``: one id per original, -1 for none).
The groups come from a ``utt2twin`` table (``--twin_map``; the mini corpus's
``train_twins``, never eval).
"""

from __future__ import annotations

from pathlib import Path
from typing import Collection, Dict, List, Mapping, Sequence, Tuple

import numpy as np
import torch

from espnet2.train.collate_fn import CommonCollateFn

from espnet_l2dual.data.twin_map import parse_twin_value
from espnet_l2dual.errors import DataError
from espnet_l2dual.utils.fileio import iter_table

GROUP_KEY = "twin_group"


def read_twin_groups(path: Path) -> Dict[str, str]:
    """``{utt_id: original_utt_id}`` of a ``utt2twin`` file, checked line by line."""
    out = {}
    for no, utt, value in iter_table(Path(path)):
        try:
            out[utt] = parse_twin_value(value)[0]
        except ValueError as e:
            raise DataError(Path(path), no, str(e)) from None
    return out


def keep_twins_together(batches: Sequence[Sequence[str]], group_of: Mapping[str, str]) -> List[Tuple[str, ...]]:
    """The same utterances, each twin group moved into the batch of its first member; empty batches dropped."""
    home: Dict[str, int] = {}
    for b, batch in enumerate(batches):
        for utt in batch:
            if utt in group_of:
                home.setdefault(group_of[utt], b)
    out: List[List[str]] = [[] for _ in batches]
    for b, batch in enumerate(batches):
        for utt in batch:
            out[home[group_of[utt]] if utt in group_of else b].append(utt)
    return [tuple(batch) for batch in out if batch]


def group_ids(utt_ids: Sequence[str], group_of: Mapping[str, str]) -> torch.Tensor:
    """(B,) long: the same id for the utterances of one twin group with two or more in the batch, else -1."""
    groups = [group_of.get(u) for u in utt_ids]
    counts: Dict[str, int] = {}
    for g in groups:
        if g is not None:
            counts[g] = counts.get(g, 0) + 1
    index = {g: i for i, g in enumerate(sorted(g for g, n in counts.items() if n > 1))}
    return torch.tensor([index.get(g, -1) if g is not None else -1 for g in groups], dtype=torch.long)


class TwinCollateFn(CommonCollateFn):
    """ESPnet's collate plus ``twin_group`` from the batch's utterance ids."""

    def __init__(self, group_of: Mapping[str, str], **kwargs) -> None:
        super().__init__(**kwargs)
        self.group_of = dict(group_of)

    def __call__(self, data: Collection[Tuple[str, Dict[str, np.ndarray]]]) -> Tuple[List[str], Dict[str, torch.Tensor]]:
        utt_ids, batch = super().__call__(data)
        batch[GROUP_KEY] = group_ids(utt_ids, self.group_of)
        return utt_ids, batch
