"""Stage 7: write ``exp/<tag>/provenance.json`` (commit, config digest, data digest, token setup, command,
the model's group: config name, size, seed).

    python -m espnet_l2dual.bin.write_provenance --out exp/asr_mtl_tiny/provenance.json \\
        --config conf/tuning/train_mtl_tiny.yaml --record exp/asr_mtl_tiny/.stage7.pending.json \\
        --token_setup data/token_list/setup.json --command "./l2dual.sh --lang en ..." --seed 2

A model trained before stage 7 recorded its group (stage 10 refuses it, naming the file) gets it
with ``--add_group``: the rest of its provenance.json is kept.

    python -m espnet_l2dual.bin.write_provenance --add_group --out exp/asr_mtl_tiny_seed2/provenance.json \\
        --config conf/tuning/train_mtl_tiny.yaml --seed 2
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional

from espnet_l2dual.utils.fileio import atomic_write
from espnet_l2dual.utils.provenance import training_provenance, with_group


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="write_provenance", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--config", required=True, help="the training YAML (recorded resolved, with its base: files)")
    p.add_argument("--record", default=None, help="stage 7's record of its inputs (required unless --add_group)")
    p.add_argument("--token_setup", default=None)
    p.add_argument("--command", default="", help="the command line that trains the model")
    p.add_argument("--seed", default="", help="the recipe's --seed (empty: the config's own seed trains)")
    p.add_argument("--add_group", action="store_true",
                   help="only add the group (config name, size, seed) to an existing --out")
    args = p.parse_args(argv)
    if not args.add_group and not args.record:
        p.error("--record is required (unless --add_group)")
    if args.seed and not args.seed.isdigit():
        print(f"write_provenance: error: --seed {args.seed!r} is not a non-negative integer", file=sys.stderr)
        return 2
    try:
        seed = int(args.seed) if args.seed else None
        prov = with_group(args.out, args.config, seed) if args.add_group else \
            training_provenance(args.config, args.record, args.token_setup, args.command, seed)
    except (OSError, ValueError) as e:
        print(f"write_provenance: error: {e}", file=sys.stderr)
        return 1
    with atomic_write(args.out) as f:
        json.dump(prov, f, ensure_ascii=False, indent=2)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
