"""The verdict rule: a direction word only where the 95% interval excludes zero."""

import pytest

from espnet_l2dual.report.cross_language import mtl_sentence
from espnet_l2dual.report.stage10 import divergence_sentence
from espnet_l2dual.report.verdict import format_ci, verdict


def test_an_interval_below_zero_is_lower() -> None:
    v = verdict([-2.0, -1.0], lower="helped", higher="hurt")
    assert (v.direction, v.text, v.resolved) == ("lower", "helped", True)
    assert verdict([-2.0, -1.0]).text == "lower"


def test_an_interval_above_zero_is_higher() -> None:
    assert verdict([0.5, 3.0], lower="helped", higher="hurt").text == "hurt"


def test_an_interval_spanning_zero_is_not_resolved() -> None:
    v = verdict([-1.0, 1.0], lower="helped", higher="hurt")
    assert not v.resolved and v.direction is None
    assert v.text == "no difference resolved (95% CI [-1.00, +1.00] spans 0)"
    assert verdict([0.0, 2.0]).text == "no difference resolved (95% CI [+0.00, +2.00] includes 0)"


def test_the_ends_are_judged_as_printed() -> None:
    # 0.001 prints as +0.00: calling it "higher" would contradict the printed interval
    assert not verdict([0.001, 1.0]).resolved
    assert verdict([0.005, 1.0]).resolved  # prints as +0.01


def test_no_interval_gives_no_verdict() -> None:
    v = verdict(None, no_ci="no interval could be computed (1 utterance)")
    assert not v.resolved and v.text == "no interval could be computed (1 utterance); no verdict"
    assert not verdict([None, None]).resolved
    assert not verdict([float("nan"), 1.0]).resolved


def test_a_reversed_interval_is_a_bug() -> None:
    with pytest.raises(ValueError):
        verdict([1.0, -1.0])
    assert format_ci([-2.689, -0.66]) == "[-2.69, -0.66]"


def _row(abs_: float, ci, no_ci: str = "") -> dict:
    d = {"abs": abs_, "rel": None, "ci95": ci}
    if no_ci:
        d["no_ci"] = no_ci
    return {"metric": "PER", "mtl_minus_stl": d}


def test_the_cross_language_sentence_follows_the_rule() -> None:
    assert mtl_sentence("surface", _row(-1.5, [-2.0, -1.0])) == \
        "MTL helped surface (MTL−STL -1.50 PER points, 95% CI [-2.00, -1.00])"
    s = mtl_sentence("surface", _row(0.3, [-1.0, 1.0]))
    assert s == "surface: MTL−STL +0.30 PER points, no difference resolved (95% CI [-1.00, +1.00] spans 0)"
    s = mtl_sentence("meaning", _row(0.3, None, "1 utterance(s) shared by both systems, too few to resample"))
    assert "no interval could be computed (1 utterance(s)" in s and s.endswith("no verdict")
    assert "hurt" not in s and "helped" not in s


def _div(delta: float, ci, no_ci: str = "") -> dict:
    iv = {"kind": "ter", "diff": delta, "ci95": ci, "n_utt": 20}
    if no_ci:
        iv["no_ci"] = no_ci
    return {"overall": {"ter": delta}, "interval": iv,
            "bins": [{"bin": "0", "n_utt": 5, "ter": delta - 1}, {"bin": "(0,1]", "n_utt": 15, "ter": delta + 1}]}


SP = {"rho": 0.1, "p": 0.4, "n": 20}


def test_the_stage10_divergence_sentence_follows_the_rule() -> None:
    s = divergence_sentence("asr_mtl", "surface", "PER", _div(-1.5, [-2.0, -1.0]), SP)
    assert s.startswith("asr_mtl surface PER is lower than STL by 1.50 points (95% CI of MTL−STL [-2.00, -1.00])")
    assert "no trend with divergence resolved at 0.05" in s and "grows" not in s
    s = divergence_sentence("asr_mtl", "surface", "PER", _div(0.5, [-1.0, 1.0]), SP)
    assert s.startswith("asr_mtl surface PER, MTL−STL +0.50 points: no difference resolved (95% CI [-1.00, +1.00]")
    assert "higher" not in s and "lower" not in s and "largest" not in s
    s = divergence_sentence("asr_mtl", "surface", "PER", _div(0.5, None, "too few"), {"rho": None, "p": None, "n": 2,
                                                                                     "skipped": "undefined: 2 utterances"})
    assert "no interval could be computed (too few); no verdict" in s and "higher" not in s
    assert "rank correlation with divergence is undefined: 2 utterances" in s
    s = divergence_sentence("asr_mtl", "surface", "CER", _div(2.0, [1.0, 3.0]), {"rho": 0.5, "p": 0.01, "n": 20})
    assert "higher than STL" in s and "the MTL−STL difference grows with divergence" in s


def test_report_words_follow_the_holm_adjusted_interval_not_the_raw_one() -> None:
    from espnet_l2dual.report.cross_language import adjusted, judge

    d = {"abs": 1.2, "ci95": [0.4, 2.0], "ci_adj": [-0.1, 2.3], "level_adj": 0.9875, "p": 0.02, "p_adj": 0.08}
    v = judge(d, lower="helped", higher="hurt")
    assert not v.resolved and "Holm-adjusted 98.8% CI [-0.10, +2.30] spans 0" in v.text
    assert adjusted(d) == "[-0.10, +2.30] (98.8%) p=0.02 p_Holm=0.08"
    d.update(ci_adj=[0.1, 2.1], p_adj=0.03)
    assert judge(d, lower="helped", higher="hurt").text == "hurt"
    assert judge({"abs": 1.2, "ci95": [0.4, 2.0]}).direction == "higher"     # no family: the raw interval
