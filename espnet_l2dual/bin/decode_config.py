"""Print a recipe's decoding options file as ``option=value`` lines for l2dual.sh (or one line saying what is wrong).

    python -m espnet_l2dual.bin.decode_config conf/decode_asr.yaml   # -> beam_size=5 ...
"""

from __future__ import annotations

import sys
from typing import List, Optional

from espnet_l2dual.inference.decode_config import shell_lines


def main(argv: Optional[List[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print(__doc__, file=sys.stderr)
        return 0 if args and args[0] in ("-h", "--help") else 2
    try:
        print("\n".join(shell_lines(args[0])))
    except ValueError as e:
        print(f"decode_config: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
