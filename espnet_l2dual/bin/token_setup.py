"""The token setup stage 5 chose (help: :mod:`espnet_l2dual.text.token_setup`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import List, Optional

from espnet_l2dual.outputs import OUTPUTS
from espnet_l2dual.text import token_setup
from espnet_l2dual.text.token_setup import TOKEN_TYPES, recorded_setup, setup_of, shell_lines
from espnet_l2dual.utils.fileio import atomic_write


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="token_setup", description=token_setup.__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("action", choices=("record", "read", "name"))
    p.add_argument("--setup", help="e.g. data/token_list/setup.json")
    p.add_argument("--token_list_dir", default="data/token_list")
    for o in OUTPUTS:
        p.add_argument(f"--{o}_token_type", default=None, choices=TOKEN_TYPES + ("",))
        p.add_argument(f"--nbpe_{o}", default=None, type=lambda s: int(s) if s else None)
    p.add_argument("--bpemode", default=None, choices=("unigram", "bpe", ""))
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    types = {o: getattr(args, f"{o}_token_type") or None for o in OUTPUTS}
    nbpe = {o: getattr(args, f"nbpe_{o}") for o in OUTPUTS}
    bpemode = args.bpemode or None
    if args.action in ("record", "name"):
        if None in types.values():
            print("token_setup: error: record needs --surface_token_type and --meaning_token_type", file=sys.stderr)
            return 2
        setup = setup_of(args.token_list_dir, types, {o: nbpe[o] or 100 for o in OUTPUTS}, bpemode or "unigram")
        if args.action == "name":  # the directories only, for stage 5's own use
            print("\n".join(shell_lines(setup)))
            return 0
        with atomic_write(Path(args.setup)) as f:
            json.dump(setup, f, indent=1, sort_keys=True)
        return 0
    try:
        setup = recorded_setup(Path(args.setup), types, nbpe, bpemode)
    except ValueError as e:
        print(f"token_setup: error: {e}", file=sys.stderr)
        return 2
    print("\n".join(shell_lines(setup)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
