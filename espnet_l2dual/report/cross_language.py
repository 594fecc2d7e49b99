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
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from espnet_l2dual.scoring.paired_bootstrap import (paired_difference, paired_f1_difference, read_mdd_counts,
                                                    utterance_errors)

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

    def provenance(self, config: str, suffix: str) -> Optional[Dict[str, Any]]:
        """The ``provenance`` stage 9 stored in results.json (None for older results)."""
        f = self.path / "exp" / f"asr_{config}{suffix}" / "results.json"
        if not f.is_file():
            return None
        return json.loads(f.read_text(encoding="utf-8")).get("provenance")

    def utterance_errors(self, config: str, suffix: str, test_set: str, output: str, entry: Mapping[str, Any],
                         kind: str = "cer") -> Optional[Dict[str, Tuple[int, int]]]:
        """Per-utterance (edits, ref length) from the sclite trn files stage 9 left (None if absent).

        ``entry`` is the output's results.json entry, which says where they are.
        """
        exp = self.path / "exp" / f"asr_{config}{suffix}"
        if "score_dir" in entry:
            score_dir = exp / entry["score_dir"]
        else:  # results.json written before score_dir was recorded: only an unambiguous decode dir
            found = sorted(exp.glob(f"decode*/{test_set}/{output}"))
            if len(found) != 1:
                return None
            score_dir = found[0]
        ref, hyp = score_dir / f"score_{kind}" / "ref.trn", score_dir / f"score_{kind}" / "hyp.trn"
        return utterance_errors(ref, hyp) if ref.is_file() and hyp.is_file() else None

    def mdd_counts(self, config: str, suffix: str, entry: Mapping[str, Any], reference: str
                   ) -> Optional[Dict[str, Tuple[int, int, int]]]:
        """Per-utterance (TR, FR, FA) of the surface output's MDD (stage 9), or None."""
        if "score_dir" not in entry:
            return None
        f = self.path / "exp" / f"asr_{config}{suffix}" / entry["score_dir"] / "score_mdd" / f"{reference}.tsv"
        return read_mdd_counts(f) if f.is_file() else None

    def analysis(self) -> Optional[Dict[str, Any]]:
        f = self.path / "exp" / "analysis" / "analysis.json"
        return json.loads(f.read_text(encoding="utf-8")) if f.is_file() else None


def difference(mtl: Optional[float], stl: Optional[float]) -> Dict[str, Optional[float]]:
    """MTL - STL in points and relative to STL (positive = MTL is worse)."""
    if mtl is None or stl is None:
        return {"abs": None, "rel": None}
    rel = (mtl - stl) / stl * 100.0 if stl > 0 else None
    return {"abs": round(mtl - stl, 2), "rel": None if rel is None else round(rel, 1)}


def _ci(a: Optional[Dict[str, Tuple[int, int]]], b: Optional[Dict[str, Tuple[int, int]]]) -> Optional[List[float]]:
    """95% paired-bootstrap interval of CER(b) - CER(a) over test utterances, or None."""
    if a is None or b is None:
        return None
    r = paired_difference(a, b)
    return None if r is None else [round(r["lo"], 2), round(r["hi"], 2)]


def collect(recipes: Sequence[Recipe], configs: Sequence[str], suffix: str, test_set: str) -> Dict[str, Any]:
    """Everything the report shows, as plain data (report.json)."""
    out: Dict[str, Any] = {"test_set": test_set, "suffix": suffix, "languages": {}}
    for r in recipes:
        per_cfg = {c: r.results(c, suffix, test_set) for c in configs}
        errors = {(c, o): r.utterance_errors(c, suffix, test_set, o, per_cfg[c][o]) for c in configs
                  for o in OUTPUTS if (per_cfg.get(c) or {}).get(o)}
        lang: Dict[str, Any] = {"recipe": str(r.path), "outputs": {}, "methods": {}}
        for o in OUTPUTS:
            row: Dict[str, Any] = {}
            for m in METRICS:
                stl_res = (per_cfg.get(STL[o]) or {}).get(o, {})
                mtl_res = (per_cfg.get("mtl") or {}).get(o, {})
                stl_v, mtl_v = stl_res.get(m), mtl_res.get(m)
                row[m] = {"stl": stl_v, "mtl": mtl_v, "mtl_minus_stl": difference(mtl_v, stl_v)}
            row["cer"]["mtl_minus_stl"]["ci95"] = _ci(errors.get((STL[o], o)), errors.get(("mtl", o)))
            lang["outputs"][o] = row
        analysis = r.analysis()
        size = suffix.lstrip("_") or "full"
        for c in configs:
            if c in ("mtl", *STL.values()) or per_cfg.get(c) is None:
                continue
            lang["methods"][c] = {
                o: {
                    "cer": per_cfg[c].get(o, {}).get("cer"),
                    "vs_stl": {**difference(per_cfg[c].get(o, {}).get("cer"), lang["outputs"][o]["cer"]["stl"]),
                               "ci95": _ci(errors.get((STL[o], o)), errors.get((c, o)))},
                    "vs_mtl": {**difference(per_cfg[c].get(o, {}).get("cer"), lang["outputs"][o]["cer"]["mtl"]),
                               "ci95": _ci(errors.get(("mtl", o)), errors.get((c, o)))},
                }
                for o in OUTPUTS
            }
        for c in ["mtl", *lang["methods"]]:
            lang.setdefault("task_cka", {})[c] = task_cka(analysis or {}, size, f"asr_{c}{suffix}")
        lang["entanglement"] = entanglement_summary(analysis, size, f"asr_mtl{suffix}") if analysis else {}
        lang["provenance"] = {c: r.provenance(c, suffix) for c in configs if per_cfg.get(c) is not None}
        lang["mdd"] = mdd_rows(r, configs, suffix, per_cfg)
        out["languages"][r.lang] = lang
    return out


def _fmt(v: Optional[float], signed: bool = False, unit: str = "", digits: int = 2) -> str:
    if v is None:
        return "n/a"
    return (f"{v:+.{digits}f}" if signed else f"{v:.{digits}f}") + unit


def _interval(ci: Optional[Sequence[float]]) -> str:
    """`` [-0.22, +1.56]`` for a bootstrap interval, empty where none was computed."""
    return f" [{ci[0]:+.2f}, {ci[1]:+.2f}]" if ci else ""


def _fmt_diff(v: Dict[str, Any]) -> str:
    """A signed difference with its bootstrap interval where one was computed: ``+0.66 [-0.22, +1.56]``."""
    return "n/a" if v.get("abs") is None else f"{v['abs']:+.2f}" + _interval(v.get("ci95"))


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
                  "Task CKA: how alike the two outputs' representations are inside one model (stage 10): "
                  "decoder source-attention contexts (mean over layers) and, where the outputs have "
                  "encoder paths of their own, the last encoder layer of the two paths; plain MTL for reference. "
                  "Brackets: 95% paired-bootstrap interval over the test utterances.",
                  "",
                  "| language | config | surface | vs STL | vs MTL | meaning | vs STL | vs MTL "
                  "| task CKA: contexts | task CKA: encoder |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for lang, d in data["languages"].items():
            if d["methods"]:
                cka = d.get("task_cka", {}).get("mtl", {})
                s, m = d["outputs"]["surface"]["cer"], d["outputs"]["meaning"]["cer"]
                lines.append(f"| {lang} | mtl | {_fmt(s['mtl'])} | {_fmt_diff(s['mtl_minus_stl'])} | 0 "
                             f"| {_fmt(m['mtl'])} | {_fmt_diff(m['mtl_minus_stl'])} | 0 "
                             f"| {_fmt(cka.get('contexts'), digits=3)} | {_fmt(cka.get('encoder'), digits=3)} |")
        for lang, c, v in methods:
            s, m = v["surface"], v["meaning"]
            cka = data["languages"][lang].get("task_cka", {}).get(c, {})
            lines.append(
                f"| {lang} | {c} | {_fmt(s['cer'])} | {_fmt_diff(s['vs_stl'])} | {_fmt_diff(s['vs_mtl'])} "
                f"| {_fmt(m['cer'])} | {_fmt_diff(m['vs_stl'])} | {_fmt_diff(m['vs_mtl'])} "
                f"| {_fmt(cka.get('contexts'), digits=3)} | {_fmt(cka.get('encoder'), digits=3)} |"
            )
    if methods:
        lines += ["", "Did a method reduce the MTL surface degradation? (CER points; brackets: 95% paired-bootstrap "
                  "interval over the test utterances, which does not cover seed-to-seed training variation)", ""]
        lines += [f"- {line}" for line in surface_verdicts(data)]
    lines += ["", "## Reading the table", ""]
    for lang, d in data["languages"].items():
        parts = []
        for o in OUTPUTS:
            diff = d["outputs"][o]["cer"]["mtl_minus_stl"]["abs"]
            if diff is None:
                parts.append(f"{o}: not available")
            else:
                verb = "hurt" if diff > 0 else "helped" if diff < 0 else "did not change"
                ci = _interval(d["outputs"][o]["cer"]["mtl_minus_stl"].get("ci95"))
                parts.append(f"MTL {verb} {o} ({diff:+.2f} CER points" + (f", 95% CI{ci}" if ci else "") + ")")
        lines.append(f"- **{lang}**: " + "; ".join(parts) + ".")
    summaries = {lang: d["entanglement"] for lang, d in data["languages"].items() if d.get("entanglement")}
    if summaries:
        lines += ["", "## Korean vs English: entanglement (stage 10)", ""]
        lines += comparison_lines(summaries)
    lines += mdd_lines(data)
    lines += provenance_lines(data)
    return "\n".join(lines) + "\n"


MDD_REFERENCES = ("prompted", "prompt_free")


def mdd_rows(r: Recipe, configs: Sequence[str], suffix: str, per_cfg: Mapping[str, Any]) -> Dict[str, Any]:
    """F1 of each config's surface MDD, prompted and prompt-free, with paired-bootstrap intervals
    against STL-surface (prompted) and against MTL (both), over the test utterances."""
    rows: Dict[str, Any] = {}
    counts: Dict[Tuple[str, str], Any] = {}
    for c in configs:
        entry = (per_cfg.get(c) or {}).get("surface") or {}
        if "mdd" not in entry:
            continue
        rows[c] = {ref: {k: entry["mdd"].get(ref, {}).get(k) for k in ("precision", "recall", "f1")}
                   for ref in MDD_REFERENCES}
        for ref in MDD_REFERENCES:
            counts[(c, ref)] = r.mdd_counts(c, suffix, entry, ref)
    for c, row in rows.items():
        for ref in MDD_REFERENCES:
            for base in ("stl_surface", "mtl"):
                if base == c or base not in rows:
                    continue
                a, b = counts.get((base, ref)), counts.get((c, ref))
                d = paired_f1_difference(a, b) if a and b else None
                row[ref][f"vs_{base}"] = None if d is None else {
                    "diff": round(d["diff"], 2), "ci95": [round(d["lo"], 2), round(d["hi"], 2)]}
    return rows


def mdd_lines(data: Dict[str, Any]) -> List[str]:
    """The MDD table: F1 per config, differences with intervals; "not resolved" where they span 0."""
    rows = [(lang, c, v) for lang, d in data["languages"].items() for c, v in (d.get("mdd") or {}).items()]
    if not rows:
        return []
    lines = ["", "## Mispronunciation detection (surface output, F1 %)", "",
             "Prompted: canonical units from `text_canonical`; prompt-free: from the model's own meaning "
             "hypothesis. Brackets: 95% paired-bootstrap interval over the test utterances.", "",
             "| language | config | prompted F1 | vs STL-surface | vs MTL | prompt-free F1 | vs MTL |",
             "|---|---|---|---|---|---|---|"]

    def diff(v: Optional[Dict[str, Any]]) -> str:
        if not v:
            return "n/a"
        lo, hi = v["ci95"]
        return f"{v['diff']:+.2f} [{lo:+.2f}, {hi:+.2f}]" + ("" if lo > 0 or hi < 0 else " (not resolved)")

    for lang, c, v in rows:
        p, f = v["prompted"], v["prompt_free"]
        lines.append(f"| {lang} | {c} | {_fmt(p.get('f1'))} | {diff(p.get('vs_stl_surface'))} | "
                     f"{diff(p.get('vs_mtl'))} | {_fmt(f.get('f1'))} | {diff(f.get('vs_mtl'))} |")
    return lines


def provenance_lines(data: Dict[str, Any]) -> List[str]:
    """Where every number came from: commit, config digest, training inputs, seed, decode options."""
    rows = [(lang, c, p) for lang, d in data["languages"].items() for c, p in d.get("provenance", {}).items()]
    if not rows:
        return []
    lines = ["", "## Provenance (results.json of each model)", "",
             "| language | config | toolkit commit | config sha1 | training inputs | seed | decode |",
             "|---|---|---|---|---|---|---|"]
    commits = set()
    for lang, c, p in rows:
        if not p:
            lines.append(f"| {lang} | {c} | not recorded (scored before provenance was kept) | | | | |")
            continue
        commit = str(p.get("commit", "unknown"))[:10] + (" (dirty)" if p.get("dirty") else "")
        commits.add(commit)
        decode = "; ".join(" ".join(f"{k}={v}" for k, v in sorted(d.get("options", {}).items()) if v != "")
                           for d in (p.get("decode") or {}).values())
        lines.append(f"| {lang} | {c} | `{commit}` | `{str(p.get('config_sha1', ''))[:12]}` "
                     f"| `{p.get('inputs_digest') or 'n/a'}` | {p.get('seed', 'n/a')} | {decode or 'n/a'} |")
    if len(commits) > 1:
        lines += ["", f"Note: these results come from {len(commits)} different toolkit states; "
                  "compare them only if the code between those commits did not change the models."]
    return lines


def surface_verdicts(data: Dict[str, Any]) -> List[str]:
    """One plain sentence per method and language: did it shrink MTL's surface penalty, by how much.

    The penalty is MTL−STL surface CER; a method's remaining penalty is its own
    surface CER − STL.  Where MTL did not hurt surface there is nothing to reduce,
    and the sentence says whether the method kept MTL's surface gain instead.
    Brackets: 95% paired-bootstrap intervals over the test utterances.
    """
    out = []
    for lang, d in data["languages"].items():
        mtl_diff = d["outputs"]["surface"]["cer"]["mtl_minus_stl"]
        mtl_gap = mtl_diff["abs"]
        for c, v in d["methods"].items():
            gap = v["surface"]["vs_stl"]["abs"]
            if mtl_gap is None or gap is None:
                out.append(f"{lang} {c}: not available")
                continue
            diffs = f"({c}−STL {_fmt_diff(v['surface']['vs_stl'])}, {c}−MTL {_fmt_diff(v['surface']['vs_mtl'])})"
            if mtl_gap > 0 and gap < mtl_gap:
                share = (mtl_gap - gap) / mtl_gap * 100.0
                out.append(f"{lang} {c}: **reduced** the MTL surface penalty from {mtl_gap:+.2f} to "
                           f"{gap:+.2f} CER points (by {mtl_gap - gap:.2f} points, {share:.0f}% of it) {diffs}")
            elif mtl_gap > 0:
                out.append(f"{lang} {c}: did **not** reduce the MTL surface penalty of {mtl_gap:+.2f} {diffs}")
            else:
                kept = "kept all of" if gap <= mtl_gap else ("kept part of" if gap < 0 else "lost")
                out.append(f"{lang} {c}: MTL did not hurt surface (MTL−STL {_fmt_diff(mtl_diff)}), so there "
                           f"was no penalty to reduce; {c} {kept} MTL's surface gain {diffs}")
    return out


def _last(xs: Optional[Sequence[Optional[float]]]) -> Optional[float]:
    return xs[-1] if xs else None


def _mean(xs: Optional[Sequence[Optional[float]]]) -> Optional[float]:
    vals = [x for x in (xs or []) if x is not None]
    return sum(vals) / len(vals) if vals else None


def task_cka(analysis: Dict[str, Any], size: str, tag: str) -> Dict[str, Optional[float]]:
    """CKA between the two outputs' representations inside model ``tag`` (None where not analysed)."""
    g = (analysis.get("groups") or {}).get(size) or {}
    pair = g.get("encoder_cka", {}).get("pairs", {}).get(f"{tag}:surface_vs_{tag}:meaning", {})
    return {"contexts": _mean(g.get("context_cka", {}).get(tag, {}).get("linear", {}).get("diag")),
            "encoder": _last(pair.get("linear", {}).get("diag"))}


def entanglement_summary(analysis: Dict[str, Any], size: str, mtl_tag: str) -> Dict[str, Optional[float]]:
    """The scalars of one recipe's stage-10 analysis that the cross-language table compares."""
    g = (analysis.get("groups") or {}).get(size)
    if not g:
        return {}
    mtl = mtl_tag if mtl_tag in g.get("mtl", []) else (g.get("mtl") or [None])[0]
    pairs = g.get("encoder_cka", {}).get("pairs", {})

    def enc(pair: str) -> Optional[float]:
        return _last(pairs.get(pair, {}).get("linear", {}).get("diag"))

    dec = g.get("decoder_cka", {}).get(mtl, {})
    spearman = g.get("divergence", {}).get("spearman", {}).get(mtl, {}).get("surface", {})
    return {
        "encoder CKA, STL-surface vs STL-meaning (last layer)": enc("stl_surface_vs_stl_meaning"),
        "encoder CKA, MTL vs STL-surface (last layer)": enc(f"{mtl}_vs_stl_surface"),
        "encoder CKA, MTL vs STL-meaning (last layer)": enc(f"{mtl}_vs_stl_meaning"),
        "MTL surface vs meaning decoder contexts, CKA (mean over layers)":
            _mean(g.get("context_cka", {}).get(mtl, {}).get("linear", {}).get("diag")),
        "decoder CKA, MTL vs STL surface decoder (last layer)": _last(dec.get("surface", {}).get("linear", {}).get("diag")),
        "decoder CKA, MTL vs STL meaning decoder (last layer)": _last(dec.get("meaning", {}).get("linear", {}).get("diag")),
        "task-vector cosine, whole encoder": g.get("task_vectors", {}).get("all", {}).get("cosine"),
        "gradient cosine surface vs meaning, whole encoder": g.get("gradient_conflict", {}).get(mtl, {}).get("all", {}).get("mean"),
        "Spearman rho, divergence vs MTL-STL surface CER": spearman.get("rho"),
        "  (p-value)": spearman.get("p"),
    }


def comparison_lines(summaries: Dict[str, Dict[str, Optional[float]]]) -> List[str]:
    """Korean vs English side by side: the entanglement scalars of each recipe."""
    keys: List[str] = []
    for summ in summaries.values():
        keys += [k for k in summ if k not in keys]
    langs = list(summaries)
    out = ["| quantity | " + " | ".join(langs) + " |", "|---|" + "---|" * len(langs)]
    for k in keys:
        vals = [summaries[lang].get(k) for lang in langs]
        out.append(f"| {k} | " + " | ".join("n/a" if v is None else f"{v:.3f}" for v in vals) + " |")
    out += ["", "CKA near 1 = the two representations are the same up to rotation and scale (entangled); "
            "negative gradient cosines = the tasks pull the shared encoder in conflicting directions.",
            "Per-recipe details and figures: " + ", ".join(f"`{lang}`: exp/analysis/REPORT.md" for lang in langs)]
    return out
