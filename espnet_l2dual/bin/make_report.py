"""run_all.sh's last step: one cross-language report (REPORT.md + report.json).

Needs, per recipe: ``exp/asr_<config><suffix>/results.json`` of every --configs entry
(stage 9, with the sclite files it points at) and ``exp/analysis/analysis.json``
(stage 10; leave it out with --without_analysis). With --seeds N ...: the tags
``asr_<config><suffix>_seed<N>`` and stage-10 groups ``<size>_seed<N>`` of every seed, and the
report over seeds (:mod:`espnet_l2dual.analysis.seed_study`).

A method config (anything but stl_surface, stl_meaning, mtl) that was never scored in a recipe
(no results.json) is left out of that language's rows and named on stderr and in REPORT.md; with
--seeds, or for STL/MTL, or for anything else missing, no report is written.

exit status:
  0  report written, every config of --configs found in every recipe
  1  inputs missing or unusable (one line each on stderr); no report written
  2  bad options or inconsistent inputs (e.g. two recipes of one language); no report written
  3  report written, but some method configs are absent from some recipes (named on stderr)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import List, Optional

from espnet_l2dual.analysis.study import MissingInputs, Recipe, collect
from espnet_l2dual.analysis.seed_study import collect_over_seeds
from espnet_l2dual.report.cross_language import render
from espnet_l2dual.report.over_seeds import render_over_seeds
from espnet_l2dual.scoring.blocked_bootstrap import SPEAKERS, UNITS
from espnet_l2dual.utils.fileio import atomic_write


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--recipes", nargs="+", required=True, type=Path, help="e.g. egs2/l2ko/asr1 egs2/l2en/asr1")
    p.add_argument("--configs", nargs="+", default=["stl_surface", "stl_meaning", "mtl"],
                   help="must include stl_surface stl_meaning mtl; others get method rows")
    p.add_argument("--suffix", default="_tiny", help="config size suffix: _tiny or empty for full")
    p.add_argument("--test_set", default="test")
    p.add_argument("--without_analysis", action="store_true",
                   help="report stage 9 results only (no stage 10 entanglement section or task CKA)")
    p.add_argument("--seeds", nargs="+", type=int, default=None,
                   help="training seeds (run_all.sh --seeds): mean and sd over seeds, intervals over seeds and utterances")
    p.add_argument("--bootstrap_unit", choices=UNITS, default=SPEAKERS,
                   help="what the intervals resample: speakers, then utterances within them (default), "
                        "or utterances only (too narrow where speakers differ)")
    p.add_argument("--out_dir", required=True, type=Path)
    return p


def made_on() -> dict:
    """When, where and with which stack the report was made (RESULTS.md prints it)."""
    import datetime
    import importlib.metadata as md
    import platform

    def version(name: str) -> str:
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            return "not installed"
    stack = ", ".join(f"{n} {version(n)}" for n in ("torch", "espnet"))
    return {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "machine": platform.machine(),
            "environment": f"Python {platform.python_version()}, {stack}"}


def main(argv: Optional[List[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    try:
        recipes = [Recipe(r) for r in args.recipes]
        if args.seeds:
            data = collect_over_seeds(recipes, args.configs, args.suffix, args.test_set, args.seeds,
                                      with_analysis=not args.without_analysis, unit=args.bootstrap_unit)
        else:
            data = collect(recipes, args.configs, args.suffix, args.test_set, with_analysis=not args.without_analysis,
                           unit=args.bootstrap_unit, allow_absent=True)
    except MissingInputs as e:
        print(f"make_report: error: {len(e.problems)} input(s) missing or unusable; no report written:",
              file=sys.stderr)
        for line in e.problems:
            print(f"  {line}", file=sys.stderr)
        return 1
    except ValueError as e:
        print(f"make_report: error: {e}", file=sys.stderr)
        return 2
    data["made"] = made_on()
    text = render_over_seeds(data) if args.seeds else render(data, out_dir=args.out_dir)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_write(args.out_dir / "report.json") as f:
        json.dump(data, f, indent=2, ensure_ascii=False)
    with atomic_write(args.out_dir / "REPORT.md") as f:
        f.write(text)
    print(f"make_report: wrote {args.out_dir}/REPORT.md and report.json", file=sys.stderr)
    absent = data.get("absent_configs") or {}
    for lang, configs in absent.items():
        print(f"make_report: note: {lang}: not in the report (no results.json): "
              + ", ".join(f"asr_{c}{args.suffix}" for c in configs), file=sys.stderr)
    return 3 if absent else 0


if __name__ == "__main__":
    sys.exit(main())
