"""Add the group stage 10 needs (config name, size, seed) to the provenance.json of a model trained
before stage 7 recorded it; the rest of the file is kept. (Stage 7 writes provenance.json itself.)

    python -m espnet_l2dual.bin.write_provenance --add_group --out exp/asr_mtl_tiny_seed2/provenance.json \\
        --config conf/tuning/train_mtl_tiny.yaml --seed 2
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional

from espnet_l2dual.tasks.stage7 import seed_option
from espnet_l2dual.utils.fileio import atomic_write
from espnet_l2dual.utils.provenance import with_group


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="write_provenance", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--add_group", action="store_true", required=True, help="add the group to an existing --out")
    p.add_argument("--out", required=True)
    p.add_argument("--config", required=True, help="the training YAML the model was trained from")
    p.add_argument("--seed", default="", help="the recipe's --seed it trained with (empty: the config's own)")
    args = p.parse_args(argv)
    try:
        prov = with_group(args.out, args.config, seed_option(args.seed))
    except (OSError, ValueError) as e:
        print(f"write_provenance: error: {e}", file=sys.stderr)
        return 1
    with atomic_write(args.out) as f:
        json.dump(prov, f, ensure_ascii=False, indent=2)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
