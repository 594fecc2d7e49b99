"""Error rate by surface–meaning divergence, MTL minus STL, and its rank correlation.

The question: does multi-task training hurt (or help) an output more on utterances
whose pronunciation departs further from the intended words?  Errors are recounted
per utterance from the decoded texts (same units as stage 9), so the per-bin rates
match stage 9's and the per-utterance differences feed a Spearman correlation.
Each output is judged by its headline error rate (stage 9's: CER for characters, PER
for phones), and the overall MTL−STL difference gets a paired-bootstrap interval so
the report's sentence can say whether it is resolved.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from scipy import stats

from espnet_l2dual.errors import DataError
from espnet_l2dual.scoring.by_divergence import edit_distance, parse_bins, rates_by_divergence
from espnet_l2dual.analysis.within_speaker import speakers_per_bin, within_speaker_correlation
from espnet_l2dual.scoring.blocked_bootstrap import UTTERANCES
from espnet_l2dual.scoring.multiplicity import families
from espnet_l2dual.scoring.paired_bootstrap import interval_record, paired_difference
from espnet_l2dual.scoring.units import Headline, headline, to_units
from espnet_l2dual.utils.fileio import iter_table, read_table

KINDS = ("cer", "wer")
Units = Dict[str, Dict[str, Tuple[List[str], List[str]]]]  # kind -> utt -> (ref units, hyp units)


def read_hypotheses(path: Path) -> Dict[str, str]:
    if not path.is_file():
        raise DataError(path, None, "decoded text not found (run stage 8 for this model)")
    return {utt: text for _, utt, text in iter_table(path, allow_empty_value=True)}


def output_units(ref: Mapping[str, str], hyp: Mapping[str, str], lang: str,
                 kinds: Sequence[str] = KINDS) -> Units:
    """Reference and hypothesis units per kind; a missing hypothesis counts as empty."""
    return {k: {u: (to_units(t, k, lang), to_units(hyp.get(u, ""), k, lang)) for u, t in ref.items()}
            for k in kinds}


def utterance_errors(units: Units, kind: str) -> Dict[str, Tuple[int, int]]:
    """{utt: (edits, reference length)}: the input of the paired bootstrap."""
    return {u: (edit_distance(r, h), len(r)) for u, (r, h) in units[kind].items()}


def headlines_from_results(results: Mapping[str, Path], tasks: Mapping[str, Sequence[str]], test_set: str
                           ) -> Dict[str, Headline]:
    """Each output's headline metric, read from the models' results.json (stage 9).

    Every model of the group must judge an output by the same metric; otherwise their
    difference is not an error-rate difference at all, and this says which disagree.
    """
    from espnet_l2dual.analysis import access

    found: Dict[str, Dict[str, str]] = {}
    out: Dict[str, Headline] = {}
    for tag, path in results.items():
        doc = access.load_results(path)
        for o in tasks[tag]:
            h = access.headline_of(access.output_entry(doc, test_set, o))
            if o in out and out[o] != h:
                other = next(t for t, names in found.items() if o in names)
                raise DataError(path, None, f"{tag} scores {o} by {h.name} ({h.unit} units) but {other} by "
                                f"{out[o].name} ({out[o].unit} units): their difference is not comparable")
            out.setdefault(o, h)
            found.setdefault(tag, {})[o] = h.name
    return out


def utterance_rates(units: Units, kind: str = "cer") -> Dict[str, float]:
    """Per-utterance error rate in % (edits / reference length); empty references are left out."""
    out = {}
    for utt, (ref, hyp) in units[kind].items():
        if ref:
            out[utt] = 100.0 * edit_distance(ref, hyp) / len(ref)
    return out


def spearman(xs: Sequence[float], ys: Sequence[float]) -> Dict[str, Optional[float]]:
    """Spearman rho and two-sided p-value; None, with ``skipped`` saying why, when undefined."""
    n = len(xs)
    if n < 3:
        return {"rho": None, "p": None, "n": n, "skipped": f"undefined: {n} utterances (fewer than 3)"}
    if len(set(xs)) < 2 or len(set(ys)) < 2:
        which = "divergence" if len(set(xs)) < 2 else "the MTL−STL difference"
        return {"rho": None, "p": None, "n": n, "skipped": f"undefined: {which} is the same for every utterance"}
    res = stats.spearmanr(xs, ys)
    rho, p = float(res.statistic), float(res.pvalue)
    if math.isnan(rho) or math.isnan(p):
        return {"rho": None, "p": None, "n": n, "skipped": "undefined (not a number)"}
    return {"rho": rho, "p": p, "n": n}


def analyse(models: Mapping[str, Mapping[str, Path]], ref_paths: Mapping[str, Path],
            utt2div: Mapping[str, float], stl: Mapping[str, str], mtls: Sequence[str],
            lang: str, bins_spec: str, metrics: Optional[Mapping[str, Headline]] = None,
            utt2spk: Optional[Mapping[str, str]] = None) -> dict:
    """Divergence analysis of one size group.

    ``models[tag][output]`` is the decoded text of that model and output; ``stl[output]``
    the STL tag of each output; ``metrics[output]`` its headline error rate (default CER).
    Returns per-model/output bin rates (every kind), MTL−STL per bin, the overall MTL−STL
    headline difference with its 95% paired-bootstrap interval (``interval``), and
    Spearman(divergence, MTL−STL per-utterance headline error rate).

    With ``utt2spk`` the intervals resample speakers, then utterances (overall and per bin;
    the bins of one comparison form a Holm family), every bin says how many speakers it
    holds, and ``spearman_within`` correlates divergence and the difference inside each
    speaker (pooled), which the speaker cannot confound.
    """
    metrics = {o: (metrics or {}).get(o) or headline("char") for o in ref_paths}
    kinds = list(dict.fromkeys([*KINDS, *(h.kind for h in metrics.values())]))
    bins = parse_bins(bins_spec)
    refs = {o: read_table(p) for o, p in ref_paths.items()}
    units: Dict[str, Dict[str, Units]] = {}
    errors: Dict[str, Dict[str, dict]] = {}
    labels: List[str] = [b.label for b in bins]
    for tag, outputs in models.items():
        for o, hyp_path in outputs.items():
            u = output_units(refs[o], read_hypotheses(hyp_path), lang, kinds)
            units.setdefault(tag, {})[o] = u
            rows = rates_by_divergence(bins, utt2div, u, utt2spk)
            for row in rows:
                if row["bin"] not in labels:
                    labels.append(row["bin"])  # the overflow bin, when something falls there
            total = {k: _overall(u[k]) for k in kinds}
            errors.setdefault(tag, {})[o] = {"rows": rows, **total}
    # align every model's rows on the same bin labels
    for tag in errors:
        for o, e in errors[tag].items():
            by = {r["bin"]: r for r in e.pop("rows")}
            e["bins"] = [{"bin": b, "n_utt": by.get(b, {}).get("n_utt", 0),
                          **({"n_spk": by.get(b, {}).get("n_spk", 0)} if utt2spk is not None else {}),
                          **{k: by.get(b, {}).get(k) for k in kinds}} for b in labels]
    diff: Dict[str, dict] = {}
    corr: Dict[str, dict] = {}
    for mtl in mtls:
        for o, stl_tag in stl.items():
            if o not in errors.get(mtl, {}) or o not in errors.get(stl_tag, {}):
                continue
            m, s = errors[mtl][o], errors[stl_tag][o]
            kind = metrics[o].kind
            e_s, e_m = utterance_errors(units[stl_tag][o], kind), utterance_errors(units[mtl][o], kind)
            diff.setdefault(mtl, {})[o] = {
                "overall": {k: _sub(m[k], s[k]) for k in kinds},
                "interval": {"kind": kind, "_raw": _paired(e_s, e_m, utt2spk)},
                "bins": [{"bin": mb["bin"], "n_utt": mb["n_utt"], **{k: _sub(mb[k], sb[k]) for k in kinds}}
                         for mb, sb in zip(m["bins"], s["bins"])],
            }
            rm, rs = utterance_rates(units[mtl][o], kind), utterance_rates(units[stl_tag][o], kind)
            utts = [u for u in rm if u in rs and u in utt2div]
            corr.setdefault(mtl, {})[o] = spearman([utt2div[u] for u in utts], [rm[u] - rs[u] for u in utts])
            if utt2spk is not None:
                _by_speaker(diff[mtl][o], bins, labels, utt2div, e_s, e_m, utt2spk)
                spk_utts = [u for u in utts if u in utt2spk]
                corr[mtl][o]["within_speaker"] = within_speaker_correlation(
                    [utt2div[u] for u in spk_utts], [rm[u] - rs[u] for u in spk_utts], [utt2spk[u] for u in spk_utts])
    overall = [d["interval"] for outs in diff.values() for d in outs.values()]
    families({"overall MTL−STL": [iv["_raw"] for iv in overall]})
    for iv in overall:
        iv.update(interval_record(iv.pop("_raw")))
    return {"bins": labels, "metric": {o: {"name": h.name, "kind": h.kind, "unit": h.unit} for o, h in metrics.items()},
            "error": errors, "mtl_minus_stl": diff, "spearman": corr}


def _paired(a: Mapping[str, Tuple[int, int]], b: Mapping[str, Tuple[int, int]],
            utt2spk: Optional[Mapping[str, str]]) -> Optional[dict]:
    """MTL − STL, speaker-blocked where speakers are known (utterances only otherwise)."""
    if utt2spk is None or any(u not in utt2spk for u in a):
        return paired_difference(a, b, unit=UTTERANCES)
    return paired_difference(a, b, speakers=utt2spk)


def _bin_of(bins: Sequence, labels: Sequence[str], d: float) -> Optional[str]:
    for b in bins:
        if b.holds(d):
            return b.label
    return labels[-1] if len(labels) > len(bins) and d > bins[-1].hi else None


def _by_speaker(d: dict, bins: Sequence, labels: Sequence[str], utt2div: Mapping[str, float],
                e_s: Mapping[str, Tuple[int, int]], e_m: Mapping[str, Tuple[int, int]],
                utt2spk: Mapping[str, str]) -> None:
    """Per bin: its number of speakers and MTL−STL with a speaker-blocked interval (one Holm family)."""
    members: Dict[str, List[str]] = {}
    for u in e_s:
        if u in utt2div and u in e_m:
            b = _bin_of(bins, labels, utt2div[u])
            if b is not None:
                members.setdefault(b, []).append(u)
    raws = []
    for row in d["bins"]:
        us = members.get(row["bin"], [])
        row["n_spk"] = speakers_per_bin({row["bin"]: us}, utt2spk)[row["bin"]]
        raw = _paired({u: e_s[u] for u in us}, {u: e_m[u] for u in us}, utt2spk) if us else None
        raws.append(raw)
        row["_raw"] = raw
    families({"bins": raws})
    for row in d["bins"]:
        row["interval"] = interval_record(row.pop("_raw"))


def _overall(units: Mapping[str, Tuple[List[str], List[str]]]) -> Optional[float]:
    err = sum(edit_distance(r, h) for r, h in units.values())
    n = sum(len(r) for r, _ in units.values())
    return 100.0 * err / n if n else None


def _sub(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return None if a is None or b is None else a - b
