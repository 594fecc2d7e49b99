"""Stage 10 end to end: the analysis of exp/ (:func:`espnet_l2dual.analysis.stage10_run.analyse`),
then its figures, ``analysis.json`` and ``REPORT.md``."""

from __future__ import annotations

import json
import logging
from argparse import Namespace
from pathlib import Path

from espnet_l2dual.analysis import plots
from espnet_l2dual.analysis.stage10_run import analyse
from espnet_l2dual.report import stage10
from espnet_l2dual.utils.fileio import atomic_write

log = logging.getLogger("espnet_l2dual.analysis")


def write_outputs(analysis: dict, out_dir: Path) -> None:
    """Figures, analysis.json and REPORT.md under ``out_dir``, each written atomically."""
    figures = plots.make_figures(analysis, out_dir)
    with atomic_write(out_dir / "analysis.json") as f:
        json.dump(analysis, f, ensure_ascii=False, indent=1)
        f.write("\n")
    with atomic_write(out_dir / "REPORT.md") as f:
        f.write(stage10.render(analysis, figures))
    log.info("wrote %s, %s and %d figures", out_dir / "REPORT.md", out_dir / "analysis.json",
             sum(len(v) for v in figures.values()))


def run_stage10(args: Namespace) -> dict:
    """Analyse exp/ and write the report (``args``: the options of ``espnet_l2dual.bin.analyze``)."""
    analysis = analyse(args)
    write_outputs(analysis, args.out_dir)
    return analysis
