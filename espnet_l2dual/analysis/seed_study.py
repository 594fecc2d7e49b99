"""The cross-language study over training seeds (``run_all.sh --seeds "1 2 3"``).

Each seed is a complete study of its own (:func:`espnet_l2dual.analysis.study.collect` on
the tags ``asr_<config><suffix>_seed<N>``, stage 10 group ``<size>_seed<N>``). On top of
them: every error rate as mean and sd over seeds, every difference against STL and MTL
with the two intervals of :mod:`espnet_l2dual.scoring.seed_intervals` (seeds x utterances
bootstrap, t over seed-level paired differences), and every stage-10 scalar as mean, sd and
t interval over seeds, with the English-minus-Korean difference as a Welch interval (the
languages' seeds are independent trainings, not pairs).
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np
from scipy import stats

from espnet_l2dual.analysis.study import (BASE_CONFIGS, OUTPUTS, STL, MissingInputs, Recipe, Scored, collect,
                                          comparison_families, interval_method, kinds_shown, metric_name,
                                          score_output, tasks_of)
from espnet_l2dual.scoring.blocked_bootstrap import SPEAKERS
from espnet_l2dual.scoring.multiplicity import families
from espnet_l2dual.scoring.seed_intervals import mean_sd, over_seeds, seed_interval_record, seed_t_interval


def seed_suffix(suffix: str, seed: int) -> str:
    """``_tiny`` + seed 2 -> ``_tiny_seed2`` (the tag suffix ``./run.sh --seed 2`` gives)."""
    return f"{suffix}_seed{seed}"


def _round(d: Mapping[str, Optional[float]], digits: int = 2) -> Dict[str, Any]:
    return {k: (round(v, digits) if isinstance(v, float) else v) for k, v in d.items()}


def versus_over_seeds(b: Sequence[Scored], a: Sequence[Scored], kind: str, unit: str = SPEAKERS) -> Dict[str, Any]:
    """``b − a`` over seeds: both intervals (seed i of b paired with seed i of a), from sclite's
    per-utterance counts; ``_raw`` until :func:`finish_over_seeds` (after the family adjustment)."""
    raw = over_seeds([x.errors[kind] for x in a], [x.errors[kind] for x in b], unit=unit)
    return {"_raw": raw}


def finish_over_seeds(d: Dict[str, Any]) -> Dict[str, Any]:
    """Replace ``_raw`` by the stored record (after the family adjustment); per-seed values from the same counts."""
    raw = d.pop("_raw")
    d.update(seed_interval_record(raw, raw["t"]))
    d["per_seed"] = [round(x, 2) for x in raw["per_seed"]]
    return d


def _scalar_over_seeds(values: List[Any], key: str = "") -> Dict[str, Any]:
    """Mean, sd and t interval over seeds; ``per_seed`` unrounded (other intervals are built on it).
    A p-value is not a quantity to average: it is listed per seed only."""
    nums = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(nums) != len(values):
        return {"note": "not a number for every seed", "per_seed": values}
    if "p-value" in key:
        return {"note": "a p-value per seed (p-values are not averaged)", "per_seed": nums}
    out = _round(mean_sd(nums), 3)
    t = seed_t_interval(nums)
    out["ci95_t"] = None if t["lo"] is None else [round(t["lo"], 3), round(t["hi"], 3)]
    out["per_seed"] = nums
    return out


def welch_interval(a: Sequence[float], b: Sequence[float], confidence: float = 0.95) -> Dict[str, Any]:
    """Welch interval of mean(b) − mean(a): ``{"ci95": [lo, hi]}``, or ``ci95`` None with
    ``no_ci`` (fewer than 2 values on a side, or no spread on either: the interval is not defined)."""
    if len(a) < 2 or len(b) < 2:
        return {"ci95": None, "no_ci": "not defined: fewer than 2 seeds on a side"}
    if np.ptp(a) == 0 and np.ptp(b) == 0:
        return {"ci95": None, "no_ci": "not defined: no spread over seeds on either side"}
    ci = stats.ttest_ind(b, a, equal_var=False).confidence_interval(confidence)
    return {"ci95": [round(float(ci.low), 3), round(float(ci.high), 3)]}


def collect_over_seeds(recipes: Sequence[Recipe], configs: Sequence[str], suffix: str, test_set: str,
                       seeds: Sequence[int], with_analysis: bool = True, unit: str = SPEAKERS) -> Dict[str, Any]:
    """Per-seed studies plus their aggregate (report.json); MissingInputs names every missing piece."""
    if len(set(seeds)) != len(seeds) or not seeds:
        raise ValueError(f"--seeds must name distinct seeds, got {' '.join(map(str, seeds)) or 'none'}")
    per_seed: Dict[str, Any] = {}
    problems: List[str] = []
    for s in seeds:
        try:
            per_seed[str(s)] = collect(recipes, configs, seed_suffix(suffix, s), test_set, with_analysis, unit)
        except MissingInputs as e:
            problems += [f"seed {s}: {p}" for p in e.problems]
    if problems:
        raise MissingInputs(problems)
    out: Dict[str, Any] = {"test_set": test_set, "suffix": suffix, "seeds": list(seeds), "configs": list(configs),
                           "with_analysis": with_analysis, "languages": {}, "per_seed": per_seed,
                           "interval": interval_method(unit, seeds=True)}
    for r in recipes:
        out["languages"][r.lang] = _language(r, configs, suffix, test_set, seeds, per_seed, unit)
    if with_analysis and len(recipes) > 1:
        out["entanglement_en_minus_ko"] = _between_languages(out["languages"])
    return out


def _language(r: Recipe, configs: Sequence[str], suffix: str, test_set: str, seeds: Sequence[int],
              per_seed: Mapping[str, Any], unit: str = SPEAKERS) -> Dict[str, Any]:
    scored: Dict[tuple, List[Scored]] = {}
    for c in configs:
        for s in seeds:
            doc = r.load_results(c, seed_suffix(suffix, s))
            for o in tasks_of(c):
                scored.setdefault((c, o), []).append(score_output(doc, test_set, o))
    lang: Dict[str, Any] = {"recipe": str(r.path), "outputs": {}, "methods": {}}
    for o in OUTPUTS:
        stl, mtl = scored[(STL[o], o)], scored[("mtl", o)]
        metric = stl[0].metric
        lang["outputs"][o] = {
            "metric": {"name": metric.name, "kind": metric.kind, "unit": metric.unit},
            "rows": [{"metric": metric_name(k, metric), "kind": k,
                      "stl": _round(mean_sd([x.values[k] for x in stl])),
                      "mtl": _round(mean_sd([x.values[k] for x in mtl])),
                      "mtl_minus_stl": versus_over_seeds(mtl, stl, k, unit)} for k in kinds_shown(metric)],
        }
    for c in (c for c in configs if c not in BASE_CONFIGS):
        lang["methods"][c] = {}
        for o in OUTPUTS:
            m = scored[(c, o)]
            k = m[0].metric.kind
            lang["methods"][c][o] = {"value": _round(mean_sd([x.values[k] for x in m])),
                                     "vs_stl": versus_over_seeds(m, scored[(STL[o], o)], k, unit),
                                     "vs_mtl": versus_over_seeds(m, scored[("mtl", o)], k, unit)}
    fams = {k: v for k, v in comparison_families(r.lang, lang).items() if not k.endswith("MDD F1 differences")}
    lang["families"] = families({k: [d["_raw"] for d in v] for k, v in fams.items()})
    for items in fams.values():
        for d in items:
            finish_over_seeds(d)
    runs = [per_seed[str(s)]["languages"][r.lang] for s in seeds]
    if all("entanglement" in x for x in runs):
        lang["entanglement"] = {key: _scalar_over_seeds([x["entanglement"][key] for x in runs], key)
                                for key in runs[0]["entanglement"]}
        lang["task_cka"] = {c: {part: _scalar_over_seeds([x["task_cka"][c][part] for x in runs])
                                for part in runs[0]["task_cka"][c]} for c in runs[0]["task_cka"]}
    return lang


def _between_languages(langs: Mapping[str, Any]) -> Dict[str, Any]:
    """English minus Korean for every stage-10 scalar both have for every seed."""
    if not {"ko", "en"} <= set(langs) or not all("entanglement" in langs[x] for x in ("ko", "en")):
        return {}
    out = {}
    for key, ko in langs["ko"]["entanglement"].items():
        en = langs["en"]["entanglement"].get(key, {})
        if "per_seed" in ko and "per_seed" in en and "note" not in ko and "note" not in en:
            w = welch_interval(ko["per_seed"], en["per_seed"])
            out[key] = {"diff": round(float(np.mean(en["per_seed"]) - np.mean(ko["per_seed"])), 3),
                        "ci95_welch": w["ci95"], **({"no_ci": w["no_ci"]} if "no_ci" in w else {})}
    return out
