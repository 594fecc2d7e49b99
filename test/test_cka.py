"""Linear CKA and its debiased estimator (espnet_l2dual.analysis.cka)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from espnet_l2dual.analysis.cka import (bootstrap_cka, cka_matrix, hsic_biased, hsic_unbiased, linear_cka,
                                        null_summary, permutation_null)
from espnet_l2dual.analysis.resample import speaker_blocked_weights
from espnet_l2dual.scoring.blocked_bootstrap import percentile_interval


def _rand(n=60, d=8, seed=0):
    return np.random.default_rng(seed).standard_normal((n, d))


def _orthogonal(d, seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    return q


@pytest.mark.parametrize("debiased", [False, True])
def test_self_similarity_is_one(debiased):
    x = _rand()
    assert linear_cka(x, x, debiased=debiased) == pytest.approx(1.0, abs=1e-10)


@pytest.mark.parametrize("debiased", [False, True])
def test_invariant_to_orthogonal_and_isotropic_scaling(debiased):
    x = _rand(seed=1)
    y = x @ _rand(n=8, d=5, seed=2) + 0.5 * _rand(d=5, seed=3)  # related but not identical
    base = linear_cka(x, y, debiased=debiased)
    assert 0.1 < base < 0.99
    q = _orthogonal(8, seed=4)
    assert linear_cka(x @ q, y, debiased=debiased) == pytest.approx(base, abs=1e-10)
    assert linear_cka(7.5 * x, 0.01 * y, debiased=debiased) == pytest.approx(base, abs=1e-10)
    assert linear_cka(x + 3.0, y - 1.0, debiased=debiased) == pytest.approx(base, abs=1e-10)  # centring


@pytest.mark.parametrize("debiased", [False, True])
def test_not_invariant_to_arbitrary_invertible_maps(debiased):
    x = _rand(n=200, d=10, seed=5)
    a = _orthogonal(10, 6) @ np.diag(np.logspace(0, 3, 10)) @ _orthogonal(10, 7)  # invertible, anisotropic
    assert abs(np.linalg.det(a)) > 0
    assert linear_cka(x, x @ a, debiased=debiased) < 0.9


def test_debiased_near_zero_for_independent_features():
    x, y = _rand(n=100, d=500, seed=8), _rand(n=100, d=500, seed=9)
    biased, debiased = linear_cka(x, y), linear_cka(x, y, debiased=True)
    assert abs(debiased) < 0.05
    assert biased > 0.5  # the bias the debiased estimator removes (width >> examples)


def _hsic_direct_biased(k, l):
    n = k.shape[0]
    h = np.eye(n) - np.ones((n, n)) / n
    return np.trace(k @ h @ l @ h) / (n - 1) ** 2


def _hsic_direct_unbiased(k, l):
    """Song et al. 2012 as a sum of U-statistics over distinct index tuples."""
    n = k.shape[0]
    t1 = np.mean([k[i, j] * l[i, j] for i, j in itertools.permutations(range(n), 2)])
    t2 = np.mean([k[i, j] * l[q, r] for i, j, q, r in itertools.permutations(range(n), 4)])
    t3 = np.mean([k[i, j] * l[i, q] for i, j, q in itertools.permutations(range(n), 3)])
    return t1 + t2 - 2 * t3


@pytest.mark.parametrize("debiased", [False, True])
def test_agrees_with_direct_formula(debiased):
    x, y = _rand(n=7, d=3, seed=10), _rand(n=7, d=4, seed=11)
    k, l = x @ x.T, y @ y.T  # uncentred on purpose: both estimators centre themselves
    direct = _hsic_direct_unbiased if debiased else _hsic_direct_biased
    ours = hsic_unbiased if debiased else hsic_biased
    assert ours(k, l) == pytest.approx(direct(k, l), rel=1e-9, abs=1e-12)
    expected = direct(k, l) / np.sqrt(direct(k, k) * direct(l, l))
    assert linear_cka(x, y, debiased=debiased) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("debiased", [False, True])
def test_matrix_matches_pairs(debiased):
    xs = [_rand(n=30, d=4, seed=s) for s in (12, 13)]
    ys = [_rand(n=30, d=6, seed=s) for s in (14, 15, 16)]
    m = cka_matrix(xs, ys, debiased=debiased)
    assert m.shape == (2, 3)
    for i, j in itertools.product(range(2), range(3)):
        assert m[i, j] == pytest.approx(linear_cka(xs[i], ys[j], debiased=debiased), abs=1e-12)


def test_bad_inputs():
    with pytest.raises(ValueError, match="same examples"):
        linear_cka(_rand(n=10), _rand(n=11))
    with pytest.raises(ValueError, match="2-D"):
        linear_cka(np.zeros(5), np.zeros(5))
    with pytest.raises(ValueError, match="at least 4"):
        linear_cka(_rand(n=3), _rand(n=3), debiased=True)
    assert np.isnan(linear_cka(np.ones((10, 3)), _rand(n=10)))


# ------------------------------------------------------------------ known answers the report relies on


def test_debiased_of_independent_isotropic_features_is_near_zero_at_n100_d256():
    for seed in range(5):
        x, y = _rand(n=100, d=256, seed=10 + seed), _rand(n=100, d=256, seed=20 + seed)
        assert abs(linear_cka(x, y, debiased=True)) < 0.05
        assert linear_cka(x, y) > 0.6  # the biased estimator at this width


def test_x_vs_x_times_orthogonal_is_one():
    x = _rand(n=100, d=256, seed=30)
    xq = x @ _orthogonal(256, seed=31)
    assert linear_cka(x, xq, debiased=True) == pytest.approx(1.0, abs=1e-9)
    w = speaker_blocked_weights([f"s{i // 5}" for i in range(20)], 200, seed=0)
    reps = bootstrap_cka(x, xq, np.repeat(np.arange(20), 5), w)
    assert reps == pytest.approx(np.ones(200), abs=1e-9)


def _shared(n=200, d=64, seed=40):
    """Two views that share a low-rank signal, and independent noise."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, 8))
    return (z @ rng.standard_normal((8, d)) + rng.standard_normal((n, d)),
            z @ rng.standard_normal((8, d)) + rng.standard_normal((n, d)))


def test_bootstrap_with_unit_weights_is_the_estimate_and_stays_centred_for_independent_features():
    x, y = _rand(n=100, d=256, seed=50), _rand(n=100, d=256, seed=51)
    rows = np.repeat(np.arange(20), 5)
    assert bootstrap_cka(x, y, rows, np.ones((1, 20)))[0] == pytest.approx(linear_cka(x, y, debiased=True), abs=1e-12)
    w = speaker_blocked_weights([f"s{i // 4}" for i in range(20)], 500, seed=1)
    reps = bootstrap_cka(x, y, rows, w)
    assert abs(np.nanmean(reps)) < 0.05  # copies of a row are not counted as evidence
    # naively expanding the resample (copies as new rows) is biased upwards: what the weighting avoids
    b = w[0]
    idx = np.concatenate([np.repeat(np.where(rows == u)[0], 1) for u in range(20) for _ in range(b[u])])
    assert linear_cka(x[idx], y[idx], debiased=True) > reps[0] + 0.05


def test_bootstrap_interval_covers_shared_signal_and_pairs_differences():
    x, y = _shared()
    rows = np.repeat(np.arange(40), 5)
    w = speaker_blocked_weights([f"s{i // 4}" for i in range(40)], 500, seed=2)
    reps = bootstrap_cka(x, y, rows, w)
    lo, hi = percentile_interval(reps)
    assert lo < linear_cka(x, y, debiased=True) < hi and lo > 0.3
    # the same pair twice: the paired difference is exactly 0 in every replicate
    assert np.allclose(reps - bootstrap_cka(x, y, rows, w), 0.0)


def test_permutation_null_near_zero_for_independent_and_far_below_shared():
    rows = np.repeat(np.arange(40), 5)
    x, y = _rand(n=200, d=64, seed=60), _rand(n=200, d=64, seed=61)
    null = permutation_null(x, y, rows, 200, seed=0)
    s = null_summary(linear_cka(x, y, debiased=True), null)
    assert abs(s["mean"]) < 0.01 and s["p95"] < 0.05 and s["p"] > 0.01
    x, y = _shared()
    obs = linear_cka(x, y, debiased=True)
    s = null_summary(obs, permutation_null(x, y, rows, 200, seed=0))
    assert abs(s["mean"]) < 0.02 and obs > 0.3 > s["p95"]
    assert s["p"] == pytest.approx(1 / 201)  # +1 correction: never 0
    # shuffled inputs (the pairing of utterances broken) fall into the null
    perm = np.concatenate([np.arange(5) + 5 * u for u in np.random.default_rng(3).permutation(40)])
    shuffled = linear_cka(x, y[perm], debiased=True)
    assert null_summary(shuffled, permutation_null(x, y, rows, 200, seed=0))["p"] > 0.05


def test_permutation_null_with_unequal_rows_per_utterance():
    x, y = _shared(n=150)
    rows = np.sort(np.random.default_rng(4).integers(0, 30, size=150))
    null = permutation_null(x, y, rows, 100, seed=0)
    assert abs(np.nanmean(null)) < 0.05 and null_summary(linear_cka(x, y, debiased=True), null)["p"] < 0.02


def test_speaker_blocked_weights_resample_speakers_then_utterances():
    speakers = ["a"] * 3 + ["b"] * 3 + ["c"] * 3
    w = speaker_blocked_weights(speakers, 2000, seed=5)
    assert w.shape == (2000, 9) and np.all(w.sum(axis=1) == 9)
    per_speaker = w.reshape(2000, 3, 3).sum(axis=2)
    assert np.all(per_speaker % 3 == 0)  # each drawn speaker brings 3 utterance draws
    assert np.mean(per_speaker[:, 0] == 0) == pytest.approx((2 / 3) ** 3, abs=0.04)  # a speaker left out
    assert np.array_equal(w, speaker_blocked_weights(speakers, 2000, seed=5))
