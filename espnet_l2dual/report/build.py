"""run_all.sh's last step: one cross-language report (REPORT.md + report.json).

Needs, per recipe: ``exp/asr_<config><suffix>/results.json`` of every --configs entry
(stage 9, with the sclite files it points at) and ``exp/analysis/analysis.json``
(stage 10; leave it out with --without_analysis). With --seeds N ...: the tags
``asr_<config><suffix>_seed<N>`` and stage-10 groups ``<size>_seed<N>`` of every seed, and the
report over seeds (:mod:`espnet_l2dual.analysis.seed_study`).

The set reported on (``--test_set auto``): ``eval``, the held-out set of the mini corpus, when
every model scored it, else ``test``; report.json and REPORT.md name it.

With ``--study studies/<name>`` the same report is rebuilt from the study store alone (no
exp/, no models): languages, configs, seeds, size and evaluation set default to what its
records say, and each language's stage-10 report and figures are redrawn from the stored
analyses (``<out_dir>/<lang>/analysis/``). The per-utterance HTML page needs the audio and
the decode dirs, which the store does not keep: it is not made from the store.

A method config (anything but stl_surface, stl_meaning, mtl) that was never scored in a recipe
(no results.json) is left out of that language's rows and named on stderr and in REPORT.md; with
--seeds, or for STL/MTL, or for anything else missing, no report is written.

exit status:
  0  report written, every config of --configs found in every recipe
  1  inputs missing or unusable (one line each on stderr); no report written
  2  bad options or inconsistent inputs (e.g. two recipes of one language); no report written
  3  report written, but some method configs are absent from some recipes (named on stderr)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

from espnet_l2dual.report.cross_language import render
from espnet_l2dual.report.over_seeds import render_over_seeds
from espnet_l2dual.utils.fileio import atomic_write
from espnet_l2dual.utils.provenance import made_on


def write_report(data: Dict[str, Any], recipes: list, out_dir: Path, over_seeds: bool, from_store: bool) -> None:
    """The cross-language report's files: REPORT.md rendered from its numbers, and report.json, in
    ``out_dir``, each written atomically; ``data`` gets when and where it was made. From a store, REPORT.md links each language's stage-10 report."""
    data["made"] = made_on()
    details = {r.lang: out_dir / r.lang / "analysis" / "REPORT.md" for r in recipes} if from_store else None
    text = render_over_seeds(data) if over_seeds else render(data, out_dir=out_dir, details=details)
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_write(out_dir / "report.json") as f:
        json.dump(data, f, indent=2, ensure_ascii=False)
    with atomic_write(out_dir / "REPORT.md") as f:
        f.write(text)


def absent_notes(data: Dict[str, Any], suffix: str) -> List[str]:
    """Per language, the method configs left out of the report because no recipe scored them."""
    return [f"{lang}: not in the report (no results.json): " + ", ".join(f"asr_{c}{suffix}" for c in configs)
            for lang, configs in (data.get("absent_configs") or {}).items()]
