"""Train (or ``--collect_stats true``) a dual-output model; ESPnet's full training CLI.

    python -m espnet_l2dual.bin.l2dual_train --config conf/train_mtl_tiny.yaml ...
"""

from __future__ import annotations

from typing import Optional, Sequence

from espnet_l2dual.utils import offline

offline.guard()

from espnet_l2dual.tasks.l2dual import L2DualTask  # noqa: E402


def main(cmd: Optional[Sequence[str]] = None) -> None:
    """Parse ESPnet-style arguments (``--help`` lists them) and run the task."""
    L2DualTask.main(cmd=cmd)


if __name__ == "__main__":
    main()
