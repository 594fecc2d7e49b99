"""Orthogonal task subspaces: a penalty on what two task projections have in common.

Each output reads the shared encoder through its own linear projection; the
penalty pushes the two projected representations towards unrelated subspaces.
``cka`` (linear CKA, scale-invariant: the projections cannot dodge it by
shrinking) is the default; ``xcov`` is the squared Frobenius norm of the
cross-covariance.  Only valid (non-padded) frames count.
"""

from __future__ import annotations

import torch

PENALTIES = ("cka", "xcov")


def valid_frames(x: torch.Tensor, lens: torch.Tensor) -> torch.Tensor:
    """(B, T, D) padded frames -> (N, D) frames that lie inside their utterance."""
    mask = torch.arange(x.size(1), device=x.device)[None, :] < lens.to(x.device)[:, None]
    return x[mask]


def cross_covariance_penalty(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """||cov(a, b)||_F^2 for (N, Da) and (N, Db) samples."""
    a = a - a.mean(dim=0, keepdim=True)
    b = b - b.mean(dim=0, keepdim=True)
    cov = a.t() @ b / max(a.size(0) - 1, 1)
    return (cov * cov).sum()


def linear_cka(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Linear CKA (Kornblith et al. 2019) between (N, Da) and (N, Db) samples, in [0, 1]."""
    a = a - a.mean(dim=0, keepdim=True)
    b = b - b.mean(dim=0, keepdim=True)
    cross = (b.t() @ a).pow(2).sum()
    norm_a = (a.t() @ a).pow(2).sum().sqrt()
    norm_b = (b.t() @ b).pow(2).sum().sqrt()
    return cross / (norm_a * norm_b + eps)


def subspace_penalty(kind: str, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    if kind == "cka":
        return linear_cka(a, b)
    if kind == "xcov":
        return cross_covariance_penalty(a, b)
    raise ValueError(f"model_conf.ortho_penalty: unknown '{kind}' (expected {', '.join(PENALTIES)})")
