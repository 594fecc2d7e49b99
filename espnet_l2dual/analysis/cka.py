"""Linear centred kernel alignment (CKA) between two sets of representations.

CKA (Kornblith et al. 2019) compares two representations of the same examples,
``X [n, d1]`` and ``Y [n, d2]``, independent of their width and invariant to
orthogonal transforms and isotropic scaling, so a layer of one model can be compared
with any layer of another.  With few examples relative to the width the usual
(biased) HSIC estimate makes unrelated representations look similar; the debiased
variant uses the unbiased HSIC estimator of Song et al. 2012, whose expectation is
0 for independent features.

Everything is computed in float64 on Gram matrices (n x n), so memory is set by
the number of examples (the frame subsample), not by the test set.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def _as_2d(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D [examples, features] array, got shape {x.shape}")
    return x


def _check_pair(x: np.ndarray, y: np.ndarray, debiased: bool) -> None:
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"CKA needs the same examples on both sides: {x.shape[0]} vs {y.shape[0]} rows")
    need = 4 if debiased else 2
    if x.shape[0] < need:
        raise ValueError(f"CKA{' (debiased)' if debiased else ''} needs at least {need} examples, "
                         f"got {x.shape[0]}")


def hsic_biased(k: np.ndarray, l: np.ndarray) -> float:
    """tr(K H L H) / (n-1)^2 with H the centring matrix (Gretton et al. 2005)."""
    n = k.shape[0]
    kc = k - k.mean(axis=0, keepdims=True)
    kc = kc - kc.mean(axis=1, keepdims=True)
    lc = l - l.mean(axis=0, keepdims=True)
    lc = lc - lc.mean(axis=1, keepdims=True)
    return float(np.sum(kc * lc) / (n - 1) ** 2)


def hsic_unbiased(k: np.ndarray, l: np.ndarray) -> float:
    """Song et al. 2012, eq. 5: unbiased HSIC from Gram matrices with zeroed diagonals.

    HSIC_1 = [tr(K~L~) + 1'K~1 1'L~1 / ((n-1)(n-2)) - 2/(n-2) 1'K~L~1] / (n(n-3))
    """
    n = k.shape[0]
    kt = k.copy()
    lt = l.copy()
    np.fill_diagonal(kt, 0.0)
    np.fill_diagonal(lt, 0.0)
    k_sum = kt.sum()
    l_sum = lt.sum()
    trace = float(np.sum(kt * lt))  # tr(K~ L~) for symmetric matrices
    cross = float(kt.sum(axis=0) @ lt.sum(axis=1))  # 1' K~ L~ 1
    return (trace + k_sum * l_sum / ((n - 1) * (n - 2)) - 2.0 * cross / (n - 2)) / (n * (n - 3))


def linear_cka(x: np.ndarray, y: np.ndarray, debiased: bool = False) -> float:
    """Linear CKA of ``x [n, d1]`` and ``y [n, d2]`` (rows = the same examples).

    Returns a value in [0, 1] for the biased estimator; the debiased one can be slightly
    negative for unrelated features.  A constant representation has no variance to
    compare and gives NaN.
    """
    x = _as_2d(x, "x")
    y = _as_2d(y, "y")
    _check_pair(x, y, debiased)
    x = x - x.mean(axis=0, keepdims=True)
    y = y - y.mean(axis=0, keepdims=True)
    k = x @ x.T
    l = y @ y.T
    hsic = hsic_unbiased if debiased else hsic_biased
    kl = hsic(k, l)
    kk = hsic(k, k)
    ll = hsic(l, l)
    denom = kk * ll
    if not np.isfinite(denom) or denom <= 0.0:
        return float("nan")
    return float(kl / np.sqrt(denom))


def cka_matrix(xs: Sequence[np.ndarray], ys: Sequence[np.ndarray], debiased: bool = False) -> np.ndarray:
    """CKA of every layer of ``xs`` with every layer of ``ys``: an ``[len(xs), len(ys)]`` array.

    Gram matrices are computed once per layer, so the cost is one n x n product per layer
    plus one elementwise product per pair.
    """
    hsic = hsic_unbiased if debiased else hsic_biased
    grams_x = [_gram(_as_2d(x, "x")) for x in xs]
    grams_y = [_gram(_as_2d(y, "y")) for y in ys]
    for x in xs:
        for y in ys:
            _check_pair(np.asarray(x), np.asarray(y), debiased)
    self_x = [hsic(k, k) for k in grams_x]
    self_y = [hsic(l, l) for l in grams_y]
    out = np.full((len(xs), len(ys)), np.nan)
    for i, k in enumerate(grams_x):
        for j, l in enumerate(grams_y):
            denom = self_x[i] * self_y[j]
            if np.isfinite(denom) and denom > 0.0:
                out[i, j] = hsic(k, l) / np.sqrt(denom)
    return out


def _gram(x: np.ndarray) -> np.ndarray:
    x = x - x.mean(axis=0, keepdims=True)
    return x @ x.T
