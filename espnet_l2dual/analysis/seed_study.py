"""The cross-language study over training seeds (``run_all.sh --seeds "1 2 3"``).

Each seed is a complete study of its own (:func:`espnet_l2dual.analysis.study.collect` on
the tags ``asr_<config><suffix>_seed<N>``, stage 10 group ``<size>_seed<N>``). On top of
them, from the same scored models (each read once; the table builder of one seed,
:mod:`espnet_l2dual.analysis.tables`): every error rate as mean and sd over seeds, every
difference against STL and MTL with the two intervals of
:mod:`espnet_l2dual.scoring.seed_intervals` (seeds x utterances bootstrap, t over seed-level
paired differences), and every stage-10 scalar as mean, sd and t interval over seeds, with
the English-minus-Korean difference as a Welch interval (the languages' seeds are
independent trainings, not pairs).
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Sequence

import numpy as np

from espnet_l2dual.analysis.claims import claim_tests
from espnet_l2dual.analysis.study import (MissingInputs, Models, Recipe, collect_models,
                                          comparison_families, interval_method)
from espnet_l2dual.analysis.tables import OverSeeds, adjust, comparison_table, round_floats
from espnet_l2dual.scoring.blocked_bootstrap import SPEAKERS
from espnet_l2dual.scoring.seed_intervals import mean_sd, seed_t_interval, welch


def seed_suffix(suffix: str, seed: int) -> str:
    """``_tiny`` + seed 2 -> ``_tiny_seed2`` (the tag suffix ``./run.sh --seed 2`` gives)."""
    return f"{suffix}_seed{seed}"


def _scalar_over_seeds(values: List[Any], key: str = "") -> Dict[str, Any]:
    """Mean, sd and t interval over seeds; ``per_seed`` unrounded (other intervals are built on it).
    A p-value is not a quantity to average: it is listed per seed only."""
    nums = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(nums) != len(values):
        return {"note": "not a number for every seed", "per_seed": values}
    if "p-value" in key:
        return {"note": "a p-value per seed (p-values are not averaged)", "per_seed": nums}
    out = round_floats(mean_sd(nums), 3)
    t = seed_t_interval(nums)
    out["ci95_t"] = None if t["lo"] is None else [round(t["lo"], 3), round(t["hi"], 3)]
    out["per_seed"] = nums
    return out


def welch_interval(a: Sequence[float], b: Sequence[float], confidence: float = 0.95) -> Dict[str, Any]:
    """Welch interval of mean(b) − mean(a): ``{"ci95": [lo, hi]}``, or ``ci95`` None with
    ``no_ci`` (fewer than 2 values on a side, or no spread on either: the interval is not defined)."""
    w = welch(a, b)
    if w.get("interval_at") is None:
        return {"ci95": None, "no_ci": w["no_ci"]}
    return {"ci95": [round(v, 3) for v in w["interval_at"](confidence)]}


def collect_over_seeds(recipes: Sequence[Recipe], configs: Sequence[str], suffix: str, test_set: str,
                       seeds: Sequence[int], with_analysis: bool = True, unit: str = SPEAKERS) -> Dict[str, Any]:
    """Per-seed studies plus their aggregate (report.json); MissingInputs names every missing piece."""
    if len(set(seeds)) != len(seeds) or not seeds:
        raise ValueError(f"--seeds must name distinct seeds, got {' '.join(map(str, seeds)) or 'none'}")
    per_seed: Dict[str, Any] = {}
    models: Dict[str, List[Models]] = {r.lang: [] for r in recipes}  # per language, one per seed
    problems: List[str] = []
    for s in seeds:
        try:
            per_seed[str(s)], read = collect_models(recipes, configs, seed_suffix(suffix, s), test_set,
                                                    with_analysis, unit)
        except MissingInputs as e:
            problems += [f"seed {s}: {p}" for p in e.problems]
            continue
        for lang, m in read.items():
            models[lang].append(m)
    if problems:
        raise MissingInputs(problems)
    out: Dict[str, Any] = {"test_set": test_set, "suffix": suffix, "seeds": list(seeds), "configs": list(configs),
                           "with_analysis": with_analysis, "languages": {}, "per_seed": per_seed,
                           "interval": interval_method(unit, seeds=True)}
    for r in recipes:
        out["languages"][r.lang] = _language(r, configs, seeds, per_seed, models[r.lang], unit)
    if with_analysis and len(recipes) > 1:
        out["entanglement_en_minus_ko"] = _between_languages(out["languages"])
    out["claims"] = claim_tests(out["languages"])
    return out


def _language(r: Recipe, configs: Sequence[str], seeds: Sequence[int], per_seed: Mapping[str, Any],
              models: Sequence[Models], unit: str = SPEAKERS) -> Dict[str, Any]:
    """One language over seeds: the table from each seed's scored models (``models[i]``: seed i)."""
    scored = {key: [m.scored[key] for m in models] for key in models[0].scored}
    stat = OverSeeds(unit)
    lang: Dict[str, Any] = {"recipe": str(r.path), **comparison_table(scored, configs, stat)}
    fams = {k: v for k, v in comparison_families(r.lang, lang).items() if not k.endswith("MDD F1 differences")}
    lang["families"] = adjust(fams, stat)
    runs = [per_seed[str(s)]["languages"][r.lang] for s in seeds]
    if all("entanglement" in x for x in runs):
        keys = list(dict.fromkeys(k for x in runs for k in x["entanglement"]))  # a seed may lack a row
        absent = {"skipped": "not in this seed's analysis"}
        lang["entanglement"] = {key: _scalar_over_seeds([x["entanglement"].get(key, absent) for x in runs], key)
                                for key in keys}
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
