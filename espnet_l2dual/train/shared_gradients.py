"""The gradient-conflict measure: per-layer cosines of the task gradients on the shared parameters.

One implementation for both places that report it -- the training-time logs of
gradient surgery (``gcos_<layer>``) and stage 10's gradient-conflict analysis --
so the two give the same number for the same batch and model state.

Which parameters are shared is the model's own decision
(``model.is_shared_parameter(name)``): task-routed experts and task-specific
encoder branches are left out, so a conflict is only measured where both tasks
actually write.  Depends only on ``model.tasks``, ``model.task_losses(**batch)``
and ``model.is_shared_parameter`` so that it survives changes to how the
disentangling methods are configured.

Layer names: ``block<i>`` for ``encoder.encoders.<i>.*``; any other encoder
module by its name (``embed``, ``after_norm``); a shared module outside the
encoder by its own name (``frontend``, ``normalize``, ...).  ``all`` is the
whole shared part.  Cosines are computed in float64; a task whose gradient on a
layer is exactly zero gives ``None`` there (undefined, not "orthogonal").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence

import torch

ALL = "all"


def layer_name(param_name: str) -> str:
    """``encoder.encoders.3.x`` -> ``block3``; ``encoder.embed.x`` -> ``embed``; ``frontend.x`` -> ``frontend``."""
    parts = param_name.split(".")
    if len(parts) > 2 and parts[0] == "encoder" and parts[1] == "encoders":
        return f"block{parts[2]}"
    if parts[0] == "encoder" and len(parts) > 2:
        return parts[1]
    return parts[0]


def _prefix(param_name: str) -> str:
    """The module path a layer name stands for (to catch two modules mapping to one name)."""
    parts = param_name.split(".")
    if len(parts) > 2 and parts[0] == "encoder" and parts[1] == "encoders":
        return ".".join(parts[:3])
    if parts[0] == "encoder" and len(parts) > 2:
        return ".".join(parts[:2])
    return parts[0]


@dataclass(frozen=True)
class SharedLayers:
    """The trainable shared parameters of a model, in ``named_parameters`` order, grouped into layers.

    ``index[layer]`` are positions in ``params``; layers are in order of first appearance.
    """

    names: List[str]
    params: List[torch.nn.Parameter]
    index: Dict[str, List[int]]

    @property
    def layers(self) -> List[str]:
        return list(self.index)


def shared_layers(model: torch.nn.Module) -> SharedLayers:
    """Group ``model``'s trainable parameters with ``model.is_shared_parameter(name)`` into layers."""
    if not hasattr(model, "is_shared_parameter"):
        raise ValueError(f"{type(model).__name__} has no is_shared_parameter(): cannot tell its shared parameters")
    names: List[str] = []
    params: List[torch.nn.Parameter] = []
    index: Dict[str, List[int]] = {}
    owner: Dict[str, str] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad or not model.is_shared_parameter(name):
            continue
        layer, prefix = layer_name(name), _prefix(name)
        if owner.setdefault(layer, prefix) != prefix or layer == ALL:
            raise ValueError(f"shared parameters of '{owner[layer]}' and '{prefix}' would share the layer name "
                             f"'{layer}'; give the modules distinct names")
        index.setdefault(layer, []).append(len(params))
        names.append(name)
        params.append(p)
    if not params:
        raise ValueError(f"{type(model).__name__} has no trainable shared parameter")
    return SharedLayers(names, params, index)


def task_gradients(losses: Mapping[str, torch.Tensor], tasks: Sequence[str],
                   layers: SharedLayers, scale: float = 1.0) -> List[Dict[str, torch.Tensor]]:
    """Per task (in ``tasks`` order): {layer: flat gradient of that task's loss}, in the parameters' dtype.

    A parameter a loss does not reach gets a zero gradient.  The graph is kept
    (the caller may still backpropagate the total loss).  ``scale`` (AMP's loss scale)
    multiplies each loss before the backward and divides the gradients after it.
    """
    out = []
    for o in tasks:
        loss = losses[o] if scale == 1.0 else losses[o] * scale
        grads = torch.autograd.grad(loss, layers.params, retain_graph=True, allow_unused=True)
        grads = [torch.zeros_like(p) if g is None else (g if scale == 1.0 else g / scale)
                 for g, p in zip(grads, layers.params)]
        out.append({layer: torch.cat([grads[i].reshape(-1) for i in idx]) for layer, idx in layers.index.items()})
    return out


def _cos(dot: float, sq_a: float, sq_b: float) -> Optional[float]:
    if sq_a == 0.0 or sq_b == 0.0:
        return None
    return dot / math.sqrt(sq_a * sq_b)


def cosines(task_grads: Sequence[Mapping[str, torch.Tensor]]) -> Dict[str, Optional[float]]:
    """{layer: cosine of the two tasks' gradients} plus ``all`` (the concatenation), in float64."""
    if len(task_grads) != 2:
        raise ValueError(f"the gradient cosine needs exactly two tasks, got {len(task_grads)}")
    a, b = task_grads
    out: Dict[str, Optional[float]] = {}
    total = [0.0, 0.0, 0.0]
    for layer in a:
        x, y = a[layer].double(), b[layer].double()
        terms = (float(x @ y), float(x @ x), float(y @ y))
        out[layer] = _cos(*terms)
        total = [t + s for t, s in zip(total, terms)]
    out[ALL] = _cos(*total)
    return out


def batch_cosines(model: torch.nn.Module, batch: Mapping[str, torch.Tensor]) -> Dict[str, Optional[float]]:
    """The measure on one batch in the model's current mode (stage 10 uses eval mode)."""
    tasks = list(model.tasks)
    layers = shared_layers(model)
    losses = model.task_losses(**batch)[0]
    return cosines(task_gradients(losses, tasks, layers))
