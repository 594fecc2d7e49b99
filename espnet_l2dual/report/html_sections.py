"""Write the static HTML report: summary tables, figures, and a per-utterance table of the report set.

    # run_all.sh's report, beside REPORT.md (every recipe, every config):
    python -m espnet_l2dual.bin.html_report --recipes egs2/l2ko/asr1 egs2/l2en/asr1 \\
        --configs stl_surface stl_meaning mtl --suffix _tiny --summary_md exp/report/REPORT.md \\
        --out exp/report/report.html
    # stage 9's page of one model (run in the recipe):
    python -m espnet_l2dual.bin.html_report --recipes . --tags asr_mtl_tiny \\
        --summary_md exp/asr_mtl_tiny/RESULTS.md --out exp/asr_mtl_tiny/report.html

Each row: the audio, the reference and every model's hypothesis of each output with
sclite's edits highlighted, the divergence, the mispronunciations (canonical vs the
annotation and vs each model's surface output) where ``text_canonical`` exists; filters
by divergence bin, speaker and the sign of MTL − STL (MTL's edits minus those of the STL
model of that output on that utterance), and an order by it. Relative links in the summary
are rewritten to resolve from the page's folder. Audio is linked relative to the page (``--copy_audio``
copies it next to the page, to move the report elsewhere). Opens from file://, no network.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple

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


def model_dirs(configs: Optional[Sequence[str]], tags: Optional[Sequence[str]],
               suffix: str) -> Tuple[List[str], List[str]]:
    """(names shown, ``exp/`` dirs) of the models: ``asr_<config><suffix>`` named by config, else by tag."""
    if configs:
        return list(configs), [f"asr_{c}{suffix}" for c in configs]
    return list(tags or []), list(tags or [])
