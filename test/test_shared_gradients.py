"""The one gradient-conflict measure (train.shared_gradients) and its two users.

Gradient surgery's training logs and stage 10's analysis must measure the same
parameters (the model's shared ones: no experts, no task branches) and give the
same number for the same batch; the surgery itself must not change.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from l2dual_helpers import parse_args, random_batch, tiny_config

from espnet_l2dual.analysis import gradient_conflict
from espnet_l2dual.tasks.l2dual import L2DualTask
from espnet_l2dual.methods.pcgrad import PCGrad
from espnet_l2dual.train import grad_surgery as gs
from espnet_l2dual.tasks.l2dual import build_surgery
from espnet_l2dual.train import shared_gradients as sg

METHODS = {
    "mtl": ({}, ["embed", "block0", "block1", "block2", "after_norm"]),
    "moe": ({"encoder_sharing": "experts", "encoder_sharing_conf": {"encoder_blocks": [1, 2]}}, ["embed", "block0", "block1", "block2", "after_norm"]),
    "partial": ({"encoder_sharing": "partial", "encoder_sharing_conf": {"shared_layers": 2}}, ["embed", "block0", "block1", "after_norm"]),
}


def build(tmp_path: Path, method: str, seed: int = 0):
    cfg = {**tiny_config(["surface", "meaning"]), **METHODS[method][0]}
    cfg["encoder_conf"]["num_blocks"] = 3
    torch.manual_seed(seed)
    return L2DualTask.build_model(parse_args(tmp_path, cfg))


# ---------------------------------------------------------------- a toy model, by hand


class Toy(torch.nn.Module):
    """Linear losses, so each task gradient is a known constant vector."""

    tasks = ["surface", "meaning"]

    def __init__(self):
        super().__init__()
        self.encoder = torch.nn.Module()
        self.encoder.embed = torch.nn.Linear(2, 1, bias=False)
        self.encoder.encoders = torch.nn.ModuleList([torch.nn.Linear(2, 1, bias=False) for _ in range(2)])
        self.encoder.encoders[0].experts = torch.nn.ParameterDict({o: torch.nn.Parameter(torch.ones(3))
                                                                   for o in self.tasks})
        self.head = torch.nn.Parameter(torch.ones(2))

    def is_shared_parameter(self, name: str) -> bool:
        return name.startswith("encoder.") and ".experts." not in name

    def task_losses(self, **batch):
        e, b0, b1 = self.encoder.embed.weight[0], self.encoder.encoders[0].weight[0], self.encoder.encoders[1].weight[0]
        ex = self.encoder.encoders[0].experts
        surface = e @ torch.tensor([1.0, 0.0]) + b0 @ torch.tensor([3.0, 4.0]) + b1.sum() \
            + 5 * ex["surface"].sum() + self.head.sum()
        meaning = e @ torch.tensor([0.0, 2.0]) + b0 @ torch.tensor([4.0, 3.0]) \
            - 5 * ex["meaning"].sum() - self.head.sum()  # b1 unused: zero gradient
        return {"surface": surface, "meaning": meaning}, {}, 1


def test_hand_computed_cosines_on_a_toy_model():
    model = Toy()
    layers = sg.shared_layers(model)
    assert layers.layers == ["embed", "block0", "block1"]
    assert layers.names == ["encoder.embed.weight", "encoder.encoders.0.weight", "encoder.encoders.1.weight"]
    cos = sg.batch_cosines(model, {})
    # embed: (1,0).(0,2) = 0 -> a defined 0, not None; block0: 24/25;
    # block1: meaning's gradient is zero -> None (undefined), not 0
    assert cos["embed"] == 0.0
    assert cos["block0"] == pytest.approx(24 / 25, abs=1e-15)
    assert cos["block1"] is None
    # all: dot 0 + 24 + 0 = 24, |g_s|^2 = 1 + 25 + 2 = 28, |g_m|^2 = 4 + 25 = 29
    assert cos["all"] == pytest.approx(24 / math.sqrt(28 * 29), abs=1e-15)
    # the expert (-1 cosine) and the task head (-1) are not in the measure
    assert set(cos) == {"embed", "block0", "block1", "all"}


def test_cosines_are_float64_and_undefined_for_zero_gradients():
    a = {"x": torch.tensor([1.0, 1e-4], dtype=torch.float32)}
    b = {"x": torch.tensor([1.0, -1e-4], dtype=torch.float32)}
    expected = (1 - 1e-8) / (1 + 1e-8)  # float32 rounds this to 1.0
    assert sg.cosines([a, b])["x"] == pytest.approx(expected, abs=1e-12) and sg.cosines([a, b])["x"] != 1.0
    zero = {"x": torch.zeros(2)}
    assert sg.cosines([a, zero]) == {"x": None, "all": None}
    with pytest.raises(ValueError, match="exactly two"):
        sg.cosines([a])


def test_two_modules_with_one_layer_name_fail_clearly():
    model = Toy()
    model.embed = torch.nn.Linear(2, 1)  # top-level 'embed' vs encoder.embed
    model.is_shared_parameter = lambda name: not name.startswith("head") and ".experts." not in name
    with pytest.raises(ValueError, match="layer name 'embed'"):
        sg.shared_layers(model)


def test_layer_names():
    assert sg.layer_name("encoder.encoders.11.feed_forward.w_1.weight") == "block11"
    assert sg.layer_name("encoder.embed.conv.0.weight") == "embed"
    assert sg.layer_name("encoder.after_norm.weight") == "after_norm"
    assert sg.layer_name("frontend.logmel.weight") == "frontend"


# ---------------------------------------------------------------- real models: what is measured


@pytest.mark.parametrize("method", sorted(METHODS))
def test_measured_layers_are_the_shared_parameters_only(tmp_path, method):
    model = build(tmp_path, method)
    layers = sg.shared_layers(model)
    assert layers.layers == METHODS[method][1]
    expected = [n for n, p in model.named_parameters() if p.requires_grad and model.is_shared_parameter(n)]
    assert layers.names == expected
    for name in layers.names:
        assert ".experts." not in name and name.startswith("encoder."), name
    everything = [n for n, _ in model.named_parameters()]
    if method == "moe":
        assert any(".experts." in n for n in everything)
    if method == "partial":
        assert any(n.startswith("encoder_sharing.branches.") for n in everything)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_training_logs_and_stage10_give_the_same_numbers(tmp_path, method, monkeypatch):
    model = build(tmp_path, method)
    batch = random_batch()
    # stage 10 on this one batch (its data loading replaced by the batch)
    monkeypatch.setattr(gradient_conflict, "draw_batches", lambda *a: [["u1", "u2", "u3"]])
    monkeypatch.setattr(gradient_conflict, "load_utterances", lambda data_dir, keys: keys)
    monkeypatch.setattr(gradient_conflict, "collate", lambda *a: batch)
    report = gradient_conflict.gradient_cosines(model, None, None, tmp_path, 1, 3, seed=0)
    assert not model.training
    # the training step with the model in eval mode (no dropout, no specaug)
    step = gs.GradSurgeryStep(model, PCGrad(layers_topk=2)).train()
    model.eval()
    _, stats, _ = step(**batch)
    logged = {k[len("gcos_"):]: v.item() for k, v in stats.items() if k.startswith("gcos_")}
    rows = report["layers"] + report["parts"] + [report["all"]]
    assert [r["layer"] for r in report["layers"]] == [g for g in METHODS[method][1] if g.startswith("block")]
    assert {r["layer"] for r in rows} == set(logged) == set(METHODS[method][1]) | {"all"}
    for r in rows:
        assert r["per_batch"] == [logged[r["layer"]]], r["layer"]  # exactly equal, not approximately
        assert r["per_batch"][0] is not None and -1.0 <= r["per_batch"][0] <= 1.0


# ---------------------------------------------------------------- the surgery did not change


def _old_layer(name: str) -> str:
    """The layer grouping of the step before the shared measure existed (frozen oracle)."""
    parts = name.split(".")
    if len(parts) > 2 and parts[0] == "encoder" and parts[1] == "encoders":
        return f"enc{parts[2]}"
    if parts[0] == "encoder":
        return parts[1] if len(parts) > 1 else "encoder"
    return parts[0]


def _old_cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    na, nb = float(a.norm()), float(b.norm())
    return float(torch.dot(a, b)) / (na * nb) if na > 0 and nb > 0 else 0.0


def _direction(method, c, grads):
    return build_surgery(method, {"cagrad_c": c} if method == "cagrad" else {}).direction(grads)


def _old_step_loss(model, batch, method, topk, c=0.5):
    """The pre-refactor GradSurgeryStep loss (float32 cosines, its own grouping): the reference."""
    losses, _, _ = model.task_losses(**batch)
    total = None
    for term in losses.values():
        total = term if total is None else total + term
    shared = [(n, p) for n, p in model.named_parameters() if p.requires_grad and model.is_shared_parameter(n)]
    groups = {}
    for i, (name, _) in enumerate(shared):
        groups.setdefault(_old_layer(name), []).append(i)
    params = [p for _, p in shared]
    task_grads = []
    for o in model.tasks:
        grads = torch.autograd.grad(losses[o], params, retain_graph=True, allow_unused=True)
        grads = [torch.zeros_like(p) if g is None else g for g, p in zip(grads, params)]
        task_grads.append({layer: torch.cat([grads[i].reshape(-1) for i in idx]) for layer, idx in groups.items()})
    layers = list(task_grads[0])
    combined = {layer: sum(g[layer] for g in task_grads) for layer in layers}
    if topk is None:
        sizes = [task_grads[0][layer].numel() for layer in layers]
        flat = [torch.cat([g[layer] for layer in layers]) for g in task_grads]
        combined = dict(zip(layers, _direction(method, c, flat).split(sizes)))
        operated = layers
    else:
        cos = {layer: _old_cosine(task_grads[0][layer], task_grads[1][layer]) for layer in layers}
        operated = [layer for _, layer in sorted((v, layer) for layer, v in cos.items() if v < 0)[:topk]]
        for layer in operated:
            combined[layer] = _direction(method, c, [g[layer] for g in task_grads])
    correction = total.new_zeros(())
    for layer in operated:
        idx = groups[layer]
        delta = (combined[layer] - sum(g[layer] for g in task_grads)).detach()
        for i, piece in zip(idx, delta.split([params[i].numel() for i in idx])):
            correction = correction + (params[i] * piece.view_as(params[i])).sum()
    return total + (correction - correction.detach())


def _gradient(model, loss_fn, seed):
    model.zero_grad()
    torch.manual_seed(seed)
    loss = loss_fn(random_batch(seed=seed))
    loss.sum().backward()
    return loss.detach().reshape(-1), {n: p.grad.detach().clone() for n, p in model.named_parameters()
                                       if p.grad is not None}


@pytest.mark.parametrize("method", ["mtl", "moe"])
def test_surgery_gradient_is_bit_for_bit_the_pre_refactor_one(tmp_path, method):
    model = build(tmp_path, method).train()
    for surgery in ("pcgrad", "cagrad"):
        for topk in (None, 1):
            step = gs.GradSurgeryStep(model, build_surgery(surgery, {"layers_topk": topk})).train()
            loss, new = _gradient(model, lambda b: step(**b)[0], seed=1)
            ref_loss, ref = _gradient(model, lambda b: _old_step_loss(model, b, surgery, topk), seed=1)
            assert torch.equal(loss, ref_loss.reshape(-1)), (surgery, topk)
            assert new.keys() == ref.keys()
            for name in ref:
                assert torch.equal(new[name], ref[name]), (surgery, topk, name)
