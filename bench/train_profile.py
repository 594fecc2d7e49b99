"""Where a training epoch's CPU time goes: hooks around ESPnet's Trainer, run in this process.

Used by ``bench_train_epoch.py --profile``. Times are process CPU seconds
(``time.process_time``), so other jobs on the machine inflate them far less than wall time;
run with one thread and ``--num_workers 0`` so data loading happens in this process.
"""

from __future__ import annotations

import contextlib
import time
from collections import defaultdict
from typing import Callable, Dict, Iterator, List, Tuple

import torch
from torch.optim.optimizer import register_optimizer_step_post_hook, register_optimizer_step_pre_hook

CLOCK = time.process_time


class Timers:
    """Accumulated CPU seconds per part; nested parts are also inside their parent."""

    def __init__(self) -> None:
        self.seconds: Dict[str, float] = defaultdict(float)
        self.calls: Dict[str, int] = defaultdict(int)
        self.phase = ""  # "valid: " while validation runs

    def add(self, name: str, seconds: float) -> None:
        key = name if name.startswith("epoch end") else self.phase + name
        self.seconds[key] += seconds
        self.calls[key] += 1

    @contextlib.contextmanager
    def part(self, name: str) -> Iterator[None]:
        t = CLOCK()
        try:
            yield
        finally:
            self.add(name, CLOCK() - t)

    def wrap(self, name: str, fn: Callable) -> Callable:
        def timed(*args, **kwargs):
            with self.part(name):
                return fn(*args, **kwargs)
        timed.__wrapped__ = fn
        return timed


def _patch(undo: List[Tuple[object, str, object]], owner: object, attr: str, new: object) -> None:
    undo.append((owner, attr, getattr(owner, attr)))
    setattr(owner, attr, new)


def hook_module(timers: Timers, module: torch.nn.Module, name: str) -> List:
    """Forward pre/post hooks that time ``module`` (training and validation alike)."""
    starts: List[float] = []

    def pre(_m, _a):
        starts.append(CLOCK())

    def post(_m, _a, _o):
        timers.add(name, CLOCK() - starts.pop())

    return [module.register_forward_pre_hook(pre), module.register_forward_hook(post)]


@contextlib.contextmanager
def profiled(timers: Timers) -> Iterator[None]:
    """Patch ESPnet's data, trainer, reporter and torch entry points to time them."""
    from espnet2.train import dataset, reporter, trainer
    from espnet2.train.collate_fn import CommonCollateFn

    undo: List[Tuple[object, str, object]] = []
    handles: List = []
    _patch(undo, dataset.ESPnetDataset, "__getitem__",
           timers.wrap("data: read + preprocess", dataset.ESPnetDataset.__getitem__))
    _patch(undo, CommonCollateFn, "__call__", timers.wrap("data: collate", CommonCollateFn.__call__))
    _patch(undo, torch.Tensor, "backward", timers.wrap("backward", torch.Tensor.backward))
    _patch(undo, torch.nn.utils, "clip_grad_norm_", timers.wrap("grad clip", torch.nn.utils.clip_grad_norm_))
    _patch(undo, reporter.Reporter, "matplotlib_plot",
           timers.wrap("epoch end: loss plots", reporter.Reporter.matplotlib_plot))
    _patch(undo, reporter.Reporter, "tensorboard_add_scalar",
           timers.wrap("tensorboard", reporter.Reporter.tensorboard_add_scalar))
    _patch(undo, trainer.Trainer, "train_one_epoch",
           classmethod(timers.wrap("train epoch (total)", trainer.Trainer.train_one_epoch.__func__)))
    validate = timers.wrap("epoch end: validation", trainer.Trainer.validate_one_epoch.__func__)

    def validate_phase(cls_, *args, **kwargs):
        timers.phase = "valid: "
        try:
            return validate(cls_, *args, **kwargs)
        finally:
            timers.phase = ""

    _patch(undo, trainer.Trainer, "validate_one_epoch", classmethod(validate_phase))
    _patch(undo, trainer, "average_nbest_models", timers.wrap("epoch end: n-best averaging",
                                                              trainer.average_nbest_models))
    _patch(undo, torch, "save", timers.wrap("epoch end: saves", torch.save))
    opt_start: List[float] = []
    handles.append(register_optimizer_step_pre_hook(
        lambda *_: opt_start.append(CLOCK())))

    def opt_post(*_):
        timers.add("optimizer step", CLOCK() - opt_start.pop())

    handles.append(register_optimizer_step_post_hook(opt_post))
    # the task's model gets its hooks as it is built (``main_worker`` builds it)
    from espnet_l2dual.tasks.l2dual import L2DualTask
    orig_build = L2DualTask.build_model.__func__

    def build_and_hook(cls_, args):
        model = orig_build(cls_, args)
        handles.extend(hook_model(timers, model))
        return model

    _patch(undo, L2DualTask, "build_model", classmethod(build_and_hook))
    try:
        yield
    finally:
        for h in handles:
            h.remove()
        for owner, attr, old in reversed(undo):
            setattr(owner, attr, old)


def hook_model(timers: Timers, model: torch.nn.Module) -> List:
    """Hooks on the dual model's parts: front end, SpecAugment, normalisation, encoder, decoders, CTCs."""
    handles: List = []
    for name in ("frontend", "specaug", "normalize", "encoder"):
        m = getattr(model, name, None)
        if m is not None:
            handles += hook_module(timers, m, f"forward: {name}")
    for o, m in getattr(model, "decoders", {}).items():
        handles += hook_module(timers, m, "forward: decoders")
    for o, m in getattr(model, "ctcs", {}).items():
        handles += hook_module(timers, m, "forward: CTC losses")
    for o, m in getattr(model, "criteria_att", {}).items():
        handles += hook_module(timers, m, "forward: attention losses")
    handles += hook_module(timers, model, "forward (total)")
    return handles
