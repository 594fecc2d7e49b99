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
                                          kinds_shown, metric_name, score_output, tasks_of)
from espnet_l2dual.scoring.seed_intervals import crossed_bootstrap, mean_sd, seed_interval_record, seed_t_interval


def seed_suffix(suffix: str, seed: int) -> str:
    """``_tiny`` + seed 2 -> ``_tiny_seed2`` (the tag suffix ``./run.sh --seed 2`` gives)."""
    return f"{suffix}_seed{seed}"


def _round(d: Mapping[str, Optional[float]], digits: int = 2) -> Dict[str, Any]:
    return {k: (round(v, digits) if isinstance(v, float) else v) for k, v in d.items()}


def versus_over_seeds(b: Sequence[Scored], a: Sequence[Scored], kind: str) -> Dict[str, Any]:
    """``b − a`` over seeds: both intervals (seed i of b paired with seed i of a)."""
    boot = crossed_bootstrap([x.errors[kind] for x in a], [x.errors[kind] for x in b])
    t = seed_t_interval([y.values[kind] - x.values[kind] for x, y in zip(a, b)])
    rec = seed_interval_record(boot, t)
    rec["per_seed"] = [round(y.values[kind] - x.values[kind], 2) for x, y in zip(a, b)]
    return rec


def _scalar_over_seeds(values: List[Any]) -> Dict[str, Any]:
    nums = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(nums) != len(values):
        return {"note": "not a number for every seed", "per_seed": values}
    out = _round(mean_sd(nums), 3)
    t = seed_t_interval(nums)
    out["ci95_t"] = None if t["lo"] is None else [round(t["lo"], 3), round(t["hi"], 3)]
    out["per_seed"] = [round(v, 3) for v in nums]
    return out


def welch_interval(a: Sequence[float], b: Sequence[float], confidence: float = 0.95) -> Optional[List[float]]:
    """Welch interval of mean(b) − mean(a); None with fewer than 2 values on a side."""
    if len(a) < 2 or len(b) < 2:
        return None
    if np.ptp(a) < 1e-9 and np.ptp(b) < 1e-9:  # no spread on either side: the difference is exact
        d = float(np.mean(b) - np.mean(a))
        return [round(d, 3), round(d, 3)]
    ci = stats.ttest_ind(b, a, equal_var=False).confidence_interval(confidence)
    return [round(float(ci.low), 3), round(float(ci.high), 3)]


def collect_over_seeds(recipes: Sequence[Recipe], configs: Sequence[str], suffix: str, test_set: str,
                       seeds: Sequence[int], with_analysis: bool = True) -> Dict[str, Any]:
    """Per-seed studies plus their aggregate (report.json); MissingInputs names every missing piece."""
    if len(set(seeds)) != len(seeds) or not seeds:
        raise ValueError(f"--seeds must name distinct seeds, got {' '.join(map(str, seeds)) or 'none'}")
    per_seed: Dict[str, Any] = {}
    problems: List[str] = []
    for s in seeds:
        try:
            per_seed[str(s)] = collect(recipes, configs, seed_suffix(suffix, s), test_set, with_analysis)
        except MissingInputs as e:
            problems += [f"seed {s}: {p}" for p in e.problems]
    if problems:
        raise MissingInputs(problems)
    out: Dict[str, Any] = {"test_set": test_set, "suffix": suffix, "seeds": list(seeds), "configs": list(configs),
                           "with_analysis": with_analysis, "languages": {}, "per_seed": per_seed}
    for r in recipes:
        out["languages"][r.lang] = _language(r, configs, suffix, test_set, seeds, per_seed)
    if with_analysis and len(recipes) > 1:
        out["entanglement_en_minus_ko"] = _between_languages(out["languages"])
    return out


def _language(r: Recipe, configs: Sequence[str], suffix: str, test_set: str, seeds: Sequence[int],
              per_seed: Mapping[str, Any]) -> Dict[str, Any]:
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
                      "mtl_minus_stl": versus_over_seeds(mtl, stl, k)} for k in kinds_shown(metric)],
        }
    for c in (c for c in configs if c not in BASE_CONFIGS):
        lang["methods"][c] = {}
        for o in OUTPUTS:
            m = scored[(c, o)]
            k = m[0].metric.kind
            lang["methods"][c][o] = {"value": _round(mean_sd([x.values[k] for x in m])),
                                     "vs_stl": versus_over_seeds(m, scored[(STL[o], o)], k),
                                     "vs_mtl": versus_over_seeds(m, scored[("mtl", o)], k)}
    runs = [per_seed[str(s)]["languages"][r.lang] for s in seeds]
    if all("entanglement" in x for x in runs):
        lang["entanglement"] = {key: _scalar_over_seeds([x["entanglement"][key] for x in runs])
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
            out[key] = {"diff": round(float(np.mean(en["per_seed"]) - np.mean(ko["per_seed"])), 3),
                        "ci95_welch": welch_interval(ko["per_seed"], en["per_seed"])}
    return out
