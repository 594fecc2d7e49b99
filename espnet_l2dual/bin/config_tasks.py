"""Print the outputs a training config trains (``model_conf.tasks``), or one line saying what is wrong.

    python -m espnet_l2dual.bin.config_tasks conf/tuning/train_mtl_tiny.yaml   # -> surface meaning

The config is read resolved (its ``base:`` chain merged, espnet_l2dual.utils.config_file).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

from espnet_l2dual.outputs import config_tasks


def main(argv: Optional[List[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print(__doc__, file=sys.stderr)
        return 0 if args and args[0] in ("-h", "--help") else 2
    try:
        print(" ".join(config_tasks(Path(args[0]))))
    except ValueError as e:
        print(f"config_tasks: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
