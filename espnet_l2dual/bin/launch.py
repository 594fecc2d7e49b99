"""Stage 7's launcher: ESPnet's ``espnet2.bin.launch``, with its two failures said in one line.

    python -m espnet_l2dual.bin.launch --cmd run_local.sh --log exp/x/logs/train.log --ngpu 0 -- <trainer ...>

takes exactly ``espnet2.bin.launch``'s options. A full disk is said in the one line of the log that
names it (:mod:`espnet_l2dual.train.launch_log`); Ctrl-C ends it quietly (the stage engine says
where the run stopped). Every other failure is ESPnet's own.
"""

from __future__ import annotations

import sys
from typing import Optional, Sequence

from espnet_l2dual.train.launch_log import log_option, no_space_line


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from espnet2.bin import launch

    log = log_option(argv)
    try:
        launch.main(argv)
    except KeyboardInterrupt:
        return 130
    except RuntimeError:
        line = no_space_line(log)
        if line is None:
            raise
        print(f"error: {line} (full log: {log}): free space there and re-run to resume", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
