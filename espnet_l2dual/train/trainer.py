"""ESPnet Trainer that keeps the model's starting point θ0 for later analysis.

Entanglement and gradient-conflict analyses compare trained weights with the
initial ones, which ESPnet does not keep.  ``run`` writes them once, on a fresh
start only (a resumed run must not overwrite θ0 with trained weights).

ESPnet's saves during training are atomic (``atomic_save.atomic_espnet_saves``), so a
kill or a full disk never leaves a half-written ``checkpoint.pth``; a resume that meets a corrupt one
(from elsewhere) names it, moves it aside and starts over, and one that meets a
checkpoint whose epoch snapshot was never written writes it from the checkpoint.

The trainer adds the options of the method choice ``grad_surgery`` (``pcgrad``, ``cagrad``:
``grad_surgery_choices``, registered in ``tasks/l2dual.py`` with the other method choices)
and ``grad_surgery_conf``; when one is chosen, ``run`` hands over to ``GradSurgeryTrainer``, which wraps the
model in ``GradSurgeryStep`` once, before ESPnet's DDP wrapper (so multi-process
training averages the task gradients over the ranks before the surgery); validation
and everything else stay stock ESPnet.  DataParallel (``--ngpu N`` in one process)
is refused with surgery: it would split the step's autograd over replicas.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
from pathlib import Path
from typing import Optional

import torch

from espnet2.train.trainer import Trainer, TrainerOptions
from espnet2.utils.build_dataclass import build_dataclass

from espnet_l2dual.train.atomic_save import (
    atomic_espnet_saves, checkpoint_problem, remove_stale_temps, save_atomically,
)
from espnet2.train.class_choices import ClassChoices

from espnet_l2dual.methods.abs_grad_surgery import AbsGradSurgery
from espnet_l2dual.train.grad_surgery import GradSurgeryStep
from espnet_l2dual.train.loss_plots import sparse_loss_plots
from espnet_l2dual.utils.choices import build_choice
from espnet_l2dual.utils.fileio import atomic_write


@dataclasses.dataclass
class L2DualTrainerOptions(TrainerOptions):
    grad_surgery: Optional[str] = None
    grad_surgery_conf: dict = dataclasses.field(default_factory=dict)
    loss_plot_interval: int = 4

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
    """The stock ESPnet trainer plus θ0 saving; dispatches to gradient surgery when configured."""

    # The ``grad_surgery`` choice: registered in tasks/l2dual.py with the other method choices, which sets it
    # here (an import of the task module from here would be an import cycle). None: no surgery options.
    grad_surgery_choices: Optional[ClassChoices] = None

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--loss_plot_interval", type=int, default=4,
            help="draw images/<key>.png every N epochs and after the last one (1: every epoch, as "
                 "ESPnet does); the plots cost a few CPU seconds an epoch and change nothing else",
        )
        if cls.grad_surgery_choices is None:
            return
        group = parser.add_argument_group("Gradient surgery (shared encoder parameters)")
        # --grad_surgery pcgrad|cagrad|none and --grad_surgery_conf {layers_topk, cagrad_c}; added here, not by
        # the task's class_choices_list, so they stay among the training options (--print_config order)
        cls.grad_surgery_choices.add_arguments(group)

    @classmethod
    def build_surgery(cls, name: Optional[str], conf: Optional[dict]) -> Optional[AbsGradSurgery]:
        """The ``grad_surgery`` choice with its ``grad_surgery_conf`` (None: plain summed gradients)."""
        if name is not None and cls.grad_surgery_choices is None:
            raise ValueError(f"grad_surgery: {name}: no grad_surgery choice is registered with this trainer")
        return build_choice(cls.grad_surgery_choices, name, conf)

    @classmethod
    def build_options(cls, args: argparse.Namespace) -> L2DualTrainerOptions:
        options = build_dataclass(L2DualTrainerOptions, args)
        cls.build_surgery(options.grad_surgery, options.grad_surgery_conf)  # a bad conf fails before training
        return options

    @classmethod
    def run(cls, model, optimizers, schedulers, train_iter_factory, valid_iter_factory,
            plot_attention_iter_factory, trainer_options, distributed_option) -> None:
        surgery = getattr(trainer_options, "grad_surgery", None)
        if surgery is not None and not issubclass(cls, GradSurgeryTrainer):
            if distributed_option.ngpu > 1 and not distributed_option.distributed:
                raise RuntimeError("--grad_surgery needs one process per GPU (DDP: --multiprocessing_distributed "
                                   "true); DataParallel (ngpu > 1 in one process) is not supported")
            return GradSurgeryTrainer.run(
                model, optimizers, schedulers, train_iter_factory, valid_iter_factory,
                plot_attention_iter_factory, trainer_options, distributed_option,
            )
        is_main = not distributed_option.distributed or distributed_option.dist_rank == 0
        with atomic_espnet_saves(), sparse_loss_plots(trainer_options.loss_plot_interval,
                                                      trainer_options.max_epoch):
            if is_main:
                remove_stale_temps(Path(trainer_options.output_dir))
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

    @staticmethod
    def resume(checkpoint, model, reporter, optimizers, schedulers, scaler, ngpu: int = 0,
               strict: bool = True) -> None:
        """ESPnet's resume, after checking the file; a corrupt checkpoint is set aside, not fatal."""
        checkpoint = Path(checkpoint)
        problem = checkpoint_problem(checkpoint)
        if problem is not None:
            aside = checkpoint.with_name(checkpoint.name + ".corrupt")
            os.replace(checkpoint, aside)
            logging.error(f"{checkpoint} {problem}: moved it to {aside}; training starts again from epoch 1 "
                          "(the epoch snapshots hold weights only, not the optimizer and scheduler state)")
            return
        Trainer.resume(checkpoint, model, reporter, optimizers, schedulers, scaler, ngpu=ngpu, strict=strict)
        epoch = reporter.get_epoch()
        snapshot = checkpoint.parent / f"{epoch}epoch.pth"
        if epoch > 0 and not snapshot.exists():  # killed between the checkpoint and the snapshot
            save_atomically(model.state_dict(), snapshot)
            logging.warning(f"{snapshot} was missing (interrupted save): written from {checkpoint}")


class GradSurgeryTrainer(L2DualTrainer):
    """L2DualTrainer whose training step applies PCGrad/CAGrad to the shared parameters."""

    @classmethod
    def run(cls, model, optimizers, schedulers, train_iter_factory, valid_iter_factory,
            plot_attention_iter_factory, trainer_options, distributed_option) -> None:
        surgery = cls.build_surgery(trainer_options.grad_surgery, trainer_options.grad_surgery_conf)
        step = GradSurgeryStep(model, surgery)
        super().run(step, optimizers, schedulers, train_iter_factory, valid_iter_factory,
                    plot_attention_iter_factory, trainer_options, distributed_option)

    @classmethod
    def train_one_epoch(cls, model, iterator, optimizers, schedulers, scaler, reporter,
                        summary_writer, options, distributed_option) -> bool:
        step = model.module if isinstance(model, torch.nn.parallel.DistributedDataParallel) else model
        if not isinstance(step, GradSurgeryStep):  # called with the bare model (tests, other callers)
            model = step = GradSurgeryStep(model, cls.build_surgery(options.grad_surgery, options.grad_surgery_conf))
        step.scaler = scaler
        return super().train_one_epoch(
            model=model, iterator=iterator, optimizers=optimizers, schedulers=schedulers,
            scaler=scaler, reporter=reporter, summary_writer=summary_writer,
            options=options, distributed_option=distributed_option,
        )
