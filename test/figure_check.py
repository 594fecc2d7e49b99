"""Is anything drawn inside a figure's plot area? (test helper, reads the PNG only)

A saved figure with a title, labels, ticks and a legend but no data is a large PNG too, so
file size says nothing. Here the plot area is found from its frame (the longest dark
horizontal line is the top or bottom spine of the main axes), and what counts is the
coloured pixels inside it: data lines, markers and heat-map cells are coloured, while text,
spines, grid and the white background are grey. The coloured pixels must also spread over
half the plot width, so a legend's coloured samples inside the axes do not count as data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Tuple

import numpy as np


def _longest_run(mask: np.ndarray) -> Tuple[int, int]:
    """(length, start) of the longest run of True in a 1-d boolean array."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    starts, ends = edges[::2], edges[1::2]
    if len(starts) == 0:
        return 0, 0
    k = int(np.argmax(ends - starts))
    return int(ends[k] - starts[k]), int(starts[k])


def plot_area(rgb: np.ndarray) -> Tuple[int, int, int, int]:
    """(top, bottom, left, right) pixel rows/columns of the main axes' frame."""
    dark = rgb.max(axis=2) < 0.35
    runs = [_longest_run(row) for row in dark]
    longest = max(r[0] for r in runs)
    if longest < 0.25 * rgb.shape[1]:
        raise AssertionError(f"no axes frame found (longest dark line {longest} px of {rgb.shape[1]})")
    rows = [i for i, (n, _) in enumerate(runs) if n >= 0.9 * longest]
    n, left = runs[rows[0]]
    return rows[0], rows[-1], left, left + n - 1


def drawn_in_plot_area(png: Path) -> Dict[str, float]:
    """Share of coloured pixels inside the plot area and the share of its width they span."""
    import matplotlib.image

    img = matplotlib.image.imread(str(png))
    rgb = img[..., :3].astype(float)
    if img.dtype == np.uint8:
        rgb = rgb / 255.0
    top, bottom, left, right = plot_area(rgb)
    inner = rgb[top + 3:bottom - 2, left + 3:right - 2]
    if inner.size == 0:
        raise AssertionError(f"{png}: the plot area is empty ({top}, {bottom}, {left}, {right})")
    coloured = (inner.max(axis=2) - inner.min(axis=2)) > 0.2
    cols = np.flatnonzero(coloured.any(axis=0))
    spread = (cols[-1] - cols[0] + 1) / inner.shape[1] if len(cols) else 0.0
    return {"coloured": float(coloured.mean()), "spread": float(spread)}


def assert_drawn(png: Path) -> None:
    """Fail unless data (not just a frame, text or a legend) is drawn in the plot area."""
    d = drawn_in_plot_area(png)
    assert d["coloured"] > 0.002 and d["spread"] > 0.5, f"{png.name}: nothing drawn in the plot area {d}"
