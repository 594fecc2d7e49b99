"""Print the outputs a training config trains (``model_conf.tasks``), or one line saying what is wrong.

    python -m espnet_l2dual.bin.config_tasks conf/tuning/train_mtl_tiny.yaml   # -> surface meaning

The config is read resolved (its ``base:`` chain merged, espnet_l2dual.utils.config_file).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

from espnet_l2dual.outputs import config_tasks
from espnet_l2dual.utils.file_command import answer_for_file


def main(argv: Optional[List[str]] = None) -> int:
    return answer_for_file(argv, __doc__, "config_tasks", lambda path: " ".join(config_tasks(Path(path))))


if __name__ == "__main__":
    sys.exit(main())
