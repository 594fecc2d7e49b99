"""The training step of gradient surgery on the shared parameters of a dual-output model.

The method (``methods/pcgrad.py``, ``methods/cagrad.py``, chosen by ``grad_surgery``)
combines the per-output gradients of the shared parameters into one direction;
task-specific parameters keep their plain gradient.  With ``layers_topk = k`` the
method runs only on the k shared layers whose task gradients conflict most (most
negative cosine, negative only), the plain sum elsewhere (the "Objective Soups"
layer selection).  The per-layer cosines are returned as stats (``gcos_<layer>``,
``gcos_all``; the measure of ``shared_gradients``, the same as stage 10's) so
ESPnet's reporter logs and plots them.

Under DDP (one process per device, or gloo on CPU) each rank's task gradients are
averaged over the ranks, weighted by their batch sizes, before the surgery: the
surgery is nonlinear, so it must see the global batch's gradients, as one process
would.  Under AMP the task gradients are taken of the GradScaler-scaled losses (and
unscaled), so fp16 gradients do not underflow.
"""

from __future__ import annotations

from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch
import torch.distributed as dist

from espnet_l2dual.methods.abs_grad_surgery import AbsGradSurgery
from espnet_l2dual.train import shared_gradients

from espnet2.torch_utils.device_funcs import force_gatherable
from espnet2.train.abs_espnet_model import AbsESPnetModel



def select_conflicting(cosines: Mapping[str, Optional[float]], k: int) -> List[str]:
    """The (at most) k layers with the most negative cosine; agreeing or undefined (None) layers never."""
    negative = sorted((c, layer) for layer, c in cosines.items() if c is not None and c < 0)
    return [layer for _, layer in negative[:k]]


def combine_task_gradients(
    task_grads: Sequence[Dict[str, torch.Tensor]],
    surgery: AbsGradSurgery,
) -> Tuple[Dict[str, torch.Tensor], Dict[str, Optional[float]], List[str]]:
    """Per-layer flat gradients of each task -> (combined per layer, cosines, layers operated on).

    Without ``layers_topk`` the surgery sees all shared layers as one vector (as in the
    papers); with it, each selected layer is treated on its own.  The cosines are the
    shared measure (``shared_gradients.cosines``: per layer and ``all``), the same
    numbers that are logged, so the layers operated on are the ones the logs show
    conflicting; with other than two tasks there are none.
    """
    layers_topk = surgery.layers_topk
    layers = list(task_grads[0])
    cosines = shared_gradients.cosines(task_grads) if len(task_grads) == 2 else {}
    combined = {layer: sum(g[layer] for g in task_grads) for layer in layers}
    if layers_topk is None:
        sizes = [task_grads[0][layer].numel() for layer in layers]
        flat = [torch.cat([g[layer] for layer in layers]) for g in task_grads]
        pieces = surgery.direction(flat).split(sizes)
        combined = dict(zip(layers, pieces))
        return combined, cosines, layers
    selected = select_conflicting({layer: cosines.get(layer) for layer in layers}, int(layers_topk))
    for layer in selected:
        combined[layer] = surgery.direction([g[layer] for g in task_grads])
    return combined, cosines, selected


def global_task_gradients(task_grads: Sequence[Dict[str, torch.Tensor]],
                          weight: Union[int, float, torch.Tensor]) -> List[Dict[str, torch.Tensor]]:
    """The task gradients of the global batch: this rank's, averaged over the ranks weighted by batch size.

    ESPnet weights each rank's loss by its batch size over the global one (``Trainer``:
    ``loss * weight / sum(weight) * world_size``, then DDP's mean); this is the same
    weighting, so one process and N processes on the same global batch agree.
    Without an initialised process group (or with one rank) the gradients are returned as they are.
    """
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return list(task_grads)
    layers = list(task_grads[0])
    pieces = [g[layer] for g in task_grads for layer in layers]
    w = torch.as_tensor(weight, dtype=pieces[0].dtype, device=pieces[0].device).reshape(1)
    flat = torch.cat([torch.cat(pieces) * w, w])
    dist.all_reduce(flat)  # one collective per step: every task, every layer and the weights
    flat = flat[:-1] / flat[-1]
    out, pos = [], 0
    for g in task_grads:
        d = {}
        for layer in layers:
            n = g[layer].numel()
            d[layer] = flat[pos:pos + n]
            pos += n
        out.append(d)
    return out


def loss_scale(scaler) -> float:
    """AMP's current loss scale (1.0 without a GradScaler or with a disabled one)."""
    if scaler is None or not getattr(scaler, "is_enabled", lambda: True)():
        return 1.0
    return float(scaler.get_scale())


class GradSurgeryStep(AbsESPnetModel):
    """Wraps the model for one training step so that ``loss.backward()`` yields the surgery gradient.

    The returned loss has the plain value; its gradient on the shared parameters is
    the combined one, through a zero-valued correction term ``sum p * (d - g_sum)``
    whose derivative is ``d - g_sum``.  So ESPnet's trainer (accum_grad, AMP scaling,
    clipping) works unchanged.  Cost: one extra backward per task, shared params only.

    An ``AbsESPnetModel`` itself, because ESPnet's ``Trainer.run`` takes only those:
    the trainer wraps the model in this step once (DDP then wraps the step), and sets
    ``scaler`` to AMP's GradScaler each epoch.  ``state_dict``/``load_state_dict`` are
    the model's own, so checkpoints and snapshots have the model's keys.
    """

    def __init__(self, model: torch.nn.Module, surgery: AbsGradSurgery, scaler=None):
        super().__init__()
        self.model = model
        self.surgery = surgery
        self.scaler = scaler

    def state_dict(self, *args, **kwargs):
        return self.model.state_dict(*args, **kwargs)

    def load_state_dict(self, *args, **kwargs):
        return self.model.load_state_dict(*args, **kwargs)

    def collect_feats(self, **batch):
        return self.model.collect_feats(**batch)

    def forward(self, **batch):
        model = self.model
        if not (self.training and torch.is_grad_enabled()) or len(model.tasks) < 2:
            return model(**batch)
        losses, stats, batch_size = model.task_losses(**batch)
        total = None
        for term in losses.values():
            total = term if total is None else total + term

        shared = shared_gradients.shared_layers(model)
        params = shared.params
        task_grads = shared_gradients.task_gradients(losses, model.tasks, shared, scale=loss_scale(self.scaler))
        local_sum = {layer: sum(g[layer] for g in task_grads) for layer in shared.layers}
        # the surgery sees the global batch; this rank's correction turns its own plain
        # gradient into the combined one, so DDP's weighted mean of the ranks gives it exactly
        task_grads = global_task_gradients(task_grads, batch_size)
        combined, cosines, operated = combine_task_gradients(task_grads, self.surgery)
        correction = total.new_zeros(())
        for layer in operated:
            idx = shared.index[layer]
            delta = (combined[layer] - local_sum[layer]).detach()
            for i, piece in zip(idx, delta.split([params[i].numel() for i in idx])):
                correction = correction + (params[i] * piece.view_as(params[i])).sum()
        loss = total + (correction - correction.detach())

        for layer, c in cosines.items():  # None (a zero gradient) is logged as nan and left out of means
            stats[f"gcos_{layer}"] = None if c is None else torch.tensor(c, dtype=torch.float64)
        stats["gsurgery_layers"] = torch.tensor(float(len(operated)))
        stats["loss"] = total.detach()
        return force_gatherable((loss, stats, batch_size), loss.device)
