"""Write a recipe's RESULTS.md from a report.json (``make_report``'s, or one rebuilt from a study store).

    python -m espnet_l2dual.bin.results_md --report exp/report/report.json --lang en \\
        --out egs2/l2en/asr1/RESULTS.md

The file starts with the command that generated it; never edit it by hand.
exit status: 0 written; 1 the report is missing or unreadable, or lacks the language.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import List, Optional

from espnet_l2dual.report.recipe_results import render
from espnet_l2dual.utils.fileio import atomic_write


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--report", required=True, type=Path, help="a report.json of make_report")
    p.add_argument("--lang", required=True, help="the recipe's language in the report, e.g. en or ko")
    p.add_argument("--out", required=True, type=Path, help="e.g. egs2/l2en/asr1/RESULTS.md")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    command = "python -m espnet_l2dual.bin.results_md " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    try:
        data = json.loads(args.report.read_text(encoding="utf-8"))
        text = render(data, args.lang, command, str(args.report))
    except (OSError, ValueError, KeyError) as e:
        what = f"missing key {e}" if isinstance(e, KeyError) else str(e)
        print(f"results_md: error: {args.report}: {what}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(args.out) as f:
        f.write(text)
    print(f"results_md: wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
