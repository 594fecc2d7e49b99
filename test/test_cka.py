"""Linear CKA and its debiased estimator (espnet_l2dual.analysis.cka)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from espnet_l2dual.analysis.cka import cka_matrix, hsic_biased, hsic_unbiased, linear_cka


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
