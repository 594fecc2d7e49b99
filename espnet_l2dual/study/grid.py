"""The controlled-divergence grid's numbers: per language and level, MTL−STL with its interval.

Each level ``<recipe>/grid/es<F>_ep<E>/`` (or a study store's level record) is a complete study
on a mini corpus whose learner error rates are scaled by F, trained for E epochs. One Holm
family per language covers every level and output.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from espnet_l2dual.analysis import access
from espnet_l2dual.analysis.seed_study import seed_suffix
from espnet_l2dual.analysis.study import OUTPUTS, MissingInputs, Recipe, interval_method, task_cka
from espnet_l2dual.analysis.tables import compare, finish, finish_over_seeds, score_output, versus_over_seeds
from espnet_l2dual.outputs import STL_CONFIG as STL
from espnet_l2dual.corpus.eval_set import AUTO, resolve_report_set
from espnet_l2dual.errors import DataError
from espnet_l2dual.scoring.multiplicity import families
from espnet_l2dual.study.grid_trend import language_trends, trend_record
from espnet_l2dual.study.record import level_name
from espnet_l2dual.study.store import Store, StoreRecipe, study_eval_sets, study_seeds, study_suffixes

_LEVEL = re.compile(r"es([0-9.]+)_ep([0-9]+|config)")


def levels(recipe: Path) -> List[Dict[str, Any]]:
    """The grid levels under ``recipe/grid``, ordered by budget then error scale."""
    out = []
    for d in sorted((recipe / "grid").glob("es*_ep*")):
        m = _LEVEL.fullmatch(d.name)
        if m and d.is_dir():
            out.append({"dir": d, "name": d.name, "error_scale": float(m.group(1)), "epochs": m.group(2),
                        "source": Recipe(d)})
    return _ordered(out)


def _ordered(found: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return sorted(found, key=lambda x: (x["epochs"] == "config", int(x["epochs"]) if x["epochs"] != "config" else 0,
                                        x["error_scale"]))


MAIN_LEVEL = {"error_scale": 1.0, "epochs": "config"}  # the default mini corpus at the configs' own budget


def store_levels(store: Store, lang: str) -> List[Dict[str, Any]]:
    """The grid levels of one language in a study store, from the records' metadata.

    The store's main study (no level) is the default corpus (error scale 1) at the configs' own
    budget: where the store also holds grid levels and no explicit ``es1_epconfig``, it is that
    level, so a grid beside a seed study trains only the other error scales."""
    out = []
    main = False
    for level in store.levels(lang):
        if not level:
            main = True
            continue
        out.append({"name": level_name(level), "error_scale": float(level["error_scale"]),
                    "epochs": str(level["epochs"]), "source": StoreRecipe(store, lang, level)})
    if main and out and not any(x["error_scale"] == 1.0 and x["epochs"] == "config" for x in out):
        out.append({"name": level_name(MAIN_LEVEL), **MAIN_LEVEL, "source": StoreRecipe(store, lang, None)})
    return _ordered(out)


def _scorer(source: Any, test_set: str) -> Any:
    """``(config, suffix, output) -> Scored``, each results.json read once (MTL serves both outputs)."""
    docs: Dict[str, access.Doc] = {}

    def scored(config: str, suffix: str, output: str) -> Any:
        tag = f"asr_{config}{suffix}"
        if tag not in docs:
            docs[tag] = source.load_results(config, suffix)
        return score_output(docs[tag], test_set, output)

    return scored


def level_row(level: Dict[str, Any], suffix: str, test_set: str, seeds: Sequence[int]) -> Dict[str, Any]:
    """One level's numbers; a DataError if something stage 9 writes is missing."""
    source = level["source"]  # the level's reader: its exp/ or the study store
    div = source.eval_divergence(test_set)
    row: Dict[str, Any] = {k: level[k] for k in ("name", "error_scale", "epochs")}
    row["divergence"] = round(sum(div.values()) / len(div), 4) if div else None
    row["outputs"] = {}
    row["_errors"] = {}  # per output (MTL per seed, STL per seed) per-utterance errors, for the trend
    scored_of = _scorer(source, test_set)
    for o in OUTPUTS:
        if seeds:
            stl = [scored_of(STL[o], seed_suffix(suffix, s), o) for s in seeds]
            mtl = [scored_of("mtl", seed_suffix(suffix, s), o) for s in seeds]
            k = stl[0].metric.kind
            cmp_ = versus_over_seeds(mtl, stl, k)
            row["outputs"][o] = {"metric": stl[0].metric.name, "mtl_minus_stl": cmp_}
            row["_errors"][o] = ([x.errors[k] for x in mtl], [x.errors[k] for x in stl])
        else:
            stl, mtl = scored_of(STL[o], suffix, o), scored_of("mtl", suffix, o)
            k = stl.metric.kind
            cmp_ = compare(mtl.values[k], stl.values[k], mtl.errors[k], stl.errors[k])
            row["outputs"][o] = {"metric": stl.metric.name, "stl": stl.values[k], "mtl": mtl.values[k],
                                 "mtl_minus_stl": cmp_}
            row["_errors"][o] = ([mtl.errors[k]], [stl.errors[k]])
    row["task_cka_contexts"] = None
    analysis = None
    if not seeds:
        try:
            analysis = source.load_analysis()
        except DataError:
            analysis = None  # no stage 10 at this level: the column says "—"
    if analysis is not None:
        size = suffix.lstrip("_") or "full"
        g = access.group(analysis, size)
        v = task_cka(g, f"asr_mtl{suffix}")["contexts"]
        row["task_cka_contexts"] = v if isinstance(v, (int, float)) else None
    return row


def adjust_grid(lang: str, rows: List[Dict[str, Any]], over_seeds: bool) -> None:
    """One family per language: MTL−STL of every level and output, Holm-adjusted; then the stored records."""
    items = [r["outputs"][o]["mtl_minus_stl"] for r in rows for o in OUTPUTS]
    families({f"{lang} grid MTL−STL": [d["_raw"] for d in items]})
    for d in items:
        if over_seeds:
            finish_over_seeds(d)
        else:
            finish(d)
            d["diff"] = d.pop("abs")


def grid_trends(lang: str, rows: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """MTL−STL against divergence per budget and output: one Holm family per language, then the
    stored records (the rows' per-utterance errors are dropped here)."""
    errors = {r["name"]: r.pop("_errors") for r in rows}
    trends = language_trends(rows, errors, OUTPUTS)
    families({f"{lang} grid trends": [t["raw"] for t in trends]})
    return [{"epochs": t["epochs"], "output": t["output"], "levels": t["levels"], **trend_record(t["raw"])}
            for t in trends]


def collect_grid(recipes: Sequence[Path], suffix: str, test_set: str, seeds: Sequence[int],
                 store: Optional[Store] = None, langs: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """The grid's numbers from the recipes' grid/ dirs, or (``store``) from a study store's records
    (``langs``: only these of its languages, e.g. the one whose levels are all stored)."""
    problems: List[str] = []
    out: Dict[str, Any] = {"suffix": suffix, "test_set": test_set, "seeds": list(seeds), "languages": {},
                           "interval": interval_method("speakers", bool(seeds))}
    sources: Sequence[Any] = recipes
    if store is not None:
        stored = store.langs()
        problems += [f"{x}: no records in the study store {store.path}" for x in langs or () if x not in stored]
        sources = [x for x in stored if not langs or x in langs]
    for r in sources:
        lang = r if store is not None else Recipe(r).lang
        found = store_levels(store, lang) if store is not None else levels(r)
        if not found:
            where = f"the study store {store.path}" if store is not None else r / "grid"
            problems.append(f"{lang}: no grid levels in {where} (run_all.sh --grid_error_scales ...)")
            continue
        rows = []
        for level in found:
            try:
                rows.append(level_row(level, suffix, test_set, seeds))
            except DataError as e:
                problems.append(f"{lang} {level['name']}: {e}")
        out["languages"][lang] = rows
        adjust_grid(lang, rows, bool(seeds))
        out.setdefault("trends", {})[lang] = grid_trends(lang, rows)
    if problems:
        raise MissingInputs(problems)
    return out


def grid_report_set(recipes: Sequence[Path], suffix: str, seeds: Sequence[int],
                    test_set: str) -> Tuple[str, Optional[str]]:
    """The set reported on (``auto``: eval where every model of every level scored it, else test) and a
    note on the choice, or None."""
    suffixes = [seed_suffix(suffix, s) for s in seeds] or [suffix]
    results = [lv["dir"] / "exp" / f"asr_{c}{x}" / "results.json" for r in recipes for lv in levels(r)
               for c in ("stl_surface", "stl_meaning", "mtl") for x in suffixes]
    return resolve_report_set(test_set, results)


def grid_options(recipes: Optional[Sequence[Path]], store: Optional[Store], suffix: Optional[str],
                 seeds: Optional[List[int]], test_set: str) -> Tuple[str, List[int], str, Optional[str]]:
    """(suffix, seeds, report set, note on the set's choice or None) with the options left unset
    (None, ``auto``) taken from the store's records, else the defaults and the recipes' results."""
    suffix = suffix if suffix is not None else (
        (study_suffixes(store) or ["_tiny"])[0] if store is not None else "_tiny")
    seeds = seeds if seeds is not None else (study_seeds(store) if store is not None else [])
    if store is not None:
        return suffix, seeds, study_eval_sets(store)[0] if test_set == AUTO else test_set, None
    test_set, note = grid_report_set(recipes or [], suffix, seeds, test_set)
    return suffix, seeds, test_set, note
