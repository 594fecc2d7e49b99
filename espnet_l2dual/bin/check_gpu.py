"""Refuse ``--ngpu N`` up front, in one line, where this machine has fewer than N GPUs.

    python -m espnet_l2dual.bin.check_gpu --ngpu 1 [--option ngpu]

exits 0 when the GPUs are there, else prints one line naming the option and what to do and
exits 1 (l2dual.sh calls it with the other option checks, before any stage runs).
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from espnet_l2dual.utils.devices import ngpu_problem


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="check_gpu", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ngpu", type=int, required=True)
    p.add_argument("--option", default="ngpu", help="the option named in the message")
    args = p.parse_args(argv)
    problem = ngpu_problem(args.ngpu)
    if problem is None:
        return 0
    print(f"error: --{args.option} {args.ngpu} {problem}: pass --{args.option} 0 to run on the CPU, "
          "or run where the GPUs are", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
