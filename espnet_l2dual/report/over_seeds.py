"""REPORT.md of ``run_all.sh --seeds``: the study over training seeds, in words.

Numbers from :func:`espnet_l2dual.analysis.seed_study.collect_over_seeds`; every
sentence about a difference goes through :func:`espnet_l2dual.report.verdict.verdict`
with the hull of the two intervals (seeds x utterances bootstrap, t over seeds), so a
direction word appears only where both exclude zero.
"""

from __future__ import annotations

import datetime
import platform
from typing import Any, Dict, List, Mapping, Optional, Sequence

from espnet_l2dual.analysis.study import OUTPUTS
from espnet_l2dual.report.claims import claim_lines
from espnet_l2dual.report.cross_language import CHECKPOINT_RULE, adjusted, judge, method_statement, provenance_lines
from espnet_l2dual.report.verdict import format_ci


def _ms(d: Mapping[str, Any], digits: int = 2) -> str:
    """``6.50 ± 0.21``."""
    if d.get("mean") is None:
        raise ValueError("a mean the report shows is missing from report.json")
    sd = "" if d.get("sd") is None else f" ± {d['sd']:.{digits}f}"
    return f"{d['mean']:.{digits}f}{sd}"


def _ci(ci: Optional[Sequence[float]]) -> str:
    return format_ci(ci) if ci else "none"


def _diff(d: Mapping[str, Any]) -> str:
    adj = f" Holm {_ci(d['ci_adj'])}" if d.get("ci_adj") else ""
    return f"{d['diff']:+.2f} boot {_ci(d.get('ci95_bootstrap'))} t {_ci(d.get('ci95_t'))}{adj}"


def render_over_seeds(data: Dict[str, Any]) -> str:
    """REPORT.md: mean ± sd per config, MTL−STL with both intervals, verdicts, entanglement, per seed."""
    seeds = " ".join(map(str, data["seeds"]))
    now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    lines = [
        "# espnet-l2dual: STL vs MTL across languages, over training seeds",
        "",
        f"- date: {now}; machine: {platform.machine()}, {platform.node()}; test set: `{data['test_set']}`; "
        f"seeds: {seeds} (each config trained once per seed; seed i of MTL paired with seed i of STL)",
        "- error rates in %, mean ± sd over seeds; each output judged by its headline metric",
        "- intervals (95%) of MTL−STL: **boot** resamples "
        f"{(data.get('interval') or {}).get('unit', 'utterances x seeds')} together (percentile bootstrap, "
        f"{(data.get('interval') or {}).get('n_resamples', 'n/a')} resamples, seeds crossed with one "
        "speaker/utterance draw); **t** is the Student-t interval of the per-seed differences (seed variation "
        "only, wide with few seeds); both from the same per-utterance counts, centred on the same estimate",
        *method_statement(data)[1:],
        "- " + CHECKPOINT_RULE,
        "",
        "| language | output | metric | STL | MTL | MTL−STL | boot 95% CI | t 95% CI | Holm-adjusted hull | per seed |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for lang, d in data["languages"].items():
        for o in OUTPUTS:
            for r in d["outputs"][o]["rows"]:
                dd = r["mtl_minus_stl"]
                per = ", ".join(f"{x:+.2f}" for x in dd["per_seed"])
                lines.append(f"| {lang} | {o} | {r['metric']} | {_ms(r['stl'])} | {_ms(r['mtl'])} | "
                             f"{dd['diff']:+.2f} | {_ci(dd.get('ci95_bootstrap'))} | {_ci(dd.get('ci95_t'))} "
                             f"| {adjusted(dd)} | {per} |")
    lines += ["", "## Reading the table", ""]
    for lang, d in data["languages"].items():
        parts = []
        for o in OUTPUTS:
            r = d["outputs"][o]["rows"][0]
            v = judge(r["mtl_minus_stl"], lower="helped", higher="hurt")
            points = f"MTL−STL {r['mtl_minus_stl']['diff']:+.2f} {r['metric']} points"
            parts.append(f"MTL {v.text} {o} ({points})" if v.resolved else f"{o}: {points}, {v.text}")
        lines.append(f"- **{lang}**: " + "; ".join(parts) + ".")
    lines += _method_lines(data)
    if data["with_analysis"]:
        lines += _entanglement_lines(data)
    lines += [""] + claim_lines(data)
    lines += ["", "## Per seed", "",
              "Each seed's own study (paired bootstrap over speakers x utterances, one seed) is in report.json "
              "under `per_seed`."]
    for s, sub in data["per_seed"].items():
        lines += ["", f"### seed {s}", ""] + provenance_lines(sub)[3:]
    return "\n".join(lines) + "\n"


def _method_lines(data: Dict[str, Any]) -> List[str]:
    rows = [(lang, c, v) for lang, d in data["languages"].items() for c, v in d["methods"].items()]
    if not rows:
        return []
    lines = ["", "## Disentangling methods (over seeds)", "",
             "| language | config | surface | vs STL | vs MTL | meaning | vs STL | vs MTL |",
             "|---|---|---|---|---|---|---|---|"]
    for lang, c, v in rows:
        s, m = v["surface"], v["meaning"]
        lines.append(f"| {lang} | {c} | {_ms(s['value'])} | {_diff(s['vs_stl'])} | {_diff(s['vs_mtl'])} "
                     f"| {_ms(m['value'])} | {_diff(m['vs_stl'])} | {_diff(m['vs_mtl'])} |")
    lines += [""]
    for lang, c, v in rows:
        w = judge(v["surface"]["vs_mtl"], lower="reduced", higher="raised")
        lines.append(f"- {lang} {c}: surface vs MTL {v['surface']['vs_mtl']['diff']:+.2f}: "
                     + (f"{w.text} the surface error rate of MTL" if w.resolved else w.text))
    return lines


def _entanglement_lines(data: Dict[str, Any]) -> List[str]:
    langs = list(data["languages"])
    lines = ["", "## Entanglement (stage 10), over seeds", "",
             "Mean ± sd over seeds, t 95% interval of the mean; en−ko: Welch 95% interval (independent trainings).",
             "", "| quantity | " + " | ".join(langs) + (" | en−ko |" if "entanglement_en_minus_ko" in data else " |"),
             "|---|" + "---|" * len(langs) + ("---|" if "entanglement_en_minus_ko" in data else "")]
    keys = list(dict.fromkeys(k for lang in langs for k in data["languages"][lang].get("entanglement", {})))
    for key in keys:
        cells = []
        for lang in langs:
            e = data["languages"][lang].get("entanglement", {}).get(key, {})
            cells.append((e["note"] + ": " + ", ".join(f"{x:.3g}" for x in e.get("per_seed", [])) if "p-value" in key
                          else e["note"]) if "note" in e else f"{_ms(e, 3)} {_ci(e.get('ci95_t'))}" if e else "—")
        row = f"| {key} | " + " | ".join(cells) + " |"
        if "entanglement_en_minus_ko" in data:
            b = data["entanglement_en_minus_ko"].get(key)
            welch = _ci(b["ci95_welch"]) if b and b.get("ci95_welch") else f"({b.get('no_ci')})" if b else ""
            row += f" {b['diff']:+.3f} {welch} |" if b else " — |"
        lines.append(row)
    return lines
