"""Task vectors of the shared encoder: where does each task move the encoder from θ0?

For the two STL models of one size, per encoder block, the cosine between
(θ_STL-surface − θ0) and (θ_STL-meaning − θ0).  Near 1: both tasks push the encoder
the same way (sharing it costs little); near 0 or negative: they want different
encoders.  It only means something when both runs started from the same θ0, which
is checked on the saved ``init.pth`` files.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Mapping, Optional

import torch

from espnet_l2dual.errors import DataError

# BatchNorm statistics are buffers, not weights a task pushes.
_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")
_BLOCK = re.compile(r"^encoder\.encoders\.(\d+)\.")


def load_state(path: Path) -> Dict[str, torch.Tensor]:
    if not Path(path).is_file():
        raise DataError(path, None, "weights not found (init.pth is written by stage 7 at the start of training)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # a truncated or foreign file raises many types
        raise DataError(path, None, f"cannot load weights: {type(e).__name__}: {e}") from None
    if not isinstance(state, dict):
        raise DataError(path, None, "not a state dict")
    return state


def encoder_weights(state: Mapping[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    return {k: v for k, v in state.items()
            if k.startswith("encoder.") and v.is_floating_point() and not k.endswith(_BUFFERS)}


def check_same_init(init_a: Path, init_b: Path) -> None:
    """Fail unless the two θ0 encoders are identical (same keys, shapes and values)."""
    a, b = encoder_weights(load_state(init_a)), encoder_weights(load_state(init_b))
    if not a:
        raise DataError(init_a, None, "no encoder weights in θ0")
    if set(a) != set(b):
        only = sorted(set(a) ^ set(b))[0]
        raise DataError(init_b, None, f"θ0 encoders differ from {init_a}: parameter '{only}' is in only one "
                        "of them (different encoder configs?)")
    for key in sorted(a):
        if a[key].shape != b[key].shape or not torch.equal(a[key], b[key]):
            raise DataError(init_b, None, f"θ0 encoder differs from {init_a} at '{key}': the STL runs did not "
                            "start from the same initialisation (train both with the same --seed and "
                            "encoder config); task vectors would be meaningless")


def _group(key: str) -> str:
    m = _BLOCK.match(key)
    return f"block{m.group(1)}" if m else "other"  # embed (input layer), after_norm ...


def _cos(a: torch.Tensor, b: torch.Tensor) -> Optional[float]:
    na, nb = float(a.norm()), float(b.norm())
    if na == 0.0 or nb == 0.0:
        return None
    return float(a @ b) / (na * nb)


def task_vector_cosines(init: Path, trained_surface: Path, trained_meaning: Path) -> dict:
    """Per encoder block (and the rest of the encoder, and all of it) cosine of the two deltas."""
    theta0 = encoder_weights(load_state(init))
    ts = encoder_weights(load_state(trained_surface))
    tm = encoder_weights(load_state(trained_meaning))
    for path, state in ((trained_surface, ts), (trained_meaning, tm)):
        missing = [k for k in theta0 if k not in state or state[k].shape != theta0[k].shape]
        if missing:
            raise DataError(path, None, f"encoder parameter '{missing[0]}' missing or of another shape than in θ0")
    groups: Dict[str, List[str]] = {}
    for key in theta0:
        groups.setdefault(_group(key), []).append(key)

    def delta(state, keys):
        return torch.cat([(state[k].double() - theta0[k].double()).flatten() for k in keys])

    rows = []
    names = sorted((g for g in groups if g.startswith("block")), key=lambda g: int(g[5:]))
    if "other" in groups:
        names.append("other")
    for name in names + ["all"]:
        keys = list(theta0) if name == "all" else groups[name]
        ds, dm = delta(ts, keys), delta(tm, keys)
        rows.append({"layer": name, "cosine": _cos(ds, dm), "norm_surface": float(ds.norm()),
                     "norm_meaning": float(dm.norm()), "n_params": int(ds.numel())})
    return {"layers": [r for r in rows if r["layer"].startswith("block")],
            "other": next((r for r in rows if r["layer"] == "other"), None),
            "all": rows[-1]}
