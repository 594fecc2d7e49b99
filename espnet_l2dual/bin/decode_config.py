"""Print a recipe's decoding options file as ``option=value`` lines for l2dual.sh (or one line saying what is wrong).

    python -m espnet_l2dual.bin.decode_config conf/decode_asr.yaml   # -> beam_size=5 ...
"""

from __future__ import annotations

import sys
from typing import List, Optional

from espnet_l2dual.inference.decode_config import shell_lines
from espnet_l2dual.utils.file_command import answer_for_file


def main(argv: Optional[List[str]] = None) -> int:
    return answer_for_file(argv, __doc__, "decode_config", lambda path: "\n".join(shell_lines(path)))


if __name__ == "__main__":
    sys.exit(main())
