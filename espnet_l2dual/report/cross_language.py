"""REPORT.md of run_all.sh: the study's headline table across languages, in words.

Rendering only: the numbers come from :func:`espnet_l2dual.analysis.study.collect`
(report.json), and every sentence about a difference is worded by
:func:`espnet_l2dual.report.verdict.verdict` from its interval. Each output is named
by its headline metric (PER for phones, CER for characters).
"""

from __future__ import annotations

import datetime
import os
import platform
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

from espnet_l2dual.analysis.study import OUTPUTS
from espnet_l2dual.report.verdict import Verdict, format_ci, verdict

CHECKPOINT_RULE = ("checkpoints: every model averages its best checkpoints by validation loss; for MTL (and every "
                   "two-output config) that is the weighted sum of both outputs' losses, for STL the loss of its one output, "
                   "so MTL's surface and meaning checkpoints are not chosen per output")


def _num(v: Optional[float], signed: bool = False, digits: int = 2) -> str:
    if v is None:
        raise ValueError("a number the report shows is missing from report.json")
    return f"{v:+.{digits}f}" if signed else f"{v:.{digits}f}"


def value(v: Any, digits: int = 3) -> str:
    """A number, or what a skipped / not applicable quantity says instead."""
    if isinstance(v, dict) and "skipped" in v:
        return f"skipped ({v['skipped']})"
    if isinstance(v, dict) and "not_applicable" in v:
        return f"— ({v['not_applicable']})"
    return _num(v, digits=digits)


def _no_ci(d: Mapping[str, Any]) -> str:
    return f"no interval could be computed ({d.get('no_ci', 'unknown reason')})"


def interval(d: Mapping[str, Any]) -> str:
    """``[-0.22, +1.56]``, or why there is none."""
    return format_ci(d["ci95"]) if d.get("ci95") else f"none ({d.get('no_ci', 'unknown reason')})"


def diff(d: Mapping[str, Any]) -> str:
    """A signed difference with its interval: ``+0.66 [-0.22, +1.56]``."""
    return f"{_num(d['abs'], signed=True)} {interval(d)}"


def adjusted_label(d: Mapping[str, Any]) -> str:
    """``Holm-adjusted 99.2% CI`` for a comparison of an adjusted family, else ``95% CI``."""
    return f"Holm-adjusted {100 * d['level_adj']:.1f}% CI" if d.get("ci_adj") else "95% CI"


def judge(d: Mapping[str, Any], lower: str = "lower", higher: str = "higher") -> Verdict:
    """Words from the family-adjusted interval where there is one (the raw 95% interval otherwise)."""
    ci = d.get("ci_adj") or d.get("ci95")
    return verdict(ci, lower=lower, higher=higher, no_ci=_no_ci(d), label=adjusted_label(d))


def adjusted(d: Mapping[str, Any]) -> str:
    """``[-3.10, +0.20] p=0.012 p_Holm=0.048``: the adjusted interval and both p-values."""
    if not d.get("ci_adj"):
        return "—"
    return f"{format_ci(d['ci_adj'])} ({100 * d['level_adj']:.1f}%) p={d['p']:.3g} p_Holm={d['p_adj']:.3g}"


def method_statement(data: Mapping[str, Any]) -> List[str]:
    """The report's statistics, stated once: unit, method, families and their adjustment."""
    iv = data.get("interval") or {}
    fams = "; ".join(f"{name} ({n})" for d in data["languages"].values() for name, n in d.get("families", {}).items())
    return [f"- intervals: 95% CI over {iv.get('unit', 'utterances')} ({iv.get('method', 'percentile bootstrap')}, "
            f"{iv.get('n_resamples', 'n/a')} resamples, both systems resampled with the same draw); the differences "
            "and their intervals come from the same per-utterance counts (sclite's alignments); a test set with a "
            "single speaker is resampled over utterances (each record's `unit` in report.json says which)",
            f"- multiplicity: {iv.get('adjustment', 'none')}; families (comparisons): {fams or 'none'}; the adjusted "
            "column gives each comparison's Holm-level interval, raw and Holm-adjusted p-values; words "
            "(hurt/helped/higher/lower) only where the adjusted interval excludes 0, else \"not resolved\""]


def _rel(v: Optional[float]) -> str:
    return "— (STL is 0)" if v is None else f"{v:+.1f}%"


LANGUAGE_NAMES = {"ko": "Korean", "en": "English"}


def language_title(langs: Sequence[str]) -> str:
    """``Korean vs English`` when both ran; the one language's name when only one did."""
    return " vs ".join(LANGUAGE_NAMES.get(lang, lang) for lang in langs)


def details_link(target: Path, out_dir: Optional[Path]) -> str:
    """A Markdown link to a stage-10 REPORT.md, relative to the report's own folder."""
    href = os.path.relpath(target, out_dir) if out_dir is not None else str(target)
    return f"[{Path(href).as_posix()}]({Path(href).as_posix()})"


def absent_lines(data: Dict[str, Any]) -> List[str]:
    absent = data.get("absent_configs") or {}
    if not absent:
        return []
    return ["", "Not in this report (never scored in that recipe: no results.json): "
            + "; ".join(f"{lang}: {', '.join(cs)}" for lang, cs in absent.items()) + "."]


def render(data: Dict[str, Any], out_dir: Optional[Path] = None, details: Optional[Mapping[str, Path]] = None) -> str:
    """REPORT.md: the headline table, method rows, verdicts, entanglement, MDD, provenance."""
    now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    lines = [
        "# espnet-l2dual: STL vs MTL across languages",
        "",
        f"- date: {now}; machine: {platform.machine()}, {platform.node()}; test set: `{data['test_set']}`",
        "- error rates in %, lower is better; each output is judged by its headline metric: CER for "
        "characters (Korean: syllables), PER for phones, TER for other tokens",
        *method_statement(data),
        "- one training run per config: the intervals do not cover seed-to-seed training variation",
        "- " + CHECKPOINT_RULE,
        "",
        "| language | output | metric | STL | MTL | MTL−STL | 95% CI | Holm-adjusted | relative |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for lang, d in data["languages"].items():
        for o in OUTPUTS:
            for r in d["outputs"][o]["rows"]:
                dd = r["mtl_minus_stl"]
                lines.append(f"| {lang} | {o} | {r['metric']} | {_num(r['stl'])} | {_num(r['mtl'])} | "
                             f"{_num(dd['abs'], signed=True)} | {interval(dd)} | {adjusted(dd)} | {_rel(dd['rel'])} |")
    lines += method_lines(data)
    lines += absent_lines(data)
    lines += ["", "## Reading the table", ""]
    for lang, d in data["languages"].items():
        parts = [mtl_sentence(o, d["outputs"][o]["rows"][0]) for o in OUTPUTS]
        lines.append(f"- **{lang}**: " + "; ".join(parts) + ".")
    if data["with_analysis"]:
        lines += ["", f"## {language_title(list(data['languages']))}: entanglement (stage 10)", ""]
        stage10 = {lang: (details or {}).get(lang, Path(d["recipe"]) / "exp" / "analysis" / "REPORT.md")
                   for lang, d in data["languages"].items()}
        lines += comparison_lines({lang: d["entanglement"] for lang, d in data["languages"].items()},
                                  {lang: details_link(p, out_dir) for lang, p in stage10.items()})
    else:
        lines += ["", "Stage 10 (entanglement) is not in this report: made with --without_analysis."]
    lines += mdd_lines(data)
    lines += provenance_lines(data)
    return "\n".join(lines) + "\n"


def mtl_sentence(o: str, row: Mapping[str, Any]) -> str:
    """"MTL hurt surface (...)" where the interval excludes 0, else "no difference resolved"."""
    d = row["mtl_minus_stl"]
    points = f"MTL−STL {_num(d['abs'], signed=True)} {row['metric']} points"
    v = judge(d, lower="helped", higher="hurt")
    if v.resolved:
        return f"MTL {v.text} {o} ({points}, {adjusted_label(d)} {format_ci(d.get('ci_adj') or d['ci95'])})"
    return f"{o}: {points}, {v.text}"


def method_lines(data: Dict[str, Any]) -> List[str]:
    """The table of every config beyond STL/MTL, and one verdict per method on the surface penalty."""
    methods = [(lang, c, v) for lang, d in data["languages"].items() for c, v in d["methods"].items()]
    if not methods:
        return []
    metrics = "; ".join(f"{lang}: surface {d['outputs']['surface']['metric']['name']}, meaning "
                        f"{d['outputs']['meaning']['metric']['name']}" for lang, d in data["languages"].items())
    lines = ["", "## Disentangling methods", "",
             f"Headline error rate per output ({metrics}). Brackets: 95% paired-bootstrap interval "
             f"over {(data.get('interval') or {}).get('unit', 'utterances')} (raw; the verdicts below read the "
             "Holm-adjusted interval of the family of method comparisons)."]
    with_cka = data["with_analysis"]
    if with_cka:
        lines[-1] += (" Task CKA: how alike the two outputs' representations are inside one model (stage 10): "
                      "decoder source-attention contexts (mean over layers) and, where the outputs have encoder "
                      "paths of their own, the last encoder layer of the two paths; plain MTL for reference.")
    cka_head = " task CKA (debiased): contexts | task CKA (debiased): encoder |" if with_cka else ""
    lines += ["", "| language | config | surface | vs STL | vs MTL | meaning | vs STL | vs MTL |" + cka_head,
              "|---|---|---|---|---|---|---|---|" + ("---|---|" if with_cka else "")]

    def cka(lang: str, c: str) -> str:
        if not with_cka:
            return ""
        t = data["languages"][lang]["task_cka"][c]
        return f" {value(t['contexts'])} | {value(t['encoder'])} |"

    for lang, d in data["languages"].items():
        if d["methods"]:
            s, m = (d["outputs"][o]["rows"][0] for o in OUTPUTS)
            lines.append(f"| {lang} | mtl | {_num(s['mtl'])} | {diff(s['mtl_minus_stl'])} | 0 "
                         f"| {_num(m['mtl'])} | {diff(m['mtl_minus_stl'])} | 0 |" + cka(lang, "mtl"))
    for lang, c, v in methods:
        s, m = v["surface"], v["meaning"]
        lines.append(f"| {lang} | {c} | {_num(s['value'])} | {diff(s['vs_stl'])} | {diff(s['vs_mtl'])} "
                     f"| {_num(m['value'])} | {diff(m['vs_stl'])} | {diff(m['vs_mtl'])} |" + cka(lang, c))
    lines += ["", "Did a method reduce the MTL surface degradation? (points of the surface headline metric; "
              "brackets: raw 95% paired-bootstrap interval, which does not cover seed-to-seed training variation; "
              "words follow the Holm-adjusted interval)", ""]
    lines += [f"- {line}" for line in surface_verdicts(data)]
    return lines


def surface_verdicts(data: Dict[str, Any]) -> List[str]:
    """One sentence per method and language: did it shrink MTL's surface penalty?

    The penalty exists only where MTL−STL's interval lies above 0; a method reduced it
    only where method−MTL's interval lies below 0. Anything else is said to be unresolved.
    """
    out = []
    for lang, d in data["languages"].items():
        row = d["outputs"]["surface"]["rows"][0]
        mtl_d, name = row["mtl_minus_stl"], row["metric"]
        mtl_v = judge(mtl_d, lower="helped", higher="hurt")
        for c, v in d["methods"].items():
            vs_mtl, vs_stl = v["surface"]["vs_mtl"], v["surface"]["vs_stl"]
            diffs = f"({c}−STL {diff(vs_stl)}, {c}−MTL {diff(vs_mtl)})"
            against_mtl = judge(vs_mtl)
            if mtl_v.direction == "higher":
                penalty = f"the MTL surface penalty of {_num(mtl_d['abs'], True)} {name} points"
                if against_mtl.direction == "lower":
                    rest = judge(vs_stl, lower="below STL", higher="a penalty remains against STL")
                    rest_text = rest.text if rest.resolved else f"against STL: {rest.text}"
                    out.append(f"{lang} {c}: **reduced** {penalty} by {-vs_mtl['abs']:.2f} points; {rest_text} {diffs}")
                elif against_mtl.direction == "higher":
                    out.append(f"{lang} {c}: did **not** reduce {penalty}; it is worse than MTL {diffs}")
                else:
                    out.append(f"{lang} {c}: no reduction of {penalty} resolved: {c}−MTL {against_mtl.text} {diffs}")
                continue
            if mtl_v.direction == "lower":
                head = f"MTL helped surface (MTL−STL {diff(mtl_d)}), so there was no penalty to reduce"
            else:
                head = (f"MTL−STL surface {_num(mtl_d['abs'], True)} {name} points, {mtl_v.text}, so there is "
                        "no resolved penalty to reduce")
            rel = {"lower": f"{c} is better than MTL", "higher": f"{c} is worse than MTL"}.get(
                against_mtl.direction or "", f"{c} vs MTL: {against_mtl.text}")
            out.append(f"{lang} {c}: {head}; {rel} {diffs}")
    return out


def mdd_lines(data: Dict[str, Any]) -> List[str]:
    """The MDD table: F1 per config, differences with intervals; "not resolved" where they span 0."""
    rows = [(lang, c, v) for lang, d in data["languages"].items() for c, v in d["mdd"].items()]
    if not rows:
        return []
    lines = ["", "## Mispronunciation detection (surface output, F1 %)", "",
             "Prompted: canonical units from `text_canonical`; prompt-free: from the model's own meaning "
             "hypothesis. Brackets: raw 95% paired-bootstrap interval over "
             f"{(data.get('interval') or {}).get('unit', 'utterances')}; \"not resolved\" follows the Holm-adjusted "
             "interval of the MDD family.", "",
             "| language | config | prompted F1 | vs STL-surface | vs MTL | prompt-free F1 | vs MTL |",
             "|---|---|---|---|---|---|---|"]

    def f1(block: Mapping[str, Any]) -> str:
        return f"not computed ({block['note']})" if "note" in block else _num(block["f1"])

    def vs(block: Mapping[str, Any], base: str) -> str:
        key = f"vs_{base}"
        if "note" in block or key not in block:
            return "—"
        d = block[key]
        if not d.get("ci95"):
            return f"no interval ({d.get('no_ci', 'unknown reason')})"
        v = judge(d)
        return f"{_num(d['diff'], signed=True)} {format_ci(d['ci95'])}" + ("" if v.resolved else " (not resolved)")

    for lang, c, v in rows:
        p, f = v["prompted"], v["prompt_free"]
        lines.append(f"| {lang} | {c} | {f1(p)} | {vs(p, 'stl_surface')} | {vs(p, 'mtl')} | {f1(f)} | {vs(f, 'mtl')} |")
    return lines


def provenance_lines(data: Dict[str, Any]) -> List[str]:
    """Where every number came from: commit, config digest, training inputs, seed, decode options."""
    rows = [(lang, c, p) for lang, d in data["languages"].items() for c, p in d["provenance"].items()]
    lines = ["", "## Provenance (results.json of each model)", "",
             "| language | config | toolkit commit | config sha1 | training inputs | seed | decode |",
             "|---|---|---|---|---|---|---|"]
    commits = set()
    for lang, c, p in rows:
        if not p:
            lines.append(f"| {lang} | {c} | not recorded (scored without provenance) | | | | |")
            continue
        commit = str(p.get("commit", "not recorded"))[:10] + (" (dirty)" if p.get("dirty") else "")
        commits.add(commit)
        decode = "; ".join(dict.fromkeys(  # one entry per distinct setting, not one per decoded set
            " ".join(f"{k}={v}" for k, v in sorted(d.get("options", {}).items()) if v != "")
            for d in (p.get("decode") or {}).values()))
        lines.append(f"| {lang} | {c} | `{commit}` | `{str(p.get('config_sha1', ''))[:12] or 'not recorded'}` "
                     f"| `{p.get('inputs_digest') or 'not recorded'}` | {p.get('seed', 'not recorded')} "
                     f"| {decode or 'not recorded'} |")
    if len(commits) > 1:
        lines += ["", f"Note: these results come from {len(commits)} different toolkit states; "
                  "compare them only if the code between those commits did not change the models."]
    return lines


def comparison_lines(summaries: Dict[str, Dict[str, Any]], links: Optional[Mapping[str, str]] = None) -> List[str]:
    """The languages side by side: the entanglement scalars of each recipe."""
    keys: List[str] = []
    for summ in summaries.values():
        keys += [k for k in summ if k not in keys]
    langs = list(summaries)
    out = ["| quantity | " + " | ".join(langs) + " |", "|---|" + "---|" * len(langs)]
    for k in keys:
        out.append(f"| {k} | " + " | ".join(value(summaries[lang].get(k, {"skipped": "not in this analysis"}))
                                            for lang in langs) + " |")
    out += ["", "CKA near 1 = the two representations are the same up to rotation and scale (entangled); "
            "negative gradient cosines = the tasks pull the shared encoder in conflicting directions. "
            "CKA is the debiased estimator (unbiased HSIC). These are single estimates: their intervals "
            "(speakers x utterances), permutation nulls and worded comparisons are in each recipe's REPORT.md; "
            "no difference between the languages is worded here.",
            "Per-recipe details and figures: " + ", ".join(
                f"`{lang}`: {(links or {}).get(lang, 'exp/analysis/REPORT.md')}" for lang in langs)]
    return out
