"""A language's stage-10 REPORT.md and figures, redrawn from the analyses a study store holds.

The store keeps the numbers, not the pages: a fresh clone rebuilds them without the models.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from espnet_l2dual.utils.fileio import atomic_write


def redraw_stage10(source: Any, out_dir: Path) -> None:
    """A language's stage-10 REPORT.md and figures, redrawn from the stored analyses."""
    from espnet_l2dual.analysis import plots
    from espnet_l2dual.report import stage10

    analysis = source.load_analysis().data
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        figures = plots.make_figures(analysis, out_dir)
        text = stage10.render(analysis, figures)
    except (KeyError, TypeError, IndexError) as e:
        print(f"make_report: {source.path}: the stored analyses lack {e} (a stage 10 of another toolkit "
              f"version?): no stage-10 report or figures in {out_dir}", file=sys.stderr)
        return
    with atomic_write(out_dir / "REPORT.md") as f:
        f.write(text)
    with atomic_write(out_dir / "analysis.json") as f:
        json.dump(analysis, f, ensure_ascii=False, indent=1)
