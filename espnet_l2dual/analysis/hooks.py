"""Forward hooks that capture the outputs of a model's layers during one forward, and the
layers stage 10 watches (SSL front-end layers, encoder blocks, decoder layers)."""

from __future__ import annotations

from typing import Dict, List, Sequence

import torch


def first_tensor(out) -> torch.Tensor:
    """Encoder/decoder layers return tuples; rel-pos conformer blocks return ((x, pos), mask)."""
    while isinstance(out, (tuple, list)):
        out = out[0]
    return out


class Recorder:
    """Forward hooks that keep every output of each named module during one forward.

    A task-routed (expert) block runs once per task, in ``tasks`` order, so its
    k-th call belongs to the k-th task.
    """

    def __init__(self) -> None:
        self.values: Dict[str, List[torch.Tensor]] = {}
        self.handles = []

    def watch(self, name: str, module: torch.nn.Module) -> None:
        def hook(_module, _inputs, output, _name=name):
            self.values.setdefault(_name, []).append(first_tensor(output).detach())

        self.handles.append(module.register_forward_hook(hook))

    def close(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles = []


def frontend_layers(model) -> Sequence[torch.nn.Module]:
    """The layers of a front end that has them (the SSL front end's transformer layers), else none."""
    layers = getattr(getattr(model, "frontend", None), "layer_modules", None)
    return list(layers()) if callable(layers) else []


def encoder_blocks(model) -> Sequence[torch.nn.Module]:
    """The encoder's blocks (one hook each); an encoder without them cannot be analysed."""
    blocks = getattr(model.encoder, "encoders", None)
    if blocks is None:
        raise ValueError(f"encoder {type(model.encoder).__name__} has no 'encoders' blocks to analyse")
    return list(blocks)


def decoder_layers(model, o: str) -> Sequence[torch.nn.Module]:
    """The layers of output ``o``'s decoder; none where the model has no such decoder."""
    if o not in model.decoders:
        return []
    return list(getattr(model.decoders[o], "decoders", []))
