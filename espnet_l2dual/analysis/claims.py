"""The study's claims, each tested on the report over seeds, with its own declared family.

The claims (one shared encoder, two decoders, against one model per output):

1. MTL improves the meaning transcription;
2. MTL degrades the surface transcription, most in English;
3. the surface penalty grows with the surface–meaning divergence;
4. it goes with encoder entanglement: MTL's encoder is pulled toward the meaning task (its
   representation is closer to STL-meaning's than to STL-surface's), more so in English.

The per-language MTL−STL parts of 1-2 are the report's own MTL−STL comparisons (already
Holm-adjusted in each language's family) and are only referred to here. The comparisons this
module adds form one family, "the claims' comparisons", adjusted with Holm: English minus
Korean in the surface penalty (Welch over the two languages' independent seeds), and per
language the encoder CKA difference (t over seeds, paired by seed), and English minus Korean in
it (Welch). Claim 3 cannot be tested by a seed study: the divergence of its utterances is not
intervened on (the within-speaker Spearman correlations are quoted per seed, without a
verdict); the controlled-divergence grid tests it.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

from espnet_l2dual.analysis.study import WITHIN
from espnet_l2dual.scoring.multiplicity import adjust_family
from espnet_l2dual.scoring.seed_intervals import seed_t_interval, welch

FAMILY = "the claims' comparisons"
TO_MEANING = "encoder debiased CKA, MTL vs STL-meaning (last layer)"
TO_SURFACE = "encoder debiased CKA, MTL vs STL-surface (last layer)"
DIGITS = 3


def paired_over_seeds(a: Sequence[float], b: Sequence[float]) -> Dict[str, Any]:
    """b − a with a and b from the same seeds (the same trained models): t over seeds."""
    t = seed_t_interval([y - x for x, y in zip(a, b)])
    return dict(t, method="t over seeds (paired by seed)")


def _stored(x: Mapping[str, Any]) -> Dict[str, Any]:
    """What report.json keeps of a comparison (no callables; rounded)."""
    r = lambda v: None if v is None else round(float(v), DIGITS)  # noqa: E731
    out: Dict[str, Any] = {"diff": r(x.get("diff")), "method": x["method"], "p": x.get("p")}
    at: Optional[Callable] = x.get("interval_at")
    out["ci95"] = None if at is None else [r(v) for v in at(0.95)]
    if at is None:
        out["no_ci"] = x.get("no_ci", "no interval")
    for k in ("family", "adjustment", "p_adj", "level_adj"):
        if k in x:
            out[k] = x[k]
    if x.get("lo_adj") is not None:
        out["ci_adj"] = [r(x["lo_adj"]), r(x["hi_adj"])]
    return out


def _headline(lang: Mapping[str, Any], output: str) -> Dict[str, Any]:
    return lang["outputs"][output]["rows"][0]


def _per_seed(lang: Mapping[str, Any], key: str) -> Optional[List[float]]:
    e = lang.get("entanglement", {}).get(key)
    return None if e is None or "note" in e else e["per_seed"]


def claim_tests(languages: Mapping[str, Mapping[str, Any]]) -> Dict[str, Any]:
    """The added comparisons (Holm-adjusted as one family) and the evidence each claim reads."""
    raw: Dict[str, Dict[str, Any]] = {}
    both = {"ko", "en"} <= set(languages)
    if both:
        raw["surface penalty, en − ko"] = welch(_headline(languages["ko"], "surface")["mtl_minus_stl"]["per_seed"],
                                                _headline(languages["en"], "surface")["mtl_minus_stl"]["per_seed"])
    pull: Dict[str, List[float]] = {}
    for lang, d in languages.items():
        m, s = _per_seed(d, TO_MEANING), _per_seed(d, TO_SURFACE)
        if m is not None and s is not None:
            pull[lang] = [y - x for x, y in zip(s, m)]
            raw[f"{lang}: MTL encoder toward meaning (CKA vs STL-meaning − vs STL-surface)"] = paired_over_seeds(s, m)
    if both and {"ko", "en"} <= set(pull):
        raw["encoder pull toward meaning, en − ko"] = welch(pull["ko"], pull["en"])
    adjust_family(FAMILY, list(raw.values()))
    within = {lang: d["entanglement"][WITHIN]["per_seed"] for lang, d in languages.items()
              if WITHIN in d.get("entanglement", {}) and "per_seed" in d["entanglement"][WITHIN]}
    return {"family": FAMILY, "comparisons": {k: _stored(v) for k, v in raw.items()},
            "within_speaker_rho": within}
