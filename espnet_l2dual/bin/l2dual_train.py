"""Train (or ``--collect_stats true``) a dual-output model; ESPnet's full training CLI.

    python -m espnet_l2dual.bin.l2dual_train --config conf/train_mtl_tiny.yaml ...

A ``--config`` that builds on a ``base:`` (espnet_l2dual.utils.config_file) is resolved first
into ``<output_dir>/train_config.resolved.yaml`` (a temporary directory without
``--output_dir``), and ESPnet's parser reads that; ESPnet then writes its own full
``config.yaml`` as always.
"""

from __future__ import annotations

import sys
import tempfile
from typing import Optional, Sequence

from espnet_l2dual.errors import DataError
from espnet_l2dual.tasks.l2dual import L2DualTask
from espnet_l2dual.utils.config_file import output_dir_option, resolve_config_option


def main(cmd: Optional[Sequence[str]] = None) -> None:
    """Parse ESPnet-style arguments (``--help`` lists them) and run the task."""
    argv = list(sys.argv[1:] if cmd is None else cmd)
    out_dir = output_dir_option(argv)
    with tempfile.TemporaryDirectory(prefix="l2dual_train.") as tmp:
        try:
            argv = resolve_config_option(argv, out_dir if out_dir is not None else tmp)
        except DataError as e:
            print(f"l2dual_train: error: {e}", file=sys.stderr)
            raise SystemExit(1) from None
        if cmd is None:
            sys.argv[1:] = argv  # ESPnet's --print_config parses sys.argv itself
        L2DualTask.main(cmd=argv)


if __name__ == "__main__":
    main()
