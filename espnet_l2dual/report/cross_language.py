"""The study's headline table: STL vs MTL error rates per language and output.

Reads each recipe's ``exp/asr_<config>/results.json`` (stage 9) and, when present,
``exp/analysis/analysis.json`` (stage 10), and writes one ``REPORT.md`` + ``report.json``.
Any extra config with both outputs (a disentangling method) gets a row against STL and MTL.
"""

from __future__ import annotations

import datetime
import json
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

OUTPUTS = ("surface", "meaning")
STL = {"surface": "stl_surface", "meaning": "stl_meaning"}
METRICS = ("cer", "wer")


@dataclass(frozen=True)
class Recipe:
    """One language's recipe directory, e.g. egs2/l2ko/asr1."""

    path: Path

    @property
    def lang(self) -> str:
        name = self.path.resolve().parent.name  # l2ko
        return name[2:] if name.startswith("l2") else name

    def results(self, config: str, suffix: str, test_set: str) -> Optional[Dict[str, Any]]:
        f = self.path / "exp" / f"asr_{config}{suffix}" / "results.json"
        if not f.is_file():
            return None
        return json.loads(f.read_text(encoding="utf-8")).get(test_set)

    def analysis(self) -> Optional[Dict[str, Any]]:
        f = self.path / "exp" / "analysis" / "analysis.json"
        return json.loads(f.read_text(encoding="utf-8")) if f.is_file() else None


def difference(mtl: Optional[float], stl: Optional[float]) -> Dict[str, Optional[float]]:
    """MTL - STL in points and relative to STL (positive = MTL is worse)."""
    if mtl is None or stl is None:
        return {"abs": None, "rel": None}
    rel = (mtl - stl) / stl * 100.0 if stl > 0 else None
    return {"abs": round(mtl - stl, 2), "rel": None if rel is None else round(rel, 1)}


def collect(recipes: Sequence[Recipe], configs: Sequence[str], suffix: str, test_set: str) -> Dict[str, Any]:
    """Everything the report shows, as plain data (report.json)."""
    out: Dict[str, Any] = {"test_set": test_set, "suffix": suffix, "languages": {}}
    for r in recipes:
        per_cfg = {c: r.results(c, suffix, test_set) for c in configs}
        lang: Dict[str, Any] = {"recipe": str(r.path), "outputs": {}, "methods": {}}
        for o in OUTPUTS:
            row: Dict[str, Any] = {}
            for m in METRICS:
                stl_res = (per_cfg.get(STL[o]) or {}).get(o, {})
                mtl_res = (per_cfg.get("mtl") or {}).get(o, {})
                stl_v, mtl_v = stl_res.get(m), mtl_res.get(m)
                row[m] = {"stl": stl_v, "mtl": mtl_v, "mtl_minus_stl": difference(mtl_v, stl_v)}
            lang["outputs"][o] = row
        for c in configs:
            if c in ("mtl", *STL.values()) or per_cfg.get(c) is None:
                continue
            lang["methods"][c] = {
                o: {
                    "cer": per_cfg[c].get(o, {}).get("cer"),
                    "vs_stl": difference(per_cfg[c].get(o, {}).get("cer"), lang["outputs"][o]["cer"]["stl"]),
                    "vs_mtl": difference(per_cfg[c].get(o, {}).get("cer"), lang["outputs"][o]["cer"]["mtl"]),
                }
                for o in OUTPUTS
            }
        lang["analysis"] = r.analysis()
        out["languages"][r.lang] = lang
    return out


def _fmt(v: Optional[float], signed: bool = False, unit: str = "") -> str:
    if v is None:
        return "n/a"
    return (f"{v:+.2f}" if signed else f"{v:.2f}") + unit


def _fmt_rel(v: Optional[float]) -> str:
    return "n/a" if v is None else f"{v:+.1f}%"


def render(data: Dict[str, Any]) -> str:
    """REPORT.md: the headline table, method rows, and the analysis comparison."""
    now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    lines = [
        "# espnet-l2dual: STL vs MTL across languages",
        "",
        f"- date: {now}; machine: {platform.machine()}, {platform.node()}; test set: `{data['test_set']}`",
        "- error rates in %, lower is better; MTL−STL > 0 means multi-task learning hurt that output",
        "",
        "| language | output | metric | STL | MTL | MTL−STL | relative |",
        "|---|---|---|---|---|---|---|",
    ]
    for lang, d in data["languages"].items():
        for o in OUTPUTS:
            for m in METRICS:
                r = d["outputs"][o][m]
                diff = r["mtl_minus_stl"]
                lines.append(
                    f"| {lang} | {o} | {m.upper()} | {_fmt(r['stl'])} | {_fmt(r['mtl'])} | "
                    f"{_fmt(diff['abs'], signed=True)} | {_fmt_rel(diff['rel'])} |"
                )
    methods = [(lang, c, v) for lang, d in data["languages"].items() for c, v in d["methods"].items()]
    if methods:
        lines += ["", "## Disentangling methods (CER %)", "",
                  "| language | config | surface | vs STL | vs MTL | meaning | vs STL | vs MTL |",
                  "|---|---|---|---|---|---|---|---|"]
        for lang, c, v in methods:
            s, m = v["surface"], v["meaning"]
            lines.append(
                f"| {lang} | {c} | {_fmt(s['cer'])} | {_fmt(s['vs_stl']['abs'], True)} | {_fmt(s['vs_mtl']['abs'], True)} "
                f"| {_fmt(m['cer'])} | {_fmt(m['vs_stl']['abs'], True)} | {_fmt(m['vs_mtl']['abs'], True)} |"
            )
    lines += ["", "## Reading the table", ""]
    for lang, d in data["languages"].items():
        parts = []
        for o in OUTPUTS:
            diff = d["outputs"][o]["cer"]["mtl_minus_stl"]["abs"]
            if diff is None:
                parts.append(f"{o}: not available")
            else:
                verb = "hurt" if diff > 0 else "helped" if diff < 0 else "did not change"
                parts.append(f"MTL {verb} {o} ({diff:+.2f} CER points)")
        lines.append(f"- **{lang}**: " + "; ".join(parts) + ".")
    analyses = {lang: d["analysis"] for lang, d in data["languages"].items() if d.get("analysis")}
    if analyses:
        lines += ["", "## Korean vs English: entanglement (stage 10)", ""]
        lines += comparison_lines(analyses)
    return "\n".join(lines) + "\n"


def comparison_lines(analyses: Dict[str, Dict[str, Any]]) -> List[str]:
    """Side-by-side of the scalar summaries each recipe's analysis.json provides."""
    keys: List[str] = []
    for a in analyses.values():
        for k in (a.get("summary") or {}):
            if k not in keys:
                keys.append(k)
    if not keys:
        return ["(the analysis files carry no `summary` block)"]
    langs = list(analyses)
    out = ["| quantity | " + " | ".join(langs) + " |", "|---|" + "---|" * len(langs)]
    for k in keys:
        vals = []
        for lang in langs:
            v = (analyses[lang].get("summary") or {}).get(k)
            vals.append(f"{v:.3f}" if isinstance(v, (int, float)) else ("n/a" if v is None else str(v)))
        out.append(f"| {k} | " + " | ".join(vals) + " |")
    out.append("")
    out.append("Per-recipe details: " + ", ".join(f"`{lang}`: exp/analysis/REPORT.md" for lang in langs))
    return out
