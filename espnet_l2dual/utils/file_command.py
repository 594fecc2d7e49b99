"""The shape of the small commands l2dual.sh asks about one file: print an answer, or one error line."""

from __future__ import annotations

import sys
from typing import Callable, Optional, Sequence


def answer_for_file(argv: Optional[Sequence[str]], usage: str, prog: str, answer: Callable[[str], str]) -> int:
    """Print ``answer(file)`` for the one argument; ``prog: error: ...`` and 1 for a ValueError
    (DataError included), the usage and 2 for anything but one argument (0 for --help)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print(usage, file=sys.stderr)
        return 0 if args and args[0] in ("-h", "--help") else 2
    try:
        print(answer(args[0]))
    except ValueError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    return 0
