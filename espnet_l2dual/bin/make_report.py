"""run_all.sh's last step: one cross-language report (help: :mod:`espnet_l2dual.report.build`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

from espnet_l2dual.analysis.study import MissingInputs
from espnet_l2dual.corpus.eval_set import AUTO
from espnet_l2dual.report import build
from espnet_l2dual.report.build import absent_notes, write_report
from espnet_l2dual.report.stored_analysis import redraw_stage10
from espnet_l2dual.scoring.blocked_bootstrap import SPEAKERS, UNITS
from espnet_l2dual.study.report_sources import gather


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=build.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--recipes", nargs="+", type=Path, help="e.g. egs2/l2ko/asr1 egs2/l2en/asr1 (their exp/)")
    src.add_argument("--study", type=Path, help="a study store, e.g. studies/main: the report from its records alone")
    p.add_argument("--langs", nargs="+", default=None, help="with --study: these languages (default: all stored)")
    p.add_argument("--configs", nargs="+", default=None,
                   help="must include stl_surface stl_meaning mtl; others get method rows (default: those three; "
                        "with --study: every stored config)")
    p.add_argument("--suffix", default=None, help="config size suffix: _tiny or empty for full (default: _tiny; "
                   "with --study: the stored one)")
    p.add_argument("--test_set", default=AUTO,
                   help="the set reported on (default auto: eval where every model scored it, else test; "
                        "with --study: the stored one)")
    p.add_argument("--without_analysis", action="store_true",
                   help="report stage 9 results only (no stage 10 entanglement section or task CKA)")
    p.add_argument("--seeds", nargs="+", type=int, default=None,
                   help="training seeds (run_all.sh --seeds): mean and sd over seeds, intervals over seeds and utterances")
    p.add_argument("--bootstrap_unit", choices=UNITS, default=SPEAKERS,
                   help="what the intervals resample: speakers, then utterances within them (default), "
                        "or utterances only (too narrow where speakers differ)")
    p.add_argument("--out_dir", required=True, type=Path)
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    try:
        recipes, data = gather(args)
    except MissingInputs as e:
        print(f"make_report: error: {len(e.problems)} input(s) missing or unusable; no report written:",
              file=sys.stderr)
        for line in e.problems:
            print(f"  {line}", file=sys.stderr)
        return 1
    except ValueError as e:  # a DataError of the store, or a usage error
        print(f"make_report: error: {e}", file=sys.stderr)
        return 2
    write_report(data, recipes, args.out_dir, bool(args.seeds), args.study is not None)
    print(f"make_report: wrote {args.out_dir}/REPORT.md and report.json", file=sys.stderr)
    if args.study is not None:
        if not args.without_analysis:
            for r in recipes:
                redraw_stage10(r, args.out_dir / r.lang / "analysis")
        print("make_report: no per-utterance HTML page from the store: it needs the audio and the decode dirs "
              "(bin/html_report on a recipe's exp/)", file=sys.stderr)
    for line in absent_notes(data, args.suffix):
        print(f"make_report: note: {line}", file=sys.stderr)
    return 3 if data.get("absent_configs") else 0


if __name__ == "__main__":
    sys.exit(main())
