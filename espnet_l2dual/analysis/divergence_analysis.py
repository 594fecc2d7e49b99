"""Error rate by surface–meaning divergence, MTL minus STL, and its rank correlation.

The question: does multi-task training hurt (or help) an output more on utterances
whose pronunciation departs further from the intended words?  Errors are recounted
per utterance from the decoded texts (same units as stage 9), so the per-bin rates
match stage 9's and the per-utterance differences feed a Spearman correlation.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from scipy import stats

from espnet_l2dual.errors import DataError
from espnet_l2dual.scoring.by_divergence import edit_distance, parse_bins, rates_by_divergence
from espnet_l2dual.scoring.units import to_units
from espnet_l2dual.utils.fileio import iter_table, read_table

KINDS = ("cer", "wer")
Units = Dict[str, Dict[str, Tuple[List[str], List[str]]]]  # kind -> utt -> (ref units, hyp units)


def read_hypotheses(path: Path) -> Dict[str, str]:
    if not path.is_file():
        raise DataError(path, None, "decoded text not found (run stage 8 for this model)")
    return {utt: text for _, utt, text in iter_table(path, allow_empty_value=True)}


def output_units(ref: Mapping[str, str], hyp: Mapping[str, str], lang: str) -> Units:
    """Reference and hypothesis units per kind; a missing hypothesis counts as empty."""
    return {k: {u: (to_units(t, k, lang), to_units(hyp.get(u, ""), k, lang)) for u, t in ref.items()}
            for k in KINDS}


def utterance_rates(units: Units, kind: str = "cer") -> Dict[str, float]:
    """Per-utterance error rate in % (edits / reference length); empty references are left out."""
    out = {}
    for utt, (ref, hyp) in units[kind].items():
        if ref:
            out[utt] = 100.0 * edit_distance(ref, hyp) / len(ref)
    return out


def spearman(xs: Sequence[float], ys: Sequence[float]) -> Dict[str, Optional[float]]:
    """Spearman rho and two-sided p-value; None when undefined (fewer than 3 points or a constant)."""
    n = len(xs)
    if n < 3 or len(set(xs)) < 2 or len(set(ys)) < 2:
        return {"rho": None, "p": None, "n": n}
    res = stats.spearmanr(xs, ys)
    rho, p = float(res.statistic), float(res.pvalue)
    return {"rho": None if math.isnan(rho) else rho, "p": None if math.isnan(p) else p, "n": n}


def analyse(models: Mapping[str, Mapping[str, Path]], ref_paths: Mapping[str, Path],
            utt2div: Mapping[str, float], stl: Mapping[str, str], mtls: Sequence[str],
            lang: str, bins_spec: str) -> dict:
    """Divergence analysis of one size group.

    ``models[tag][output]`` is the decoded text of that model and output; ``stl[output]``
    the STL tag of each output.  Returns per-model/output bin rates, MTL−STL per bin and
    Spearman(divergence, MTL−STL per-utterance CER).
    """
    bins = parse_bins(bins_spec)
    refs = {o: read_table(p) for o, p in ref_paths.items()}
    units: Dict[str, Dict[str, Units]] = {}
    errors: Dict[str, Dict[str, dict]] = {}
    labels: List[str] = [b.label for b in bins]
    for tag, outputs in models.items():
        for o, hyp_path in outputs.items():
            u = output_units(refs[o], read_hypotheses(hyp_path), lang)
            units.setdefault(tag, {})[o] = u
            rows = rates_by_divergence(bins, utt2div, u)
            for row in rows:
                if row["bin"] not in labels:
                    labels.append(row["bin"])  # the overflow bin, when something falls there
            total = {k: _overall(u[k]) for k in KINDS}
            errors.setdefault(tag, {})[o] = {"rows": rows, **total}
    # align every model's rows on the same bin labels
    for tag in errors:
        for o, e in errors[tag].items():
            by = {r["bin"]: r for r in e.pop("rows")}
            e["bins"] = [{"bin": b, "n_utt": by.get(b, {}).get("n_utt", 0),
                          **{k: by.get(b, {}).get(k) for k in KINDS}} for b in labels]
    diff: Dict[str, dict] = {}
    corr: Dict[str, dict] = {}
    for mtl in mtls:
        for o, stl_tag in stl.items():
            if o not in errors.get(mtl, {}) or o not in errors.get(stl_tag, {}):
                continue
            m, s = errors[mtl][o], errors[stl_tag][o]
            diff.setdefault(mtl, {})[o] = {
                "overall": {k: _sub(m[k], s[k]) for k in KINDS},
                "bins": [{"bin": mb["bin"], "n_utt": mb["n_utt"], **{k: _sub(mb[k], sb[k]) for k in KINDS}}
                         for mb, sb in zip(m["bins"], s["bins"])],
            }
            rm, rs = utterance_rates(units[mtl][o]), utterance_rates(units[stl_tag][o])
            utts = [u for u in rm if u in rs and u in utt2div]
            corr.setdefault(mtl, {})[o] = spearman([utt2div[u] for u in utts], [rm[u] - rs[u] for u in utts])
    return {"bins": labels, "error": errors, "mtl_minus_stl": diff, "spearman": corr}


def _overall(units: Mapping[str, Tuple[List[str], List[str]]]) -> Optional[float]:
    err = sum(edit_distance(r, h) for r, h in units.values())
    n = sum(len(r) for r, _ in units.values())
    return 100.0 * err / n if n else None


def _sub(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return None if a is None or b is None else a - b
