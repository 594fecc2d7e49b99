"""Linear centred kernel alignment (CKA) between two sets of representations.

CKA (Kornblith et al. 2019) compares two representations of the same examples,
``X [n, d1]`` and ``Y [n, d2]``, independent of their width and invariant to
orthogonal transforms and isotropic scaling, so a layer of one model can be compared
with any layer of another.  With few examples relative to the width the usual
(biased) HSIC estimate makes unrelated representations look similar; the debiased
variant uses the unbiased HSIC estimator of Song et al. 2012, whose expectation is
0 for independent features.

Everything is computed in float64 from the features (never an n x n Gram matrix), so
memory is linear in the number of examples (the frame subsample), not set by the
test set.  ``hsic_biased``/``hsic_unbiased`` are the Gram-matrix definitions.
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


class _Features:
    """Centred features and the per-example terms both estimators need (no n x n Gram matrix)."""

    def __init__(self, x: np.ndarray):
        self.x = x - x.mean(axis=0, keepdims=True)
        self.n = x.shape[0]
        self.diag = np.einsum("ij,ij->i", self.x, self.x)  # diagonal of K = X X'
        self.row_sums = self.x @ self.x.sum(axis=0) - self.diag  # K~ 1 (diagonal zeroed)
        self.total = float(self.row_sums.sum())  # 1' K~ 1


def _hsic_features(a: _Features, b: _Features, debiased: bool) -> float:
    """HSIC of the linear kernels of ``a`` and ``b`` in O(n d1 d2), from the features."""
    cross = float(np.sum((a.x.T @ b.x) ** 2))  # tr(K L) = ||X'Y||_F^2
    n = a.n
    if not debiased:
        return cross / (n - 1) ** 2  # features are centred, so tr(KHLH) = tr(KL)
    trace = cross - float(a.diag @ b.diag)  # tr(K~ L~)
    return (trace + a.total * b.total / ((n - 1) * (n - 2))
            - 2.0 * float(a.row_sums @ b.row_sums) / (n - 2)) / (n * (n - 3))


def _cka(a: _Features, b: _Features, aa: float, bb: float, debiased: bool) -> float:
    denom = aa * bb
    if not np.isfinite(denom) or denom <= 0.0:
        return float("nan")
    return float(_hsic_features(a, b, debiased) / np.sqrt(denom))


def linear_cka(x: np.ndarray, y: np.ndarray, debiased: bool = False) -> float:
    """Linear CKA of ``x [n, d1]`` and ``y [n, d2]`` (rows = the same examples).

    Returns a value in [0, 1] for the biased estimator; the debiased one can be slightly
    negative for unrelated features.  A constant representation has no variance to
    compare and gives NaN.  Computed from the features, equal to the Gram-matrix
    definition (``hsic_biased`` / ``hsic_unbiased``) but O(n d^2) instead of O(n^2 d).
    """
    x = _as_2d(x, "x")
    y = _as_2d(y, "y")
    _check_pair(x, y, debiased)
    a, b = _Features(x), _Features(y)
    return _cka(a, b, _hsic_features(a, a, debiased), _hsic_features(b, b, debiased), debiased)


def cka_matrix(xs: Sequence[np.ndarray], ys: Sequence[np.ndarray], debiased: bool = False) -> np.ndarray:
    """CKA of every layer of ``xs`` with every layer of ``ys``: an ``[len(xs), len(ys)]`` array."""
    xs = [_as_2d(x, "x") for x in xs]
    ys = [_as_2d(y, "y") for y in ys]
    for x in xs:
        for y in ys:
            _check_pair(x, y, debiased)
    fx, fy = [_Features(x) for x in xs], [_Features(y) for y in ys]
    self_x = [_hsic_features(a, a, debiased) for a in fx]
    self_y = [_hsic_features(b, b, debiased) for b in fy]
    out = np.full((len(xs), len(ys)), np.nan)
    for i, a in enumerate(fx):
        for j, b in enumerate(fy):
            out[i, j] = _cka(a, b, self_x[i], self_y[j], debiased)
    return out
