"""How long will this run_all.sh take? A projection from measured epochs, printed before starting.

For every (language, config, seed) to train: the epochs still to run (``max_epoch`` of the
resolved config minus those its ``logs/train.log`` already finished) times the measured
time of one epoch (ESPnet's ``Nepoch results: [train] ... time=...`` plus its validation
time) of that config, else of any model in that recipe (other sizes of model differ: said
so). Languages run side by side (``--parallel``), models of a language ``--config_jobs`` at a
time (the recipe's total divided by that: per-epoch times measured under the same sharing).
Decoding and analysis are not counted. A model to train with no epoch measured for it or for
any other model of its recipe makes the projection "unknown" (never 0 h).
"""

from __future__ import annotations

import argparse
import re
import sys
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


def _hours(seconds: Optional[float]) -> str:
    """``1.3 h``, or ``unknown (no epoch measured yet)``."""
    return "unknown (no epoch measured yet)" if seconds is None else f"{seconds / 3600:.1f} h"


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="project_wallclock", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--recipes", nargs="+", type=Path, required=True)
    p.add_argument("--configs", nargs="+", required=True)
    p.add_argument("--suffix", default="_tiny")
    p.add_argument("--seeds", nargs="*", type=int, default=[], help="none: the configs' own seed")
    p.add_argument("--parallel", choices=("true", "false"), default="true", help="languages side by side")
    p.add_argument("--config_jobs", type=int, default=1,
                   help="models of one language trained side by side (run_all.sh --config_jobs); the "
                        "per-epoch times are taken as measured, so measure them under the same sharing")
    args = p.parse_args(argv)
    seeds: List[Optional[int]] = list(args.seeds) or [None]
    totals: List[Optional[float]] = []
    for r in args.recipes:
        t, lines = project(r, args.configs, args.suffix, seeds)
        if t is not None:
            t /= max(1, min(args.config_jobs, len(args.configs) * len(seeds)))
        totals.append(t)
        print(f"project_wallclock: {r}: {_hours(t)} of training to run", file=sys.stderr)
        for line in lines:
            print(f"  {line}", file=sys.stderr)
    known = [t for t in totals if t is not None]
    wall = None if len(known) < len(totals) else (max(known) if args.parallel == "true" else sum(known))
    print(f"project_wallclock: projected training wall-clock {_hours(wall)} "
          f"({'languages side by side' if args.parallel == 'true' else 'one language after another'}, "
          f"{args.config_jobs} model(s) of a language at a time; "
          "decoding and analysis not counted)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
