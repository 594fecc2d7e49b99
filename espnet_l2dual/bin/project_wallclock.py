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
import sys
from pathlib import Path
from typing import List, Optional, Sequence

from espnet_l2dual.train.wallclock import hours_text, project


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
        print(f"project_wallclock: {r}: {hours_text(t)} of training to run", file=sys.stderr)
        for line in lines:
            print(f"  {line}", file=sys.stderr)
    known = [t for t in totals if t is not None]
    wall = None if len(known) < len(totals) else (max(known) if args.parallel == "true" else sum(known))
    print(f"project_wallclock: projected training wall-clock {hours_text(wall)} "
          f"({'languages side by side' if args.parallel == 'true' else 'one language after another'}, "
          f"{args.config_jobs} model(s) of a language at a time; "
          "decoding and analysis not counted)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
