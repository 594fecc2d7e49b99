"""The guard of every stage of l2dual.sh (help: :mod:`espnet_l2dual.utils.stage_guard`)."""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from espnet_l2dual.errors import DataError
from espnet_l2dual.utils import stage_guard, stage_record


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="stage_guard", description=stage_guard.__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("action", choices=("check", "commit", "retire", "require"))
    p.add_argument("--to", default=None, help="retire: where the old output goes")
    p.add_argument("--stage", default="", help="stage number (names the record .stage<N>.json)")
    p.add_argument("--out", required=True, action="append",
                   help="the stage's output directory (holds the record); require: repeatable")
    p.add_argument("--for_stage", default="", help="require: the stage that reads the output")
    p.add_argument("--strict", action="store_true", help="require: no record at all is refused too")
    p.add_argument("--label", default=None, help="what the message calls the output (default: --out)")
    p.add_argument("--files", nargs="*", default=[], action="extend", help="input files or directories")
    p.add_argument("--audio", nargs="*", default=[], action="extend", help="wav.scp files whose audio is an input")
    p.add_argument("--opt", default=[], action="append", help="KEY=VALUE option that changes the output")
    p.add_argument("--peek", action="store_true", help="check: only say whether the work is needed; "
                   "write no record (prints only the 'up to date' line)")
    p.add_argument("--config", dest="configs", nargs="*", default=[], action="extend",
                   help="training configs, digested resolved (their base: chain merged)")
    p.add_argument("--config_keys", default=[], action="append", help="FILE:key1,key2 of a YAML config")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    if args.action == "require":
        return stage_record.require(args.stage, args.out, args.for_stage, args.strict)
    try:
        code, line = stage_guard.guard(args.action, args.out, args.stage, args.label, args.to, args.files,
                                       args.audio, args.opt, args.config_keys, args.configs, args.peek)
    except (DataError, ValueError, OSError) as e:
        print(f"stage_guard: error: {e}", file=sys.stderr)
        return 2
    if line is not None:
        print(line, file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
