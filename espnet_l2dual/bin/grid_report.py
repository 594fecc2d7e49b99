"""The controlled-divergence grid's report (``run_all.sh --grid_error_scales ... --grid_epochs ...``).

Each level ``<recipe>/grid/es<F>_ep<E>/`` is a complete study on a mini corpus whose learner
error rates are scaled by F, trained for E epochs (``config``: the config's own budget).
Per language and level: the test set's mean surface–meaning divergence (stage 4), MTL−STL
of each output's headline error rate with its 95% interval (paired bootstrap over speakers
x utterances of the test set; with --seeds, crossed with seeds, and t over seeds; one Holm
family per language, verdict where the adjusted interval excludes 0), and the MTL model's task CKA (decoder contexts, stage 10) where the level
has an analysis. Writes GRID.md, grid.json and grid.png (MTL−STL against divergence, one
line per budget, per language and output).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from espnet_l2dual.analysis import access
from espnet_l2dual.analysis.seed_study import finish_over_seeds, seed_suffix, versus_over_seeds
from espnet_l2dual.analysis.study import (OUTPUTS, STL, MissingInputs, Recipe, compare, finish, interval_method,
                                          score_output, task_cka)
from espnet_l2dual.report.cross_language import judge
from espnet_l2dual.scoring.multiplicity import families
from espnet_l2dual.errors import DataError
from espnet_l2dual.report.verdict import format_ci
from espnet_l2dual.study.record import level_name
from espnet_l2dual.study.store import Store, StoreRecipe, study_seeds, study_suffixes
from espnet_l2dual.utils.fileio import atomic_write

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


def store_levels(store: Store, lang: str) -> List[Dict[str, Any]]:
    """The grid levels of one language in a study store, from the records' metadata."""
    out = []
    for level in store.levels(lang):
        if not level:
            continue
        out.append({"name": level_name(level), "error_scale": float(level["error_scale"]),
                    "epochs": str(level["epochs"]), "source": StoreRecipe(store, lang, level)})
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
    scored_of = _scorer(source, test_set)
    for o in OUTPUTS:
        if seeds:
            stl = [scored_of(STL[o], seed_suffix(suffix, s), o) for s in seeds]
            mtl = [scored_of("mtl", seed_suffix(suffix, s), o) for s in seeds]
            k = stl[0].metric.kind
            cmp_ = versus_over_seeds(mtl, stl, k)
            row["outputs"][o] = {"metric": stl[0].metric.name, "mtl_minus_stl": cmp_}
        else:
            stl, mtl = scored_of(STL[o], suffix, o), scored_of("mtl", suffix, o)
            k = stl.metric.kind
            cmp_ = compare(mtl.values[k], stl.values[k], mtl.errors[k], stl.errors[k])
            row["outputs"][o] = {"metric": stl.metric.name, "stl": stl.values[k], "mtl": mtl.values[k],
                                 "mtl_minus_stl": cmp_}
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


def collect_grid(recipes: Sequence[Path], suffix: str, test_set: str, seeds: Sequence[int],
                 store: Optional[Store] = None) -> Dict[str, Any]:
    """The grid's numbers from the recipes' grid/ dirs, or (``store``) from a study store's records."""
    problems: List[str] = []
    out: Dict[str, Any] = {"suffix": suffix, "test_set": test_set, "seeds": list(seeds), "languages": {},
                           "interval": interval_method("speakers", bool(seeds))}
    for r in (store.langs() if store is not None else recipes):
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
    if problems:
        raise MissingInputs(problems)
    return out


def _cell(c: Dict[str, Any]) -> str:
    ci = format_ci(c["ci95"]) if c.get("ci95") else f"none ({c.get('no_ci', 'no interval')})"
    return f"{c['diff']:+.2f} {ci}"


def render_grid(data: Dict[str, Any]) -> str:
    unit = data["interval"]["unit"]
    interval = (f"percentile bootstrap over {unit} and t over seeds (hull)" if data["seeds"]
                else f"paired percentile bootstrap over {unit} (one seed: it does not cover training variation)")
    lines = ["# espnet-l2dual: the controlled-divergence grid", "",
             f"Each level: the mini corpus with every learner error rate x F (same sentences and voices), "
             f"trained for E epochs; MTL−STL in points of the headline error rate, 95% interval: {interval}. "
             "Family: every level and output of a language; Holm-adjusted. Hurt/helped only where the "
             "Holm-adjusted interval excludes 0.", "",
             "![MTL−STL against divergence](grid.png)", "",
             "| language | level | error scale | epochs | test divergence | surface MTL−STL | meaning MTL−STL | "
             "MTL task CKA (contexts, debiased) | surface verdict |",
             "|---|---|---|---|---|---|---|---|---|"]
    for lang, rows in data["languages"].items():
        for r in rows:
            s, m = r["outputs"]["surface"], r["outputs"]["meaning"]
            v = judge(s["mtl_minus_stl"], lower="MTL helped surface", higher="MTL hurt surface")
            cka = "—" if r["task_cka_contexts"] is None else f"{r['task_cka_contexts']:.3f}"
            div = "—" if r["divergence"] is None else f"{r['divergence']:.4f}"
            lines.append(f"| {lang} | {r['name']} | {r['error_scale']:g} | {r['epochs']} | {div} | "
                         f"{s['metric']} {_cell(s['mtl_minus_stl'])} | {m['metric']} {_cell(m['mtl_minus_stl'])} | "
                         f"{cka} | {v.text} |")
    return "\n".join(lines) + "\n"


def plot_grid(data: Dict[str, Any], path: Path) -> Path:
    """MTL−STL (with interval bars) against test divergence; a line per budget; languages x outputs."""
    from espnet_l2dual.analysis import plots  # Agg backend, atomic save

    plt = plots.plt
    langs = list(data["languages"])
    fig, axes = plt.subplots(len(OUTPUTS), len(langs), figsize=(5 * len(langs), 3.6 * len(OUTPUTS)), squeeze=False)
    for j, lang in enumerate(langs):
        rows = data["languages"][lang]
        for i, o in enumerate(OUTPUTS):
            ax = axes[i][j]
            for ep in sorted({r["epochs"] for r in rows}, key=lambda e: (e == "config", int(e) if e != "config" else 0)):
                rs = sorted((r for r in rows if r["epochs"] == ep and r["divergence"] is not None),
                            key=lambda r: r["divergence"])
                x = [r["divergence"] for r in rs]
                y = [r["outputs"][o]["mtl_minus_stl"]["diff"] for r in rs]
                cis = [r["outputs"][o]["mtl_minus_stl"].get("ci95") or [d, d] for r, d in zip(rs, y)]
                err = [[d - c[0] for d, c in zip(y, cis)], [c[1] - d for d, c in zip(y, cis)]]
                ax.errorbar(x, y, yerr=err, marker="o", capsize=3, label=f"{ep} epochs")
            ax.axhline(0.0, color="grey", linewidth=0.8, linestyle="--")
            ax.set_title(f"{lang} {o}")
            ax.set_xlabel("test surface–meaning divergence (mean)")
            ax.set_ylabel("MTL − STL (points)")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
    return plots._save(fig, path)


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="grid_report", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--recipes", nargs="+", type=Path, help="read each recipe's grid/ levels (exp/ of each)")
    src.add_argument("--study", type=Path, help="read a study store (studies/<name>) instead: no models needed")
    p.add_argument("--suffix", default=None, help="config size suffix (default: _tiny; with --study: the store's)")
    p.add_argument("--test_set", default="test")
    p.add_argument("--seeds", nargs="*", type=int, default=None,
                   help="default: none (with --study: the store's seeds)")
    p.add_argument("--out_dir", type=Path, required=True)
    args = p.parse_args(argv)
    store = Store(args.study) if args.study else None
    if store is not None and not store.records:
        print(f"grid_report: error: {args.study}: no records (run_all.sh --study {args.study.name} ...)",
              file=sys.stderr)
        return 1
    suffix = args.suffix if args.suffix is not None else (
        (study_suffixes(store) or ["_tiny"])[0] if store is not None else "_tiny")
    seeds = args.seeds if args.seeds is not None else (study_seeds(store) if store is not None else [])
    try:
        data = collect_grid(args.recipes or [], suffix, args.test_set, seeds, store)
    except MissingInputs as e:
        print(f"grid_report: error: {len(e.problems)} input(s) missing; no report written:", file=sys.stderr)
        for line in e.problems:
            print(f"  {line}", file=sys.stderr)
        return 1
    args.out_dir.mkdir(parents=True, exist_ok=True)
    plot_grid(data, args.out_dir / "grid.png")
    with atomic_write(args.out_dir / "grid.json") as f:
        json.dump(data, f, indent=2, default=str)
    with atomic_write(args.out_dir / "GRID.md") as f:
        f.write(render_grid(data))
    print(f"grid_report: wrote {args.out_dir}/GRID.md, grid.json, grid.png", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
