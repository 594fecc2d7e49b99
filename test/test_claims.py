"""The study's claims: the added comparisons (Welch between languages, CKA pull paired by seed),
their Holm family, and the verdict words of each claim's paragraph."""

from __future__ import annotations

from typing import Dict, List, Optional

import pytest
from scipy import stats

from espnet_l2dual.analysis.claims import FAMILY, TO_MEANING, TO_SURFACE, claim_tests, paired_over_seeds
from espnet_l2dual.scoring.seed_intervals import welch
from espnet_l2dual.analysis.study import WITHIN
from espnet_l2dual.report.claims import claim_lines


def _diff(per_seed: List[float], ci_adj: Optional[List[float]]) -> Dict:
    d = {"diff": sum(per_seed) / len(per_seed), "per_seed": per_seed, "ci95": ci_adj}
    if ci_adj:
        d.update(ci_adj=ci_adj, level_adj=0.975, p=0.01, p_adj=0.02)
    return d


def _lang(surface: List[float], surface_ci, meaning: List[float], meaning_ci, to_m: List[float],
          to_s: List[float]) -> Dict:
    return {"outputs": {"surface": {"rows": [{"metric": "CER", "mtl_minus_stl": _diff(surface, surface_ci)}]},
                        "meaning": {"rows": [{"metric": "CER", "mtl_minus_stl": _diff(meaning, meaning_ci)}]}},
            "entanglement": {TO_MEANING: {"per_seed": to_m}, TO_SURFACE: {"per_seed": to_s},
                             WITHIN: {"per_seed": [0.1, 0.2, 0.3]}}}


def _data(languages: Dict) -> Dict:
    return {"seeds": [1, 2, 3], "languages": languages, "claims": claim_tests(languages)}


def test_welch_and_paired_intervals_have_known_answers() -> None:
    a, b = [1.0, 2.0, 3.0], [5.0, 6.5, 7.0]
    w = welch(a, b)
    ref = stats.ttest_ind(b, a, equal_var=False)
    assert w["diff"] == pytest.approx(sum(b) / 3 - 2.0) and w["p"] == pytest.approx(ref.pvalue)
    assert w["interval_at"](0.95) == pytest.approx(tuple(ref.confidence_interval(0.95)))
    assert welch([1.0], b)["p"] is None and "fewer than 2 seeds" in welch([1.0], b)["no_ci"]
    assert "no spread" in welch([1.0, 1.0], [2.0, 2.0])["no_ci"]
    p = paired_over_seeds([0.5, 0.6, 0.7], [0.6, 0.8, 0.8])  # b − a per seed: 0.1, 0.2, 0.1
    assert p["diff"] == pytest.approx(0.4 / 3)
    ref = stats.ttest_1samp([0.1, 0.2, 0.1], 0.0)
    assert p["p"] == pytest.approx(ref.pvalue)


def test_the_added_comparisons_are_one_holm_family() -> None:
    langs = {"ko": _lang([0.1, -0.1, 0.0], None, [0, 0, 0], None, [0.80, 0.81, 0.79], [0.80, 0.80, 0.80]),
             "en": _lang([3.0, 3.2, 2.8], [1.0, 5.0], [0, 0, 0], None, [0.90, 0.92, 0.91], [0.80, 0.81, 0.80])}
    c = claim_tests(langs)["comparisons"]
    assert len(c) == 4 and all(x["family"] == FAMILY for x in c.values())
    assert all(x["adjustment"].startswith("Holm, 4 comparisons") for x in c.values())
    pen = c["surface penalty, en − ko"]
    assert pen["diff"] == pytest.approx(3.0) and pen["ci_adj"][0] > 0
    assert pen["level_adj"] == pytest.approx(1 - 0.05 / 4)  # the smallest p of 4 is tested at alpha/4
    assert min(x["level_adj"] for x in c.values()) >= 0.95


def _paragraph(md: List[str], title: str) -> str:
    (line,) = [x for x in md if x.startswith(f"- **{title}")]
    return line


def test_claim_words_follow_the_adjusted_intervals() -> None:
    hurt_more_in_english = {
        "ko": _lang([0.9, 1.1, 1.0], [0.2, 1.8], [1.0, 1.2, 0.8], [0.1, 2.0], [0.8] * 3, [0.8] * 3),
        "en": _lang([3.0, 3.2, 2.8], [1.0, 5.0], [-1.0, -1.2, -0.8], [-2.0, -0.1], [0.9] * 3, [0.8] * 3)}
    md = claim_lines(_data(hurt_more_in_english))
    assert _paragraph(md, "MTL degrades the surface transcription").startswith(
        "- **MTL degrades the surface transcription, most in English: supported.**")
    meaning = _paragraph(md, "MTL improves the meaning")  # helped in English, hurt in Korean
    assert "not resolved as a whole" in meaning and "refuted: ko" in meaning and "supported: en" in meaning
    assert "not tested here" in _paragraph(md, "The surface penalty grows")
    assert "+0.100, +0.200, +0.300" in _paragraph(md, "The surface penalty grows")  # quoted, no verdict

    spans_zero = {lang: _lang([-1.0, 0.5, 0.2], [-3.0, 2.0], [0.0, 0.1, -0.1], [-1.0, 1.0], [0.8] * 3, [0.8] * 3)
                  for lang in ("ko", "en")}
    md = claim_lines(_data(spans_zero))
    for title in ("MTL improves", "MTL degrades", "It goes with"):
        line = _paragraph(md, title)
        assert ": not resolved.**" in line and "supported" not in line and "refuted" not in line, line
