"""run_all.sh's last step: one cross-language report (REPORT.md + report.json).

Needs, per recipe: ``exp/asr_<config><suffix>/results.json`` of every --configs entry
(stage 9, with the sclite files it points at) and ``exp/analysis/analysis.json``
(stage 10; leave it out with --without_analysis). With --seeds N ...: the tags
``asr_<config><suffix>_seed<N>`` and stage-10 groups ``<size>_seed<N>`` of every seed, and the
report over seeds (:mod:`espnet_l2dual.analysis.seed_study`). Anything missing stops it with
exit status 1 and one line per missing thing; no partial report is written.

The set reported on (``--test_set auto``): ``eval``, the held-out set of the mini corpus, when
every model scored it, else ``test``; report.json and REPORT.md name it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import List, Optional

from espnet_l2dual.analysis.study import MissingInputs, Recipe, collect
from espnet_l2dual.analysis.seed_study import collect_over_seeds, seed_suffix
from espnet_l2dual.corpus.eval_set import AUTO, resolve_report_set
from espnet_l2dual.report.cross_language import render
from espnet_l2dual.report.over_seeds import render_over_seeds
from espnet_l2dual.utils.fileio import atomic_write


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--recipes", nargs="+", required=True, type=Path, help="e.g. egs2/l2ko/asr1 egs2/l2en/asr1")
    p.add_argument("--configs", nargs="+", default=["stl_surface", "stl_meaning", "mtl"],
                   help="must include stl_surface stl_meaning mtl; others get method rows")
    p.add_argument("--suffix", default="_tiny", help="config size suffix: _tiny or empty for full")
    p.add_argument("--test_set", default=AUTO,
                   help="the set reported on (default auto: eval where every model scored it, else test)")
    p.add_argument("--without_analysis", action="store_true",
                   help="report stage 9 results only (no stage 10 entanglement section or task CKA)")
    p.add_argument("--seeds", nargs="+", type=int, default=None,
                   help="training seeds (run_all.sh --seeds): mean and sd over seeds, intervals over seeds and utterances")
    p.add_argument("--out_dir", required=True, type=Path)
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    try:
        recipes = [Recipe(r) for r in args.recipes]
        suffixes = [seed_suffix(args.suffix, s) for s in args.seeds] if args.seeds else [args.suffix]
        args.test_set, note = resolve_report_set(
            args.test_set, [r.results_path(c, x) for r in recipes for c in args.configs for x in suffixes])
        if note:
            print(f"make_report: {note}", file=sys.stderr)
        if args.seeds:
            data = collect_over_seeds(recipes, args.configs, args.suffix, args.test_set, args.seeds,
                                      with_analysis=not args.without_analysis)
        else:
            data = collect(recipes, args.configs, args.suffix, args.test_set, with_analysis=not args.without_analysis)
    except MissingInputs as e:
        print(f"make_report: error: {len(e.problems)} input(s) missing or unusable; no report written:",
              file=sys.stderr)
        for line in e.problems:
            print(f"  {line}", file=sys.stderr)
        return 1
    except ValueError as e:
        print(f"make_report: error: {e}", file=sys.stderr)
        return 2
    text = render_over_seeds(data) if args.seeds else render(data)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_write(args.out_dir / "report.json") as f:
        json.dump(data, f, indent=2, ensure_ascii=False)
    with atomic_write(args.out_dir / "REPORT.md") as f:
        f.write(text)
    print(f"make_report: wrote {args.out_dir}/REPORT.md and report.json", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
