"""Within-speaker rank correlation: a speaker confound alone gives nothing, a real trend is found."""

from __future__ import annotations

import numpy as np

from espnet_l2dual.analysis.within_speaker import within_speaker_correlation


def test_a_between_speaker_confound_is_not_a_within_speaker_trend() -> None:
    rng = np.random.default_rng(0)
    spk = [f"s{s}" for s in range(10) for _ in range(15)]
    level = {f"s{s}": s for s in range(10)}
    # speakers with more divergence also have worse voices: pooled over utterances this correlates,
    # inside a speaker divergence says nothing about the error
    div = np.array([level[s] * 0.05 + rng.uniform(0, 0.05) for s in spk])
    err = np.array([level[s] * 3.0 + rng.normal(0, 2) for s in spk])
    from scipy import stats

    pooled = stats.spearmanr(div, err)
    assert pooled.statistic > 0.8 and pooled.pvalue < 1e-10
    r = within_speaker_correlation(div, err, spk, n_permutations=1999)
    assert abs(r["rho"]) < 0.2 and r["p"] > 0.05 and r["n_spk"] == 10 and r["n"] == 150


def test_a_trend_inside_every_speaker_is_found() -> None:
    rng = np.random.default_rng(1)
    spk = [f"s{s}" for s in range(8) for _ in range(10)]
    div = rng.uniform(0, 0.3, len(spk))
    err = np.array([10 * d + (int(s[1:]) % 7) + rng.normal(0, 0.5) for d, s in zip(div, spk)])
    r = within_speaker_correlation(div, err, spk, n_permutations=1999)
    assert r["rho"] > 0.8 and r["p"] < 0.01


def test_undefined_without_variation_inside_speakers() -> None:
    r = within_speaker_correlation([0.1, 0.2, 0.3], [1.0, 2.0, 3.0], ["a", "b", "c"])
    assert r["rho"] is None and "undefined" in r["skipped"]
