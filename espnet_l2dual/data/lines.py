"""Read Kaldi-style tables line by line, keeping each line verbatim.

The tools that split or filter a table must not rewrite its values, so they
work on raw lines and only look at the first field (the id).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, List, Tuple, Union

from espnet_l2dual.errors import DataError
from espnet_l2dual.utils.fileio import iter_utf8_lines

PathLike = Union[str, Path]


def iter_keyed_lines(path: PathLike, field: int = 1) -> Iterator[Tuple[int, str, str]]:
    """Yield ``(line_no, key, line)``: ``key`` is the ``field``-th field (1-based), ``line`` keeps no newline.

    ``path`` may be ``-`` for stdin. Non-UTF-8 and blank lines are errors.
    """
    name = "<stdin>" if str(path) == "-" else str(path)
    for no, line in iter_utf8_lines(path):
        fields = line.split()
        if not fields:
            raise DataError(name, no, "empty line")
        if len(fields) < field:
            raise DataError(name, no, f"has no field {field}")
        yield no, fields[field - 1], line


def read_keyed_lines(path: PathLike, field: int = 1) -> List[Tuple[int, str, str]]:
    """All of :func:`iter_keyed_lines` as a list."""
    return list(iter_keyed_lines(path, field))
