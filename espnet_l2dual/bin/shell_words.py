"""Split an option string into words with shell quoting, without expanding or running anything.

    python -m espnet_l2dual.bin.shell_words --option local_data_opts -- "--manifest '/a b/m.tsv'"

prints each word followed by a NUL byte (``mapfile -d ''`` reads them into a bash array), so
``--local_data_opts "--manifest '/dir with space/m.tsv'"`` passes the path as one word. A
string the shell could not split either (an unclosed quote) is one line naming the option.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import List, Optional, Sequence


def split_words(value: str) -> List[str]:
    """Shell words of ``value``: quotes and backslashes as in sh; no ``$``, glob or command expansion."""
    return shlex.split(value, comments=False, posix=True)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="shell_words", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--option", default="value", help="the option the value came from (named in errors)")
    parser.add_argument("value", help="the string to split")
    args = parser.parse_args(argv)
    try:
        words = split_words(args.value)
    except ValueError as e:
        print(f"error: --{args.option} \"{args.value}\": {str(e).lower()} (quote a value with spaces "
              "as '...' or \"...\" and close every quote)", file=sys.stderr)
        return 1
    sys.stdout.write("".join(w + "\0" for w in words))
    return 0


if __name__ == "__main__":
    sys.exit(main())
