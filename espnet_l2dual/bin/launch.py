"""Stage 7's launcher: ESPnet's ``espnet2.bin.launch``, with its two failures said in one line.

    python -m espnet_l2dual.bin.launch --cmd run_local.sh --log exp/x/logs/train.log --ngpu 0 -- <trainer ...>

takes exactly ``espnet2.bin.launch``'s options. ESPnet's launcher ends a failed training with
a ``RuntimeError`` that repeats the last 1000 lines of the log; where the log holds "no space
left on device while writing <path>" (a full disk while a checkpoint was saved) that line is
all the user needs, so it is printed alone. Ctrl-C ends it quietly (the stage engine says
where the run stopped). Every other failure is ESPnet's own.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import List, Optional, Sequence

NO_SPACE = re.compile(r"no space left on device while writing \S+")


def log_option(argv: Sequence[str]) -> Optional[Path]:
    """The value of ``--log`` (before ``--``), or None."""
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--log" and i + 1 < len(argv):
            return Path(argv[i + 1])
        if arg.startswith("--log="):
            return Path(arg.split("=", 1)[1])
    return None


def no_space_line(log: Optional[Path]) -> Optional[str]:
    """The last "no space left on device while writing <path>" of the log, or None."""
    if log is None or not log.is_file():
        return None
    found: List[str] = NO_SPACE.findall(log.read_text(encoding="utf-8", errors="replace"))
    return found[-1] if found else None


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
