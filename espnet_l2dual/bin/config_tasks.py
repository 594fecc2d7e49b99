"""Print the outputs a training config trains (``model_conf.tasks``), or one line saying what is wrong.

    python -m espnet_l2dual.bin.config_tasks conf/tuning/train_mtl_tiny.yaml   # -> surface meaning
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import yaml

from espnet_l2dual.outputs import OUTPUTS, check_tasks


def config_tasks(path: Path) -> List[str]:
    try:
        conf = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as e:
        raise ValueError(f"{path}: cannot read the config ({e.strerror})") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ValueError(f"{where}: not valid YAML ({getattr(e, 'problem', None) or e})") from None
    if not isinstance(conf, dict):
        raise ValueError(f"{path}: a training config is a mapping of keys, not {type(conf).__name__}")
    model_conf = conf.get("model_conf") or {}
    if not isinstance(model_conf, dict):
        raise ValueError(f"{path}: model_conf must be a mapping")
    try:
        return check_tasks(model_conf.get("tasks", list(OUTPUTS)))
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None


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
