"""The per-utterance sections of the HTML report: one per recipe and report set, every model's rows.

Each model's hypotheses come with sclite's edits (stage 9's results.json names where); the
report set is chosen per recipe where not given.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, List, Sequence, Tuple

from espnet_l2dual.analysis.study import Recipe
from espnet_l2dual.corpus.eval_set import AUTO, resolve_report_set
from espnet_l2dual.report.html_page import Section, copy_figures
from espnet_l2dual.report.utterance_rows import ModelRun, build_rows
from espnet_l2dual.scoring.by_divergence import parse_bins


def _results(recipe: Recipe, dirs: Sequence[str]) -> List[dict]:
    out = []
    for d in dirs:
        path = recipe.path / "exp" / d / "results.json"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: missing (run stage 9 of {path.parent})")
        out.append(json.loads(path.read_text(encoding="utf-8")))
    return out


def recipe_sections(recipes: Sequence[Path], names: Sequence[str], dirs: Sequence[str],
                    test_sets_given: Sequence[str], data_root: str, bins: str, out_dir: Path, copy_audio: bool,
                    with_figures: bool) -> Tuple[List[Section], List[Any], List[str]]:
    """Per recipe and report set, a section of per-utterance rows of the models ``exp/<dirs>``; the
    recipes' stage-10 figures copied next to the page; the sets used, in order."""
    sections: List[Section] = []
    figures: List[Any] = []
    used_sets: List[str] = []
    for r in recipes:
        recipe = Recipe(r)
        results = _results(recipe, dirs)
        test_sets = list(test_sets_given)
        if test_sets == [AUTO]:
            chosen, note = resolve_report_set(AUTO, [recipe.path / "exp" / d / "results.json" for d in dirs])
            test_sets = [chosen]
            if note:
                print(f"html_report: {note}", file=sys.stderr)
        used_sets += [t for t in test_sets if t not in used_sets]
        for test_set in test_sets:
            models = [ModelRun.load(recipe.path / "exp" / d, name, res, test_set)
                      for name, d, res in zip(names, dirs, results)]
            rows, header = build_rows(recipe.path / data_root / test_set, models, out_dir,
                                      copy_audio, bins, base=recipe.path)
            sections.append(Section(f"{recipe.lang} ({r}) {test_set}", rows, header,
                                    bins=[b.label for b in parse_bins(bins)]))
        fig_dir = recipe.path / "exp" / "analysis" / "figures"
        if with_figures and fig_dir.is_dir():
            figures += copy_figures(sorted(fig_dir.glob("*.png")), out_dir, recipe.lang)
    return sections, figures, used_sets
