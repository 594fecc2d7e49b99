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

import json
from pathlib import Path
from typing import Any, Dict, List

from espnet_l2dual.analysis.study import OUTPUTS
from espnet_l2dual.report.cross_language import judge
from espnet_l2dual.report.verdict import format_ci
from espnet_l2dual.utils.fileio import atomic_write


def _cell(c: Dict[str, Any]) -> str:
    ci = format_ci(c["ci95"]) if c.get("ci95") else f"none ({c.get('no_ci', 'no interval')})"
    return f"{c['diff']:+.2f} {ci}"


def render_grid(data: Dict[str, Any]) -> str:
    ts = data["test_set"]
    unit = data["interval"]["unit"]
    interval = (f"percentile bootstrap over {unit} and t over seeds (hull)" if data["seeds"]
                else f"paired percentile bootstrap over {unit} (one seed: it does not cover training variation)")
    lines = ["# espnet-l2dual: the controlled-divergence grid", "",
             f"Each level: the mini corpus with every learner error rate x F (same sentences and voices), "
             f"trained for E epochs; MTL−STL in points of the headline error rate on the set `{ts}`, "
             f"95% interval: {interval}. "
             "Family: every level and output of a language; Holm-adjusted. Hurt/helped only where the "
             "Holm-adjusted interval excludes 0.", "",
             "![MTL−STL against divergence](grid.png)", "",
             f"| language | level | error scale | epochs | {ts} divergence | surface MTL−STL | meaning MTL−STL | "
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
    lines += trend_lines(data)
    return "\n".join(lines) + "\n"


def _interval(c: Dict[str, Any], key: str) -> str:
    return format_ci(c[key]) if c.get(key) else "none"


def trend_lines(data: Dict[str, Any]) -> List[str]:
    """The slope of MTL−STL on divergence per language, budget and output, and the claim in words."""
    trends = data.get("trends") or {}
    if not any(trends.values()):
        return []
    lines = ["", "## Does the penalty grow with divergence?", "",
             "Least-squares slope of MTL−STL (points) on the level's mean divergence, over every trained pair "
             "(level x seed) of one budget; 95% intervals: **t** of the OLS slope over the trainings, **boot** "
             "resampling speakers x utterances shared by all levels (hull taken). Family: every budget and output "
             "of a language (Holm). \"Grows\" or \"shrinks\" only where the Holm-adjusted interval excludes 0.", "",
             "| language | epochs | output | levels | trainings | slope | boot 95% CI | t 95% CI | Holm-adjusted | verdict |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    words = []
    for lang, ts in trends.items():
        for t in ts:
            v = judge(t, lower="shrinks", higher="grows") if t.get("slope") is not None else None
            slope = "—" if t.get("slope") is None else f"{t['slope']:+.2f}"
            adj = f"{format_ci(t['ci_adj'])} ({100 * t['level_adj']:.1f}%)" if t.get("ci_adj") else "—"
            verdict = v.text if v else f"no slope ({t.get('no_ci')})"
            lines.append(f"| {lang} | {t['epochs']} | {t['output']} | {t['n_levels']} | {t['n_trainings']} | {slope} | "
                         f"{_interval(t, 'ci95_bootstrap')} | {_interval(t, 'ci95_t')} | {adj} | {verdict} |")
            if t["output"] == "surface":
                status = ("supported" if v.direction == "higher" else "refuted") if v and v.resolved else "not resolved"
                words.append(f"- **{lang}, {t['epochs']} epochs: {status}.** The surface penalty's slope on divergence "
                             f"is {slope} points per unit of divergence over {t['n_levels']} levels"
                             + (f" ({verdict})." if v and not v.resolved else "."))
    return lines + ["", "The claim that the surface penalty grows with surface–meaning divergence, per language and "
                        "budget:", ""] + words


def plot_grid(data: Dict[str, Any], path: Path) -> Path:
    """MTL−STL (with interval bars) against the report set's divergence; a line per budget; languages x outputs."""
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
            ax.set_xlabel(f"{data['test_set']} surface–meaning divergence (mean)")
            ax.set_ylabel("MTL − STL (points)")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
    return plots._save(fig, path)


def write_grid(data: Dict[str, Any], out_dir: Path) -> None:
    """grid.png, grid.json and GRID.md in ``out_dir``, each written atomically: only the layout is here,
    the numbers come from :mod:`espnet_l2dual.study.grid`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    plot_grid(data, out_dir / "grid.png")
    with atomic_write(out_dir / "grid.json") as f:
        json.dump(data, f, indent=2, default=str)
    with atomic_write(out_dir / "GRID.md") as f:
        f.write(render_grid(data))
