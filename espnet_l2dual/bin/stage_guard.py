"""The guard of every stage of l2dual.sh: skip work whose inputs are unchanged, else say why.

    stage_guard check  --stage 3 --out dump/raw/org/train --files data/train \\
                       --audio data/train/wav.scp --opt fs=16000 --opt audio_format=wav
    stage_guard commit --stage 3 --out dump/raw/org/train

``check`` exits 0 when OUT already holds the stage's output for exactly these inputs
(prints "up to date"), 10 when the work must be done (prints what changed) and 11 when
an interrupted run of the same work can be finished (resume). Any other exit is an
error. ``check --peek`` exits the same way but writes no record and prints only the
"up to date" line (stage 7 asks it before its pre-flight check, so nothing changes on disk
when the config is broken). ``commit`` marks the work done; run it only after the stage
succeeded.
``require --stage 8 --out DIR [--out DIR2] --for_stage 9 [--strict]`` refuses (exit 1, one line
per directory) when stage 8 started in DIR and did not finish (a pending record, no done
record; ``--strict``: also when it never ran there): a later stage never reads a half-made
output.
``retire --out exp/x --to exp/stale/x.<time>`` moves an output made from other inputs
aside (a trained model: its config.yaml paths follow it).
``--files`` takes files or directories (a directory stands for its visible top-level
files), ``--audio`` a wav.scp whose audio files are digested too, ``--opt KEY=VALUE``
an option, ``--config FILE`` a training config (its resolved content: a changed ``base:``
counts), ``--config_keys FILE:k1,k2`` the values of some keys of a (resolved) YAML config.
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from espnet_l2dual.errors import DataError
from espnet_l2dual.utils import stage_record

EXIT_CODES = {stage_record.CURRENT: 0, stage_record.RUN: 10, stage_record.RESUME: 11}


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="stage_guard", description=__doc__,
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
    if len(args.out) > 1:
        print(f"stage_guard: error: {args.action} takes one --out", file=sys.stderr)
        return 2
    args.out = args.out[0]
    label = args.label or args.out
    try:
        if args.action == "commit":
            stage_record.commit(args.out, args.stage)
            return 0
        if args.action == "retire":
            if not args.to:
                raise ValueError("retire needs --to")
            stage_record.retire(args.out, args.to)
            return 0
        if not args.stage:
            raise ValueError("check needs --stage")
        state, reasons = stage_record.check_stage(args.out, args.stage, args.files, args.audio, args.opt,
                                                  args.config_keys, args.configs, args.peek)
    except (DataError, ValueError, OSError) as e:
        print(f"stage_guard: error: {e}", file=sys.stderr)
        return 2
    if args.peek and state != stage_record.CURRENT:
        return EXIT_CODES[state]
    print(stage_record.state_line(args.stage, label, state, reasons), file=sys.stderr)
    return EXIT_CODES[state]


if __name__ == "__main__":
    sys.exit(main())
