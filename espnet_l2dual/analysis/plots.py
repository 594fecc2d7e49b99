"""Figures of the stage-10 analysis (matplotlib, Agg backend, PNG).

Every figure has a title, axis labels and a legend (or a colour bar), so it reads on its own
in REPORT.md.  Functions take plain numbers (from analysis.json) and a target path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Optional, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _nan(values: Sequence[Optional[float]]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return path


def line_plot(path: Path, title: str, xlabel: str, ylabel: str, xticks: Sequence[str],
              lines: Mapping[str, Sequence[Optional[float]]], hline: Optional[float] = None,
              ylim: Optional[tuple] = None) -> Path:
    """One line per series over categorical x positions (bins or layers)."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    x = np.arange(len(xticks))
    markers = "osD^vx*P"
    for k, (label, ys) in enumerate(lines.items()):
        ax.plot(x, _nan(ys), marker=markers[k % len(markers)], label=label)
    if hline is not None:
        ax.axhline(hline, color="grey", linewidth=0.8, linestyle="--")
    ax.set_xticks(x)
    ax.set_xticklabels(list(xticks))
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def divergence_plot(path: Path, title: str, bins: Sequence[str],
                    lines: Mapping[str, Sequence[Optional[float]]], metric: str = "CER") -> Path:
    return line_plot(path, title, "surface–meaning divergence bin", f"{metric} (%)", bins, lines)


def cka_layer_plot(path: Path, title: str, layers: Sequence[str],
                   lines: Mapping[str, Sequence[Optional[float]]], estimator: str) -> Path:
    return line_plot(path, title, "layer", f"CKA ({estimator})", layers, lines, ylim=(-0.05, 1.05))


def gradient_plot(path: Path, title: str, layers: Sequence[str],
                  lines: Mapping[str, Sequence[Optional[float]]]) -> Path:
    return line_plot(path, title, "encoder layer", "cosine(∇ surface loss, ∇ meaning loss)", layers, lines,
                     hline=0.0, ylim=(-1.05, 1.05))


def task_vector_plot(path: Path, title: str, layers: Sequence[str], cosines: Sequence[Optional[float]]) -> Path:
    return line_plot(path, title, "encoder layer", "cosine(Δθ STL-surface, Δθ STL-meaning)", layers,
                     {"task-vector cosine": cosines}, hline=0.0, ylim=(-1.05, 1.05))


def heatmap(path: Path, title: str, matrix: Sequence[Sequence[Optional[float]]], xlabel: str, ylabel: str,
            estimator: str) -> Path:
    """Layer x layer CKA matrix; rows = layers of the y-axis model."""
    m = np.array([_nan(r) for r in matrix], dtype=float)
    fig, ax = plt.subplots(figsize=(5.2, 4.4))
    im = ax.imshow(m, vmin=0.0, vmax=1.0, cmap="viridis", origin="lower")
    ax.set_xticks(range(m.shape[1]))
    ax.set_yticks(range(m.shape[0]))
    if m.size <= 100:
        for i in range(m.shape[0]):
            for j in range(m.shape[1]):
                if np.isfinite(m[i, j]):
                    ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=7,
                            color="white" if m[i, j] < 0.6 else "black")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    fig.colorbar(im, ax=ax, label=f"CKA ({estimator})")
    return _save(fig, path)
