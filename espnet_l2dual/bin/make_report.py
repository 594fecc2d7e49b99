"""run_all.sh's last step: one cross-language report (REPORT.md + report.json).

Needs, per recipe: ``exp/asr_<config><suffix>/results.json`` of every --configs entry
(stage 9, with the sclite files it points at) and ``exp/analysis/analysis.json``
(stage 10; leave it out with --without_analysis). With --seeds N ...: the tags
``asr_<config><suffix>_seed<N>`` and stage-10 groups ``<size>_seed<N>`` of every seed, and the
report over seeds (:mod:`espnet_l2dual.analysis.seed_study`).

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
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--recipes", nargs="+", type=Path, help="e.g. egs2/l2ko/asr1 egs2/l2en/asr1 (their exp/)")
    src.add_argument("--study", type=Path, help="a study store, e.g. studies/main: the report from its records alone")
    p.add_argument("--langs", nargs="+", default=None, help="with --study: these languages (default: all stored)")
    p.add_argument("--configs", nargs="+", default=None,
                   help="must include stl_surface stl_meaning mtl; others get method rows (default: those three; "
                        "with --study: every stored config)")
    p.add_argument("--suffix", default=None, help="config size suffix: _tiny or empty for full (default: _tiny; "
                   "with --study: the stored one)")
    p.add_argument("--test_set", default=None, help="evaluation set (default: test; with --study: the stored one)")
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
        if args.study is not None:
            recipes = _from_store(args)
        else:
            recipes = [Recipe(r) for r in args.recipes]
            args.configs = args.configs or ["stl_surface", "stl_meaning", "mtl"]
            args.suffix = "_tiny" if args.suffix is None else args.suffix
            args.test_set = args.test_set or "test"
        if args.seeds:
            data = collect_over_seeds(recipes, args.configs, args.suffix, args.test_set, args.seeds,
                                      with_analysis=not args.without_analysis, unit=args.bootstrap_unit)
        else:
            data = collect(recipes, args.configs, args.suffix, args.test_set, with_analysis=not args.without_analysis,
                           unit=args.bootstrap_unit, allow_absent=args.study is None)
    except MissingInputs as e:
        print(f"make_report: error: {len(e.problems)} input(s) missing or unusable; no report written:",
              file=sys.stderr)
        for line in e.problems:
            print(f"  {line}", file=sys.stderr)
        return 1
    except ValueError as e:  # a DataError of the store, or a usage error
        print(f"make_report: error: {e}", file=sys.stderr)
        return 2
    data["made"] = made_on()
    details = {r.lang: args.out_dir / r.lang / "analysis" / "REPORT.md" for r in recipes} if args.study else None
    text = render_over_seeds(data) if args.seeds else render(data, out_dir=args.out_dir, details=details)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_write(args.out_dir / "report.json") as f:
        json.dump(data, f, indent=2, ensure_ascii=False)
    with atomic_write(args.out_dir / "REPORT.md") as f:
        f.write(text)
    print(f"make_report: wrote {args.out_dir}/REPORT.md and report.json", file=sys.stderr)
    if args.study is not None:
        if not args.without_analysis:
            for r in recipes:
                _stage10_report(r, args.out_dir / r.lang / "analysis")
        print("make_report: no per-utterance HTML page from the store: it needs the audio and the decode dirs "
              "(bin/html_report on a recipe's exp/)", file=sys.stderr)
    absent = data.get("absent_configs") or {}
    for lang, configs in absent.items():
        print(f"make_report: note: {lang}: not in the report (no results.json): "
              + ", ".join(f"asr_{c}{args.suffix}" for c in configs), file=sys.stderr)
    return 3 if absent else 0


def _from_store(args: argparse.Namespace) -> list:
    """The store's languages as report sources; unset options from its records' metadata."""
    from espnet_l2dual.study.store import Store, StoreRecipe, study_configs, study_eval_sets, study_seeds, \
        study_suffixes

    store = Store(args.study)
    if not store.models():
        raise ValueError(f"{args.study}: no model records (run_all.sh --study {args.study.name} ...)")
    for name, values in (("--suffix", study_suffixes(store)), ("--test_set", study_eval_sets(store))):
        if len(values) > 1 and getattr(args, name[2:]) is None:
            raise ValueError(f"{args.study} holds several {name[2:]} values ({', '.join(values)}): choose one with {name}")
    args.configs = args.configs or study_configs(store)
    args.suffix = study_suffixes(store)[0] if args.suffix is None else args.suffix
    args.test_set = args.test_set or study_eval_sets(store)[0]
    if args.seeds is None and study_seeds(store):
        args.seeds = study_seeds(store)
    langs = args.langs or store.langs()
    if not args.without_analysis and not all(store.groups(lang, None) for lang in langs):
        print(f"make_report: {args.study}: no stage-10 analysis stored for "
              f"{', '.join(lang for lang in langs if not store.groups(lang, None))}: report without it",
              file=sys.stderr)
        args.without_analysis = True
    return [StoreRecipe(store, lang) for lang in langs]


def _stage10_report(source, out_dir: Path) -> None:
    """A language's stage-10 REPORT.md and figures, redrawn from the stored analyses."""
    from espnet_l2dual.analysis import plots
    from espnet_l2dual.report import stage10

    analysis = source.load_analysis().data
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        figures = plots.make_figures(analysis, out_dir)
        text = stage10.render(analysis, figures)
    except (KeyError, TypeError, IndexError) as e:
        print(f"make_report: {source.path}: the stored analyses lack {e} (a stage 10 of another toolkit "
              f"version?): no stage-10 report or figures in {out_dir}", file=sys.stderr)
        return
    with atomic_write(out_dir / "REPORT.md") as f:
        f.write(text)
    with atomic_write(out_dir / "analysis.json") as f:
        json.dump(analysis, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    sys.exit(main())
