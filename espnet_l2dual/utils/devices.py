"""Is the GPU that an option asks for there? Asked before any work starts, with the other options.

Without the check, ``--ngpu 1`` or ``--device cuda`` on a machine without a GPU starts and then
dies deep inside torch ("Found no NVIDIA driver on your system") after minutes of set-up.
"""

from __future__ import annotations

import os
from typing import Optional


_GPU_DEVICE_NODES = ("/dev/nvidiactl", "/dev/kfd")  # NVIDIA's driver; ROCm (torch.cuda there too)


def visible_gpus() -> int:
    """CUDA devices torch can use here (0 without a driver or a CUDA build)."""
    if not any(os.path.exists(node) for node in _GPU_DEVICE_NODES):
        return 0  # no GPU driver: known without importing torch (seconds on a busy machine)
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def _seen() -> str:
    mask = os.environ.get("CUDA_VISIBLE_DEVICES")
    return f"torch sees {visible_gpus()}" + (f", CUDA_VISIBLE_DEVICES={mask!r}" if mask is not None else "")


def ngpu_problem(ngpu: int) -> Optional[str]:
    """Why ``--ngpu ngpu`` cannot run here, or None."""
    if ngpu <= 0 or visible_gpus() >= ngpu:
        return None
    return f"asks for {ngpu} GPU(s) but this machine has not that many ({_seen()})"


def device_problem(device: str) -> Optional[str]:
    """Why ``device`` (a torch device name: cpu, cuda, cuda:1) cannot be used here, or None."""
    import torch

    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError):
        return "is not a torch device (e.g. cpu, cuda, cuda:0)"
    if dev.type != "cuda":
        return None
    index = dev.index or 0
    if visible_gpus() > index:
        return None
    return f"needs a CUDA GPU (index {index}), but this machine has none there ({_seen()})"
