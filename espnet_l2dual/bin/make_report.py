"""run_all.sh's last step: one cross-language report (REPORT.md + report.json)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import List, Optional

from espnet_l2dual.report.cross_language import Recipe, collect, render
from espnet_l2dual.utils.fileio import atomic_write


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--recipes", nargs="+", required=True, type=Path, help="e.g. egs2/l2ko/asr1 egs2/l2en/asr1")
    p.add_argument("--configs", nargs="+", default=["stl_surface", "stl_meaning", "mtl"])
    p.add_argument("--suffix", default="_tiny", help="config size suffix: _tiny or empty for full")
    p.add_argument("--test_set", default="test")
    p.add_argument("--out_dir", required=True, type=Path)
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    data = collect([Recipe(r) for r in args.recipes], args.configs, args.suffix, args.test_set)
    missing = [
        f"{lang}/{o}"
        for lang, d in data["languages"].items()
        for o, row in d["outputs"].items()
        if row["cer"]["stl"] is None or row["cer"]["mtl"] is None
    ]
    args.out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_write(args.out_dir / "report.json") as f:
        json.dump(data, f, indent=2, ensure_ascii=False)
    with atomic_write(args.out_dir / "REPORT.md") as f:
        f.write(render(data))
    if missing:
        print(f"make_report: no STL/MTL results for {', '.join(missing)}", file=sys.stderr)
    print(f"make_report: wrote {args.out_dir}/REPORT.md and report.json", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
