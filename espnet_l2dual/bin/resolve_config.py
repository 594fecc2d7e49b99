"""Show a training config as the trainer reads it: every ``base:`` merged (config_file).

    python -m espnet_l2dual.bin.resolve_config conf/tuning/train_partial_tiny.yaml   # the YAML
    python -m espnet_l2dual.bin.resolve_config --chain conf/tuning/train_partial_tiny.yaml
    python -m espnet_l2dual.bin.resolve_config --digest conf/tuning/train_*_tiny.yaml

``--chain`` lists the files that make it (root base first), ``--digest`` prints one
``<sha1>  <file>`` line per config (resolved content: run_all.sh keys its markers by it).
``--frontend_tag`` prints what stage 6 appends to its stats dir: nothing for the default
(fbank) front end, else ``_<frontend><8 hex of its frontend_conf>``, so the feature statistics
of an SSL front end never overwrite, or get read as, those of the fbank configs.
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional

import yaml

from espnet_l2dual.errors import DataError
from espnet_l2dual.utils.config_file import config_chain, config_digest, frontend_tag, load_config


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="resolve_config", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("configs", nargs="+")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--chain", action="store_true", help="list the files of each config's base: chain")
    what.add_argument("--digest", action="store_true", help="SHA-1 of each resolved config")
    what.add_argument("--frontend_tag", action="store_true", help="stage 6's stats-dir suffix of the front end")
    args = p.parse_args(argv)
    if not (args.chain or args.digest) and len(args.configs) != 1:
        p.error("printing the resolved YAML takes one config (or use --chain / --digest)")
    try:
        for config in args.configs:
            if args.digest:
                print(f"{config_digest(config)}  {config}")
            elif args.frontend_tag:
                print(frontend_tag(load_config(config)))
            elif args.chain:
                print("\n".join(str(f) for f in config_chain(config)))
            else:
                yaml.safe_dump(load_config(config), sys.stdout, allow_unicode=True, sort_keys=False)
    except DataError as e:
        print(f"resolve_config: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
