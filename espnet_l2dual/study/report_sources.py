"""The cross-language report's sources and numbers: the recipes' exp/, or the languages of a study store.

Options the user left unset come from the records' metadata, so ``make_report --study`` needs
no more than the store. With seeds, mean and sd over seeds and intervals over seeds and
utterances; without, intervals over speakers and utterances of the one run.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Dict, Tuple

from espnet_l2dual.analysis.seed_study import collect_over_seeds, seed_suffix
from espnet_l2dual.analysis.study import Recipe, collect
from espnet_l2dual.corpus.eval_set import AUTO, resolve_report_set


def store_sources(args: argparse.Namespace) -> list:
    """The store's languages as report sources; fills the options of ``args`` (make_report's) left unset
    from its records' metadata. A ValueError where the store is empty or the choice is ambiguous."""
    from espnet_l2dual.study.store import Store, StoreRecipe, study_configs, study_eval_sets, study_seeds, \
        study_suffixes

    store = Store(args.study)
    if not store.models():
        raise ValueError(f"{args.study}: no model records (run_all.sh --study {args.study.name} ...)")
    for name, values in (("--suffix", study_suffixes(store)), ("--test_set", study_eval_sets(store))):
        if len(values) > 1 and getattr(args, name[2:]) in (None, AUTO):
            raise ValueError(f"{args.study} holds several {name[2:]} values ({', '.join(values)}): choose one with {name}")
    args.configs = args.configs or study_configs(store)
    args.suffix = study_suffixes(store)[0] if args.suffix is None else args.suffix
    args.test_set = study_eval_sets(store)[0] if args.test_set in (None, AUTO) else args.test_set
    if args.seeds is None and study_seeds(store):
        args.seeds = study_seeds(store)
    langs = args.langs or store.langs()
    if not args.without_analysis and not all(store.groups(lang, None) for lang in langs):
        print(f"make_report: {args.study}: no stage-10 analysis stored for "
              f"{', '.join(lang for lang in langs if not store.groups(lang, None))}: report without it",
              file=sys.stderr)
        args.without_analysis = True
    return [StoreRecipe(store, lang) for lang in langs]


def gather(args: argparse.Namespace) -> Tuple[list, Dict[str, Any]]:
    """The report's sources and numbers for make_report's options, filling those left unset (from the
    study store's records, or the defaults); MissingInputs or ValueError where that cannot be done."""
    if args.study is not None:
        recipes = store_sources(args)
    else:
        recipes = [Recipe(r) for r in args.recipes]
        args.configs = args.configs or ["stl_surface", "stl_meaning", "mtl"]
        args.suffix = "_tiny" if args.suffix is None else args.suffix
        suffixes = [seed_suffix(args.suffix, s) for s in args.seeds] if args.seeds else [args.suffix]
        args.test_set, note = resolve_report_set(
            args.test_set, [r.results_path(c, x) for r in recipes for c in args.configs for x in suffixes])
        if note:
            print(f"make_report: {note}", file=sys.stderr)
    if args.seeds:
        data = collect_over_seeds(recipes, args.configs, args.suffix, args.test_set, args.seeds,
                                  with_analysis=not args.without_analysis, unit=args.bootstrap_unit)
    else:
        data = collect(recipes, args.configs, args.suffix, args.test_set, with_analysis=not args.without_analysis,
                       unit=args.bootstrap_unit, allow_absent=args.study is None)
    return recipes, data
