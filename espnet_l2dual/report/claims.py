"""The study's claims in words: one paragraph per claim, each part judged by its adjusted interval.

Numbers come from :func:`espnet_l2dual.analysis.claims.claim_tests` and the report's own
MTL−STL rows. A part reads "supported" or "refuted" only where its (Holm-adjusted) interval
excludes 0 (:func:`espnet_l2dual.report.cross_language.judge`); a claim is "supported" only
where every part is, "refuted" where a part is refuted and none supported, otherwise
"not resolved" (naming the parts that were resolved).
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Tuple

from espnet_l2dual.analysis.claims import FAMILY
from espnet_l2dual.report.cross_language import adjusted_label, judge
from espnet_l2dual.report.verdict import format_ci

Part = Tuple[str, Optional[str]]  # (words, "supported" | "refuted" | None)
TITLE = "## The study's claims"


def _ci_words(d: Mapping[str, Any]) -> str:
    ci = d.get("ci_adj") or d.get("ci95")
    return f"{adjusted_label(d)} {format_ci(ci)}" if ci else "no interval"


def _part(what: str, d: Mapping[str, Any], supports: str, unit: str = "") -> Part:
    """``supports``: "higher" or "lower", the direction the claim predicts for ``d['diff']``."""
    v = judge(d, lower="lower", higher="higher")
    if d.get("diff") is None:
        return f"{what}: not computed ({d.get('no_ci', 'missing')})", None
    head = f"{what} {d['diff']:+.2f}{unit}"
    if not v.resolved:
        return f"{head}, {v.text}", None
    status = "supported" if v.direction == supports else "refuted"
    return f"{head}, {_ci_words(d)}: {status}", status


def _verdict(parts: List[Part]) -> str:
    statuses = [s for _, s in parts]
    if statuses and all(s == "supported" for s in statuses):
        return "supported"
    if "refuted" in statuses and "supported" not in statuses:
        return "refuted"
    resolved = [f"{s}: {w.split(':')[0]}" for w, s in parts if s]
    return "not resolved" + (f" as a whole ({'; '.join(resolved)})" if resolved else "")


def _paragraph(title: str, parts: List[Part], tail: str = "") -> str:
    body = "; ".join(w for w, _ in parts) if parts else "nothing to test in this report"
    return f"- **{title}: {_verdict(parts) if parts else 'not tested here'}.** {body}.{tail}"


def _mtl_minus_stl(data: Mapping[str, Any], output: str, supports: str) -> List[Part]:
    parts = []
    for lang, d in data["languages"].items():
        row = d["outputs"][output]["rows"][0]
        parts.append(_part(f"{lang} MTL−STL {output}", row["mtl_minus_stl"], supports, f" {row['metric']} points"))
    return parts


def claim_lines(data: Mapping[str, Any]) -> List[str]:
    """The section: how the claims are tested, then one paragraph per claim."""
    claims: Dict[str, Any] = data.get("claims") or {}
    comps: Dict[str, Any] = claims.get("comparisons", {})
    n_seeds = len(data["seeds"])
    surface = _mtl_minus_stl(data, "surface", "higher")
    if "surface penalty, en − ko" in comps:
        surface.append(_part("English minus Korean in that difference", comps["surface penalty, en − ko"], "higher"))
    pull = [_part(k.split(" (")[0], v, "higher") for k, v in comps.items() if "toward meaning" in k]
    rho = claims.get("within_speaker_rho", {})
    rho_words = "; ".join(f"{lang}: " + ", ".join(f"{x:+.3f}" for x in v) for lang, v in rho.items())
    divergence = (f"- **The surface penalty grows with surface–meaning divergence: not tested here.** A seed study "
                  f"does not intervene on divergence; within-speaker Spearman rho of divergence vs the per-utterance "
                  f"MTL−STL surface error, per seed: {rho_words or 'not computed'} (no verdict from a correlation). "
                  f"The controlled-divergence grid (`run_all.sh --grid_error_scales`) is its test.")
    return [TITLE, "",
            f"Over {n_seeds} seed(s). The per-language MTL−STL parts are the table's comparisons (Holm within each "
            f"language's MTL−STL family); the other parts form one family, \"{FAMILY}\" "
            f"({len(comps)} comparison{'' if len(comps) == 1 else 's'}, Holm): English minus Korean by a Welch interval over the languages' "
            f"independent seeds, the encoder's pull toward meaning (debiased CKA of MTL's last encoder layer with "
            f"STL-meaning's minus with STL-surface's) by a t interval over seeds paired by seed. A part is "
            f"supported or refuted only where its adjusted interval excludes 0.", "",
            _paragraph("MTL improves the meaning transcription", _mtl_minus_stl(data, "meaning", "lower")),
            _paragraph("MTL degrades the surface transcription, most in English", surface),
            divergence,
            _paragraph("It goes with encoder entanglement: MTL's encoder is pulled toward meaning, more in English",
                       pull)]
