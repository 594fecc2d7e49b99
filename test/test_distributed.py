"""The pieces for DDP and AMP, on hand-computed cases.

In a real 2-rank gloo process group (two local processes): ``global_task_gradients`` (gradient
surgery) averages each rank's task gradients weighted by its batch size, as ESPnet weights the
ranks' losses; ``utils.distributed.gather_rows`` (the ortho penalty) gives every rank all rows,
in rank order, and its backward sums every rank's gradient into the rows' owner.  ``loss_scale`` and ``task_gradients(scale=...)``: a GradScaler's scale multiplies the
losses before the backward and is divided out after it, so the step's gradient is the
unscaled one.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from l2dual_helpers import build, random_batch

from espnet_l2dual.methods.pcgrad import PCGrad
from espnet_l2dual.train import grad_surgery as gs
from espnet_l2dual.train import shared_gradients as sg
from espnet_l2dual.utils.distributed import gather_rows, world_size

# rank r: (batch size, task gradients {layer: values}) -- two tasks, two layers
RANKS = {
    0: (3, [{"a": [1.0, 2.0], "b": [4.0]}, {"a": [0.0, -1.0], "b": [2.0]}]),
    1: (1, [{"a": [5.0, 6.0], "b": [0.0]}, {"a": [4.0, 3.0], "b": [-2.0]}]),
}
# by hand: (3 * rank0 + 1 * rank1) / 4
EXPECTED = [{"a": [2.0, 3.0], "b": [3.0]}, {"a": [1.0, 0.0], "b": [1.0]}]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank(rank: int, port: int, out_dir: str) -> None:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    try:
        weight, grads = RANKS[rank]
        tensors = [{k: torch.tensor(v) for k, v in g.items()} for g in grads]
        result = gs.global_task_gradients(tensors, torch.tensor(weight))
        torch.save([{k: v.tolist() for k, v in g.items()} for g in result], Path(out_dir) / f"rank{rank}.pt")
        # gather_rows: rank 0 holds 3 rows, rank 1 one; loss on rank r = (r + 1) * sum(rows^2)
        x = torch.arange(6.0 if rank == 0 else 2.0).reshape(-1, 2).requires_grad_()
        rows = gather_rows(x)
        (rows.pow(2).sum() * (rank + 1)).backward()
        torch.save({"world": world_size(), "rows": rows.tolist(), "grad": x.grad.tolist()},
                   Path(out_dir) / f"gather{rank}.pt")
    finally:
        dist.destroy_process_group()


def test_two_ranks_global_gradients_and_gathered_rows(tmp_path) -> None:
    mp.spawn(_rank, args=(_free_port(), str(tmp_path)), nprocs=2, join=True)
    for rank in (0, 1):
        gathered = torch.load(tmp_path / f"gather{rank}.pt")
        assert gathered["world"] == 2
        assert gathered["rows"] == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [0.0, 1.0]]
        # d/dx of sum_q (q + 1) * sum(rows^2) = (1 + 2) * 2x, on the rank that owns x
        own = [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]] if rank == 0 else [[0.0, 1.0]]
        assert gathered["grad"] == [[6.0 * v for v in row] for row in own]
        got = torch.load(tmp_path / f"rank{rank}.pt")
        for g, e in zip(got, EXPECTED):
            assert g.keys() == e.keys()
            for k in e:
                assert g[k] == pytest.approx(e[k]), (rank, k)


def test_without_a_process_group_everything_is_the_rank_s_own() -> None:
    grads = [{"a": torch.tensor([1.0, 2.0])}]
    assert not dist.is_initialized() and world_size() == 1
    assert gs.global_task_gradients(grads, 5)[0]["a"] is grads[0]["a"]
    x = torch.ones(3, 2)
    assert gather_rows(x) is x


class _Scaler:
    def __init__(self, scale: float, enabled: bool = True):
        self.scale, self.enabled = scale, enabled

    def is_enabled(self) -> bool:
        return self.enabled

    def get_scale(self) -> float:
        return self.scale


def test_loss_scale_reads_an_enabled_scaler_only() -> None:
    assert gs.loss_scale(None) == 1.0
    assert gs.loss_scale(_Scaler(1024.0, enabled=False)) == 1.0
    assert gs.loss_scale(_Scaler(1024.0)) == 1024.0


def test_scaled_task_gradients_are_the_unscaled_ones(tmp_path) -> None:
    model = build(tmp_path, ("surface", "meaning"))
    model.eval()  # no dropout: two calls see the same graph
    batch = random_batch()
    layers = sg.shared_layers(model)
    plain = sg.task_gradients(model.task_losses(**batch)[0], model.tasks, layers)
    scaled = sg.task_gradients(model.task_losses(**batch)[0], model.tasks, layers, scale=1024.0)
    for p, s in zip(plain, scaled):
        for layer in p:
            assert torch.allclose(p[layer], s[layer], rtol=1e-4, atol=1e-6), layer


def test_the_step_under_a_grad_scaler_gives_the_unscaled_surgery_gradient(tmp_path) -> None:
    model = build(tmp_path, ("surface", "meaning"))
    batch = random_batch()
    grads = {}
    for scale in (None, 4096.0):
        model.zero_grad()
        step = gs.GradSurgeryStep(model, PCGrad(), scaler=None if scale is None else _Scaler(scale))
        step.train()
        model.eval()  # no dropout: both steps see the same graph
        step(**batch)[0].backward()  # the trainer scales this loss itself; the scaler here reaches the task gradients
        grads[scale] = torch.cat([p.grad.reshape(-1) for p in model.parameters() if p.grad is not None])
    assert torch.allclose(grads[None], grads[4096.0], rtol=1e-4, atol=1e-6)
