"""Checkpoints are whole or absent: a kill or a full disk during torch.save never tears one."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Optional

import pytest
import torch
from espnet2.iterators.abs_iter_factory import AbsIterFactory
from espnet2.main_funcs import average_nbest_models as espnet_average
from espnet2.train import trainer as espnet_trainer
from espnet2.train.abs_espnet_model import AbsESPnetModel
from espnet2.train.distributed_utils import DistributedOption

from espnet_l2dual.train.atomic_save import checkpoint_problem, remove_stale_temps, save_atomically
from espnet_l2dual.train.trainer import L2DualTrainer, L2DualTrainerOptions


def _save_killed_midway(target: Path, guarded: bool) -> int:
    """Save epoch 1, then a child process that dies by SIGKILL half-way through saving over it."""
    torch.save({"epoch": 1}, target)
    save = "save_atomically" if guarded else "torch.save"
    code = textwrap.dedent("""
        import os, signal, torch
        from espnet_l2dual.train.atomic_save import save_atomically
        class Die:
            def __reduce__(self):
                os.kill(os.getpid(), signal.SIGKILL)
    """) + f"{save}({{'w': torch.zeros(100000), 'x': Die()}}, {str(target)!r})\n"
    return subprocess.run([sys.executable, "-c", code], capture_output=True).returncode


def test_a_kill_during_the_save_leaves_the_old_checkpoint(tmp_path: Path) -> None:
    target = tmp_path / "checkpoint.pth"
    assert _save_killed_midway(target, guarded=True) == -9
    assert torch.load(target) == {"epoch": 1}
    assert checkpoint_problem(target) is None
    assert remove_stale_temps(tmp_path) == 1 and [p.name for p in tmp_path.iterdir()] == ["checkpoint.pth"]


def test_without_the_guard_the_same_kill_tears_the_file(tmp_path: Path) -> None:
    """The failure the guard exists for (so the test above can fail)."""
    target = tmp_path / "checkpoint.pth"
    assert _save_killed_midway(target, guarded=False) == -9
    assert checkpoint_problem(target) is not None


def test_problems_are_named(tmp_path: Path) -> None:
    good = tmp_path / "good.pth"
    torch.save({"a": torch.ones(3)}, good)
    empty = tmp_path / "empty.pth"
    empty.write_bytes(b"")
    cut = tmp_path / "cut.pth"
    cut.write_bytes(good.read_bytes()[:200])
    assert checkpoint_problem(good) is None
    assert checkpoint_problem(empty) == "is empty (0 bytes)"
    assert "truncated" in checkpoint_problem(cut)
    assert "cannot be read" in checkpoint_problem(tmp_path / "missing.pth")


def test_full_disk_names_the_path(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "checkpoint.pth"

    def no_space(obj, f, *a, **k):
        raise RuntimeError("PytorchStreamWriter failed writing file data/0: file write failed")

    monkeypatch.setattr(torch, "save", no_space)
    with pytest.raises(OSError) as e:
        save_atomically({"a": 1}, target)
    assert e.value.errno == errno.ENOSPC and str(target) in str(e.value)
    assert list(tmp_path.iterdir()) == []


def test_saves_to_a_stream_pass_through(tmp_path: Path) -> None:
    with open(tmp_path / "x.pth", "wb") as f:
        save_atomically({"a": 1}, f)
    assert torch.load(tmp_path / "x.pth") == {"a": 1}
    assert (tmp_path / "x.pth").stat().st_mode & 0o644 == 0o644


class _TinyModel(AbsESPnetModel):
    """One linear map; ``die_at_epoch``: its state, saved in that epoch's checkpoint, kills the process."""

    die_at_epoch: Optional[int] = None

    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(2, 2)
        self.epoch = 0

    def forward(self, **batch):  # not called: the quick trainer below does not step
        raise NotImplementedError

    def collect_feats(self, **batch):
        raise NotImplementedError

    def state_dict(self, *args, **kwargs):
        state = super().state_dict(*args, **kwargs)
        if self.epoch == self.die_at_epoch:
            state["die"] = _Die()
        return state


class _Die:
    def __reduce__(self):
        os.kill(os.getpid(), signal.SIGKILL)


class _QuickTrainer(L2DualTrainer):
    """L2DualTrainer with epochs that only report a loss: ESPnet's run, resume and saves as they are."""

    seen_saves: list = []

    @classmethod
    def train_one_epoch(cls, model, iterator, optimizers, schedulers, scaler, reporter, summary_writer,
                        options, distributed_option) -> bool:
        model.epoch += 1
        cls.seen_saves.append((torch.save, espnet_trainer.torch.save, espnet_average.torch.save))
        reporter.register({"loss": 1.0})
        reporter.next()
        return False

    @classmethod
    def validate_one_epoch(cls, model, iterator, reporter, options, distributed_option) -> None:
        reporter.register({"loss": 1.0 / model.epoch})
        reporter.next()


class _NoBatches(AbsIterFactory):
    def build_iter(self, epoch: int, shuffle: bool = None):
        return iter([])


def quick_training(output_dir: Path, max_epoch: int, die_at_epoch: Optional[int] = None) -> _TinyModel:
    """Train ``_TinyModel`` for ``max_epoch`` epochs with ESPnet's ``Trainer.run`` (through ours)."""
    model = _TinyModel()
    model.die_at_epoch = die_at_epoch
    options = L2DualTrainerOptions(
        ngpu=0, resume=True, use_amp=False, train_dtype="float32", grad_noise=False, accum_grad=1,
        grad_clip=5.0, grad_clip_type=2.0, log_interval=None, no_forward_run=False, use_matplotlib=False,
        use_tensorboard=False, use_wandb=False, adapter="lora", use_adapter=False, save_strategy="all",
        output_dir=str(output_dir), max_epoch=max_epoch, seed=0, sharded_ddp=False, patience=None,
        keep_nbest_models=2, nbest_averaging_interval=0, early_stopping_criterion=("valid", "loss", "min"),
        best_model_criterion=[("valid", "loss", "min")], val_scheduler_criterion=("valid", "loss"),
        unused_parameters=False, wandb_model_log_interval=-1, create_graph_in_tensorboard=False,
        gradient_as_bucket_view=False, ddp_comm_hook=None,
    )
    _QuickTrainer.run(model=model, optimizers=[torch.optim.SGD(model.parameters(), lr=0.1)], schedulers=[None],
                      train_iter_factory=_NoBatches(), valid_iter_factory=_NoBatches(),
                      plot_attention_iter_factory=None, trainer_options=options,
                      distributed_option=DistributedOption())
    return model


def test_training_saves_through_the_atomic_save_and_leaves_torch_save_alone(tmp_path: Path) -> None:
    original = torch.save
    _QuickTrainer.seen_saves = []
    quick_training(tmp_path, max_epoch=3)
    assert _QuickTrainer.seen_saves == [(original, save_atomically, save_atomically)] * 3
    assert espnet_trainer.torch is torch and espnet_average.torch is torch and torch.save is original
    for name in ("checkpoint.pth", "3epoch.pth", "2epoch.pth", "valid.loss.ave_2best.pth"):
        assert checkpoint_problem(tmp_path / name) is None, name
    assert torch.load(tmp_path / "checkpoint.pth", weights_only=False)["reporter"]["epoch"] == 3


def test_a_kill_while_training_saves_a_checkpoint_leaves_the_last_whole_one(tmp_path: Path) -> None:
    """The second epoch's checkpoint save dies half-way: the first epoch's checkpoint is still there."""
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from pathlib import Path
        from test_atomic_save import quick_training
        quick_training(Path({str(tmp_path)!r}), max_epoch=3, die_at_epoch=2)
    """)
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == -9
    checkpoint = tmp_path / "checkpoint.pth"
    assert checkpoint_problem(checkpoint) is None
    assert torch.load(checkpoint, weights_only=False)["reporter"]["epoch"] == 1
    assert remove_stale_temps(tmp_path) == 1
    quick_training(tmp_path, max_epoch=3)  # resumes from epoch 1
    assert torch.load(checkpoint, weights_only=False)["reporter"]["epoch"] == 3
