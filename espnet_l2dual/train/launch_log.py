"""The one line a failed training's log holds for the user, where there is one (stage 7's launcher).

ESPnet's launcher (``espnet2.bin.launch``) ends a failed training with a ``RuntimeError`` that
repeats the last 1000 lines of the log; where the log holds "no space left on device while
writing <path>" (a full disk while a checkpoint was saved) that line is all the user needs.
"""

from __future__ import annotations

import re
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
