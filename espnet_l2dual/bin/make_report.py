"""run_all.sh's last step: one cross-language report (REPORT.md + report.json).

Needs, per recipe: ``exp/asr_<config><suffix>/results.json`` of every --configs entry
(stage 9, with the sclite files it points at) and ``exp/analysis/analysis.json``
(stage 10; leave it out with --without_analysis). With --seeds N ...: the tags
``asr_<config><suffix>_seed<N>`` and stage-10 groups ``<size>_seed<N>`` of every seed, and the
report over seeds (:mod:`espnet_l2dual.analysis.seed_study`).

The set reported on (``--test_set auto``): ``eval``, the held-out set of the mini corpus, when
every model scored it, else ``test``; report.json and REPORT.md name it.

With ``--study studies/<name>`` the same report is rebuilt from the study store alone (no
exp/, no models): languages, configs, seeds, size and evaluation set default to what its
records say, and each language's stage-10 report and figures are redrawn from the stored
analyses (``<out_dir>/<lang>/analysis/``). The per-utterance HTML page needs the audio and
the decode dirs, which the store does not keep: it is not made from the store.

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
import sys
from pathlib import Path
from typing import List, Optional

from espnet_l2dual.analysis.study import MissingInputs
from espnet_l2dual.corpus.eval_set import AUTO
from espnet_l2dual.report.build import write_report
from espnet_l2dual.report.stored_analysis import redraw_stage10
from espnet_l2dual.scoring.blocked_bootstrap import SPEAKERS, UNITS
from espnet_l2dual.study.report_sources import gather


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
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
    absent = data.get("absent_configs") or {}
    for lang, configs in absent.items():
        print(f"make_report: note: {lang}: not in the report (no results.json): "
              + ", ".join(f"asr_{c}{args.suffix}" for c in configs), file=sys.stderr)
    return 3 if absent else 0


if __name__ == "__main__":
    sys.exit(main())
