"""Write the static HTML report (help: :mod:`espnet_l2dual.report.html_sections`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

from espnet_l2dual.corpus.eval_set import AUTO
from espnet_l2dual.errors import DataError
from espnet_l2dual.report import html_sections
from espnet_l2dual.report.html_page import render
from espnet_l2dual.report.html_sections import model_dirs, recipe_sections
from espnet_l2dual.scoring.by_divergence import DEFAULT_BINS


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=html_sections.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--recipes", nargs="+", required=True, type=Path, help="recipe dirs (egs2/l2<lang>/asr1)")
    models = p.add_mutually_exclusive_group(required=True)
    models.add_argument("--configs", nargs="+", help="models exp/asr_<config><suffix> of every recipe")
    models.add_argument("--tags", nargs="+", help="models exp/<tag> of every recipe (named by tag)")
    p.add_argument("--suffix", default="_tiny", help="with --configs: config size suffix (and _seed<N>)")
    p.add_argument("--test_sets", nargs="+", default=[AUTO],
                   help="a table per set (stage 9 scored them); default auto: per recipe, eval where every "
                        "model scored it, else test")
    p.add_argument("--data_root", default="dump/raw", help="data dirs, relative to each recipe")
    p.add_argument("--bins", default=DEFAULT_BINS, help="divergence bin edges (stage 9's --bins)")
    p.add_argument("--summary_md", type=Path, default=None, help="REPORT.md or RESULTS.md shown on top")
    p.add_argument("--no_figures", action="store_true", help="leave out exp/analysis/figures/*.png")
    p.add_argument("--copy_audio", action="store_true", help="copy the audio next to the page")
    p.add_argument("--title", default="espnet_l2dual report")
    p.add_argument("--out", required=True, type=Path, help="the page, e.g. exp/report/report.html")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    names, dirs = model_dirs(args.configs, args.tags, args.suffix)
    out_dir = args.out.parent
    try:
        sections, figures, used_sets = recipe_sections(args.recipes, names, dirs, args.test_sets, args.data_root,
                                                       args.bins, out_dir, args.copy_audio, not args.no_figures)
        summary = args.summary_md.read_text(encoding="utf-8") if args.summary_md else ""
    except (OSError, ValueError, DataError) as e:
        print(f"html_report: error: {e}", file=sys.stderr)
        return 1
    render(args.out, args.title, sections, summary, figures,
           provenance=f"models: {', '.join(dirs)}; test sets: {', '.join(used_sets)}",
           summary_dir=args.summary_md.parent if args.summary_md else None)
    print(f"html_report: wrote {args.out} ({sum(len(s.rows) for s in sections)} utterances)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
