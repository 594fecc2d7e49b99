"""Keep (or drop) the lines of a table whose id is listed in another file.

Used to make every file of a data dir cover the same utterances after one of
them lost some (filtering by length, failed audio, ...). Output keeps the
order and the exact text of the input lines.
"""

from __future__ import annotations

import argparse
import sys
from typing import Iterator, Optional, Sequence

from espnet_l2dual.data.lines import PathLike, iter_keyed_lines
from espnet_l2dual.errors import DataError


def read_ids(path: PathLike) -> set:
    """The first field of every line of ``path``."""
    return {key for _, key, _ in iter_keyed_lines(path)}


def filter_lines(
    id_list: PathLike, in_path: PathLike, exclude: bool = False, field: int = 1
) -> Iterator[str]:
    """Lines of ``in_path`` whose ``field``-th field is (or with ``exclude``, is not) an id of ``id_list``."""
    ids = read_ids(id_list)
    for _, key, line in iter_keyed_lines(in_path, field):
        if (key in ids) != exclude:
            yield line


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="filter_scp.sh",
        description="Print the lines of IN_SCP whose first field is the first field of a line of ID_LIST "
        "(in the order of IN_SCP).",
    )
    parser.add_argument("--exclude", action="store_true", help="print the lines whose id is NOT listed")
    parser.add_argument("-f", "--field", type=int, default=1, help="match this field of IN_SCP (1-based)")
    parser.add_argument("id_list", help="file whose first field lists the ids")
    parser.add_argument("in_scp", nargs="?", default="-", help="the table to filter (default: stdin)")
    args = parser.parse_args(argv)
    if args.field < 1:
        parser.error("--field counts from 1")
    try:
        for line in filter_lines(args.id_list, args.in_scp, args.exclude, args.field):
            sys.stdout.write(line + "\n")
    except (DataError, OSError) as e:
        print(f"filter_scp: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
