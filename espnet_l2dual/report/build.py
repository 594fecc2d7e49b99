"""The cross-language report's files: REPORT.md rendered from its numbers, and report.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

from espnet_l2dual.report.cross_language import render
from espnet_l2dual.report.over_seeds import render_over_seeds
from espnet_l2dual.utils.fileio import atomic_write
from espnet_l2dual.utils.provenance import made_on


def write_report(data: Dict[str, Any], recipes: list, out_dir: Path, over_seeds: bool, from_store: bool) -> None:
    """REPORT.md and report.json in ``out_dir``, each written atomically; ``data`` gets when and where
    it was made. From a store, REPORT.md links each language's stage-10 report."""
    data["made"] = made_on()
    details = {r.lang: out_dir / r.lang / "analysis" / "REPORT.md" for r in recipes} if from_store else None
    text = render_over_seeds(data) if over_seeds else render(data, out_dir=out_dir, details=details)
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_write(out_dir / "report.json") as f:
        json.dump(data, f, indent=2, ensure_ascii=False)
    with atomic_write(out_dir / "REPORT.md") as f:
        f.write(text)
