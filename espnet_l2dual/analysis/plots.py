"""Figures of the stage-10 analysis (matplotlib, Agg backend, PNG).

Every figure has a title, axis labels and a legend (or a colour bar), so it reads on its own
in REPORT.md.  Functions take plain numbers (from analysis.json) and a target path.
"""

from __future__ import annotations

import os
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
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.png")
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
    for k, (label, ys) in enumerate(lines.items()):  # a shorter series covers the first positions
        ys = _nan(ys)[: len(xticks)]
        ax.plot(x[: len(ys)], ys, marker=markers[k % len(markers)], label=label)
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


# ------------------------------------------------------------------ all figures of analysis.json


def _label(group: dict, tag: str) -> str:
    if tag == group["stl_surface"]:
        return f"STL-surface ({tag})"
    if tag == group["stl_meaning"]:
        return f"STL-meaning ({tag})"
    return f"MTL ({tag})"


def make_figures(analysis: dict, out_dir: Path) -> dict:
    """Draw every figure; returns ``{group: {figure key: path relative to out_dir}}``."""
    est = analysis["settings"]["estimator"]
    figs: dict = {}
    for g, group in analysis["groups"].items():
        sfx = g.replace("/", "_")
        out: dict = {}

        def put(key: str, fname: str, fn, *a, **kw):
            fn(out_dir / "figures" / fname, *a, **kw)
            out[key] = f"figures/{fname}"

        def per_layer(key: str, title: str, lines: dict) -> None:
            """A CKA-per-layer figure, if any curve exists; x runs over the longest curve."""
            if lines:
                n = max(len(v) for v in lines.values())
                put(key, f"{key}_{sfx}.png", cka_layer_plot, title, [str(i) for i in range(n)], lines, est)

        div = group["divergence"]
        lines = {}
        for tag, outputs in div["error"].items():
            for o, e in outputs.items():
                m = div["metric"][o]  # the output's headline error rate (PER for phones)
                lines[f"{_label(group, tag)} {o} {m['name']}"] = [b[m["kind"]] for b in e["bins"]]
        put("divergence", f"divergence_{sfx}.png", divergence_plot,
            f"Error by surface–meaning divergence ({g})", div["bins"], lines,
            metric="/".join(dict.fromkeys(m["name"] for m in div["metric"].values())))

        enc = group["encoder_cka"]
        lines = {}
        for key, pair in enc["pairs"].items():
            if pair.get(est):
                lines[f"{pair['a']} vs {pair['b']}"] = pair[est]["diag"]
        per_layer("encoder_cka", f"Encoder CKA per layer ({g})", lines)
        for key, pair in enc["pairs"].items():
            if pair.get(est):
                put(f"heatmap:{key}", f"cka_matrix_{sfx}_{key}.png", heatmap,
                    f"Encoder CKA, layer x layer\n{pair['a']} vs {pair['b']}", pair[est]["matrix"],
                    f"{pair['b']} layer", f"{pair['a']} layer", est)

        lines = {f"{tag}: surface vs meaning context": p[est]["diag"]
                 for tag, p in group["context_cka"].items() if p.get(est)}
        per_layer("context_cka", f"MTL source-attention contexts: surface vs meaning ({g})", lines)

        lines = {}
        for tag, per in group["decoder_cka"].items():
            for o, p in per.items():
                if p.get(est):
                    lines[f"{o}: {p['a']} vs {p['b']}"] = p[est]["diag"]
        per_layer("decoder_cka", f"Decoder hidden states, MTL vs STL ({g})", lines)

        tv = group["task_vectors"]
        if tv["layers"]:
            put("task_vectors", f"task_vectors_{sfx}.png", task_vector_plot,
                f"Encoder task vectors from θ0 ({g})", [r["layer"][5:] for r in tv["layers"]],
                [r["cosine"] for r in tv["layers"]])

        lines, layers = {}, []
        for tag, gc in group["gradient_conflict"].items():
            if "skipped" in gc:
                continue
            if len(gc["layers"]) > len(layers):
                layers = [r["layer"][5:] for r in gc["layers"]]
            lines[f"{tag} (mean of {gc['n_batches']} batches)"] = [r["mean"] for r in gc["layers"]]
        if lines:
            put("gradient_conflict", f"gradient_conflict_{sfx}.png", gradient_plot,
                f"Gradient conflict in the shared encoder ({g})", layers, lines)
        figs[g] = out
    return figs
