"""The controlled-divergence grid's report (help: :mod:`espnet_l2dual.report.grid`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

from espnet_l2dual.analysis.study import MissingInputs
from espnet_l2dual.corpus.eval_set import AUTO
from espnet_l2dual.report import grid as grid_layout
from espnet_l2dual.report.grid import write_grid
from espnet_l2dual.study.grid import collect_grid, grid_options
from espnet_l2dual.study.store import Store


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="grid_report", description=grid_layout.__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--recipes", nargs="+", type=Path, help="read each recipe's grid/ levels (exp/ of each)")
    src.add_argument("--study", type=Path, help="read a study store (studies/<name>) instead: no models needed")
    p.add_argument("--suffix", default=None, help="config size suffix (default: _tiny; with --study: the store's)")
    p.add_argument("--test_set", default=AUTO,
                   help="the set reported on (default auto: eval where every model scored it, else test; "
                        "with --study: the stored one)")
    p.add_argument("--seeds", nargs="*", type=int, default=None,
                   help="default: none (with --study: the store's seeds)")
    p.add_argument("--langs", nargs="+", default=None,
                   help="with --study: only these languages (default: all stored)")
    p.add_argument("--out_dir", type=Path, required=True)
    args = p.parse_args(argv)
    if args.langs and not args.study:
        p.error("--langs goes with --study (with --recipes, name the recipes)")
    store = Store(args.study) if args.study else None
    if store is not None and not store.records:
        print(f"grid_report: error: {args.study}: no records (run_all.sh --study {args.study.name} ...)",
              file=sys.stderr)
        return 1
    suffix, seeds, args.test_set, note = grid_options(args.recipes, store, args.suffix, args.seeds, args.test_set)
    if note:
        print(f"grid_report: {note}", file=sys.stderr)
    try:
        data = collect_grid(args.recipes or [], suffix, args.test_set, seeds, store, args.langs)
    except MissingInputs as e:
        print(f"grid_report: error: {len(e.problems)} input(s) missing; no report written:", file=sys.stderr)
        for line in e.problems:
            print(f"  {line}", file=sys.stderr)
        return 1
    write_grid(data, args.out_dir)
    print(f"grid_report: wrote {args.out_dir}/GRID.md, grid.json, grid.png", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
