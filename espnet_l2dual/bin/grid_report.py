"""The controlled-divergence grid's report (``run_all.sh --grid_error_scales ... --grid_epochs ...``).

Each level ``<recipe>/grid/es<F>_ep<E>/`` is a complete study on a mini corpus whose learner
error rates are scaled by F, trained for E epochs (``config``: the config's own budget).
Per language and level, on the report set (``--test_set auto``: ``eval``, the mini corpus's
held-out set, where every model scored it, else ``test``): its mean surface–meaning divergence
(stage 4), MTL−STL of each output's headline error rate with its 95% interval (paired bootstrap
over speakers x utterances; with --seeds, crossed with seeds, and t over seeds; one Holm
family per language, verdict where the adjusted interval excludes 0), and the MTL model's task CKA (decoder contexts, stage 10) where the level
has an analysis. Writes GRID.md, grid.json and grid.png (MTL−STL against divergence, one
line per budget, per language and output).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

from espnet_l2dual.analysis.study import MissingInputs
from espnet_l2dual.corpus.eval_set import AUTO
from espnet_l2dual.report.grid import write_grid
from espnet_l2dual.study.grid import collect_grid, grid_options
from espnet_l2dual.study.store import Store


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="grid_report", description=__doc__,
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
    p.add_argument("--out_dir", type=Path, required=True)
    args = p.parse_args(argv)
    store = Store(args.study) if args.study else None
    if store is not None and not store.records:
        print(f"grid_report: error: {args.study}: no records (run_all.sh --study {args.study.name} ...)",
              file=sys.stderr)
        return 1
    suffix, seeds, args.test_set, note = grid_options(args.recipes, store, args.suffix, args.seeds, args.test_set)
    if note:
        print(f"grid_report: {note}", file=sys.stderr)
    try:
        data = collect_grid(args.recipes or [], suffix, args.test_set, seeds, store)
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
