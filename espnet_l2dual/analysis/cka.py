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

from typing import Optional, Sequence

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


# ------------------------------------------------------------------ resampling (rows grouped by utterance)


def _check_rows(x: np.ndarray, y: np.ndarray, row_utt: np.ndarray) -> np.ndarray:
    row_utt = np.asarray(row_utt, dtype=np.int64)
    if row_utt.shape != (x.shape[0],) or x.shape[0] != y.shape[0]:
        raise ValueError(f"row_utt must give one utterance per row: {row_utt.shape} for {x.shape[0]} "
                         f"and {y.shape[0]} rows")
    if row_utt.size and (np.any(np.diff(row_utt) < 0) or row_utt[0] < 0):
        raise ValueError("rows must be grouped by utterance, in utterance order")
    return row_utt


class _Resamples:
    """Per-row weights of every resample and the utterance blocks of the rows."""

    def __init__(self, row_utt: np.ndarray, weights: np.ndarray) -> None:
        self.row_utt = row_utt
        self.n_utts = weights.shape[1]
        self.wu = np.zeros((weights.shape[0], self.n_utts))
        self.wu[:] = weights
        self.wr = self.wu[:, row_utt]  # [B, n] weight of each row
        self.n = self.wr.sum(axis=1)
        self.present, starts, counts = np.unique(row_utt, return_index=True, return_counts=True)
        # [present utterances, most rows]: the rows of each utterance, padded with an all-zero row (index n)
        pos = np.arange(counts.max())
        self.gather = np.where(pos < counts[:, None], starts[:, None] + pos, len(row_utt))

    def blocks(self, m: np.ndarray) -> np.ndarray:
        """``[U, ...]``: ``m`` summed over the rows of each utterance (rows are grouped by utterance)."""
        padded = np.concatenate([m, np.zeros((1,) + m.shape[1:])])
        out = np.zeros((self.n_utts,) + m.shape[1:])
        out[self.present] = padded[self.gather].sum(axis=1)
        return out

    def row_sums(self, k: np.ndarray) -> np.ndarray:
        """``[B, n]``: for each row, the kernel summed over the other rows' copies (K~ 1 of the resample)."""
        return self.wu @ self.blocks(k) - self.wr * np.diag(k)

    def hsic(self, k: np.ndarray, l: np.ndarray, rk: np.ndarray, rl: np.ndarray) -> np.ndarray:
        """Unbiased HSIC (Song et al. 2012) of each resample, from the Gram matrices of the originals.

        The estimator applied to the expanded resample with the kernel entries between two
        copies of one row set to zero like the diagonal (a row paired with its own copy
        carries no evidence), so replicates of independent features stay centred on 0;
        with all weights 1 it equals :func:`hsic_unbiased`.  Computed through ``U x U``
        block sums, never expanding the rows.
        """
        g = self.blocks(self.blocks(k * l).T)  # [U, U]: sum_{i in u, j in v} K_ij L_ij (symmetric)
        d = np.bincount(self.row_utt, weights=np.diag(k) * np.diag(l), minlength=self.n_utts)
        a = np.sum((self.wu @ g) * self.wu, axis=1) - (self.wu ** 2) @ d
        tk, tl = np.sum(self.wr * rk, axis=1), np.sum(self.wr * rl, axis=1)
        c = np.sum(self.wr * rk * rl, axis=1)
        n = self.n
        with np.errstate(divide="ignore", invalid="ignore"):
            return (a + tk * tl / ((n - 1) * (n - 2)) - 2.0 * c / (n - 2)) / (n * (n - 3))


def bootstrap_cka(x: np.ndarray, y: np.ndarray, row_utt: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Debiased linear CKA of each resample ``weights [B, U]`` (counts per utterance): ``[B]``.

    Rows of ``x`` and ``y`` are the same examples, grouped by utterance (``row_utt``,
    non-decreasing).  A replicate with fewer than 4 rows or no variance is NaN.
    """
    x, y = _as_2d(x, "x"), _as_2d(y, "y")
    row_utt = _check_rows(x, y, row_utt)
    weights = np.asarray(weights)
    if weights.ndim != 2 or (row_utt.size and weights.shape[1] <= row_utt.max()):
        raise ValueError(f"weights must be [replicates, utterances], got {weights.shape}")
    r = _Resamples(row_utt, weights)
    xc, yc = x - x.mean(axis=0), y - y.mean(axis=0)
    k, l = xc @ xc.T, yc @ yc.T
    rk, rl = r.row_sums(k), r.row_sums(l)
    xy, xx, yy = r.hsic(k, l, rk, rl), r.hsic(k, k, rk, rk), r.hsic(l, l, rl, rl)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = xy / np.sqrt(xx * yy)
    out[~((xx > 0) & (yy > 0) & (r.n >= 4))] = np.nan
    return out


def _even(count: int, k: int) -> np.ndarray:
    """``k`` of ``count`` positions, evenly spread over the utterance (distinct since k <= count)."""
    return (np.arange(k) * count) // k


def permutation_null(x: np.ndarray, y: np.ndarray, row_utt: np.ndarray, n_perm: int, seed: int,
                     debiased: bool = True) -> np.ndarray:
    """CKA with the utterance pairing shuffled: ``[n_perm]`` values of the null "unrelated".

    Each utterance's rows of ``x`` are paired with the rows of another utterance of ``y``
    (a random permutation of utterances); where the two have different numbers of rows,
    both keep the same number, evenly spread over time.  What survives the shuffle is
    what every utterance shares (e.g. position in the utterance), not what pairs them.
    """
    x, y = _as_2d(x, "x"), _as_2d(y, "y")
    row_utt = _check_rows(x, y, row_utt)
    present, starts, counts = np.unique(row_utt, return_index=True, return_counts=True)
    if len(present) < 2:
        raise ValueError("a permutation null needs at least 2 utterances")
    rng = np.random.default_rng(seed)
    equal = bool(np.all(counts == counts[0]))
    a, b_full = _Features(x), _Features(y)
    aa, bb = _hsic_features(a, a, debiased), _hsic_features(b_full, b_full, debiased)
    out = np.empty(n_perm)
    for p in range(n_perm):
        perm = rng.permutation(len(present))
        if equal:  # a row permutation of y: its self-similarity is unchanged
            iy = np.concatenate([starts[j] + np.arange(counts[j]) for j in perm])
            b = _Features(y[iy])
            out[p] = _cka(a, b, aa, bb, debiased)
            continue
        ix, iy = [], []
        for i, j in enumerate(perm):
            k = int(min(counts[i], counts[j]))
            ix.append(starts[i] + _even(int(counts[i]), k))
            iy.append(starts[j] + _even(int(counts[j]), k))
        xs, ys = x[np.concatenate(ix)], y[np.concatenate(iy)]
        out[p] = linear_cka(xs, ys, debiased=debiased) if xs.shape[0] >= 4 else np.nan
    return out


def null_summary(observed: Optional[float], null: np.ndarray) -> dict:
    """Mean and 95th percentile of the null and the one-sided permutation p-value,
    ``(1 + #{null >= observed}) / (1 + n_perm)`` (never 0)."""
    vals = null[np.isfinite(null)]
    if observed is None or not np.isfinite(observed) or vals.size == 0:
        return {"n_perm": int(vals.size), "mean": None, "p95": None, "p": None}
    return {"n_perm": int(vals.size), "mean": float(vals.mean()), "p95": float(np.quantile(vals, 0.95)),
            "p": float((1 + np.sum(vals >= observed)) / (1 + vals.size))}
