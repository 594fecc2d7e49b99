"""ESPnet Trainer that keeps the model's starting point θ0 for later analysis.

Entanglement and gradient-conflict analyses compare trained weights with the
initial ones, which ESPnet does not keep.  ``run`` writes them once, on a fresh
start only (a resumed run must not overwrite θ0 with trained weights).
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from espnet_l2dual.utils import offline

offline.guard()

from espnet2.train.trainer import Trainer  # noqa: E402

from espnet_l2dual.utils.fileio import atomic_write  # noqa: E402

INIT_NAME = "init.pth"


def save_initial_weights(model: torch.nn.Module, output_dir: Path) -> bool:
    """Write ``output_dir/init.pth`` unless it exists or training already started; True if written."""
    output_dir = Path(output_dir)
    target = output_dir / INIT_NAME
    if target.exists() or (output_dir / "checkpoint.pth").exists():
        return False
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    with atomic_write(target, mode="wb") as f:
        torch.save(state, f)
    logging.info(f"Saved the initial weights in {target}")
    return True


class L2DualTrainer(Trainer):
    """The stock ESPnet trainer plus θ0 saving (a hook point for gradient surgery later)."""

    @classmethod
    def run(cls, model, optimizers, schedulers, train_iter_factory, valid_iter_factory,
            plot_attention_iter_factory, trainer_options, distributed_option) -> None:
        is_main = not distributed_option.distributed or distributed_option.dist_rank == 0
        if is_main:
            save_initial_weights(model, Path(trainer_options.output_dir))
        super().run(
            model=model,
            optimizers=optimizers,
            schedulers=schedulers,
            train_iter_factory=train_iter_factory,
            valid_iter_factory=valid_iter_factory,
            plot_attention_iter_factory=plot_attention_iter_factory,
            trainer_options=trainer_options,
            distributed_option=distributed_option,
        )
