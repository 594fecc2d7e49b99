"""A projection of a run's training time from measured epochs.

The epochs still to run times the measured time of one epoch (ESPnet's ``Nepoch results:
[train] ... time=...`` plus its validation time) of that config, else of any model in that
recipe. A model with no epoch measured for it or its recipe makes the projection "unknown"
(never 0 h).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from espnet_l2dual.utils.config_file import load_config


_EPOCH = re.compile(r"(\d+)epoch results: \[train\].*?, time=([^,]+), total_count=\d+, \[valid\].*?, time=([^,]+),")


_UNITS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}


def parse_timespan(text: str) -> float:
    """``'5 minutes and 51.53 seconds'`` (humanfriendly, as ESPnet logs it) -> 351.53."""
    total, found = 0.0, False
    for number, unit in re.findall(r"([0-9.]+)\s*(second|minute|hour|day)s?", text):
        total += float(number) * _UNITS[unit]
        found = True
    if not found:
        raise ValueError(f"not a time span: '{text}'")
    return total


def measured_epochs(train_log: Path) -> Dict[int, float]:
    """{epoch: seconds (train + valid)} of the epochs a training log reports as finished."""
    if not train_log.is_file():
        return {}
    out: Dict[int, float] = {}
    for m in _EPOCH.finditer(train_log.read_text(encoding="utf-8", errors="replace")):
        out[int(m.group(1))] = parse_timespan(m.group(2)) + parse_timespan(m.group(3))
    return out


def model_epochs(model_dir: Path) -> Dict[int, float]:
    """The finished epochs of one model over all its logs: a resumed training rotates
    ``train.log`` to ``train.1.log`` ... and carries on with the next epoch."""
    out: Dict[int, float] = {}
    for log in sorted(model_dir.glob("logs/train*.log")):
        out.update(measured_epochs(log))
    return out


def _mean(xs: Sequence[float]) -> Optional[float]:
    return sum(xs) / len(xs) if xs else None


def project(recipe: Path, configs: Sequence[str], suffix: str,
            seeds: Sequence[Optional[int]]) -> Tuple[Optional[float], List[str]]:
    """Seconds of training still to run in one recipe (None: unknown, some model to train has no
    measured epoch to go by), and one line per model."""
    exp = recipe / "exp"
    epochs = {d.parent.name: model_epochs(d.parent) for d in sorted(exp.glob("*/logs"))}  # every log read once
    every = [t for e in epochs.values() for t in e.values()]
    lines, total, unknown = [], 0.0, False
    for c in configs:
        conf_path = recipe / "conf" / "tuning" / f"train_{c}{suffix}.yaml"
        max_epoch = int(load_config(conf_path).get("max_epoch", 1))
        base = f"asr_{c}{suffix}"
        same_config = [t for tag, e in epochs.items() if tag.startswith(base) for t in e.values()]
        per_epoch = _mean(same_config)
        source = f"measured on {base}"
        if per_epoch is None:
            per_epoch, source = _mean(every), "measured on other models of this recipe (a guess for this config)"
        for s in seeds:
            tag = base + ("" if s is None else f"_seed{s}")
            left = max(0, max_epoch - len(epochs.get(tag, {})))
            if per_epoch is None:
                lines.append(f"{tag}: {left} epochs, no epoch measured in {exp} yet")
                unknown = unknown or left > 0
                continue
            total += left * per_epoch
            lines.append(f"{tag}: {left} of {max_epoch} epochs x {per_epoch / 60:.1f} min ({source})")
    return (None if unknown else total), lines


def hours_text(seconds: Optional[float]) -> str:
    """``1.3 h``, or ``unknown (no epoch measured yet)``."""
    return "unknown (no epoch measured yet)" if seconds is None else f"{seconds / 3600:.1f} h"
