"""Errors that point a user at the exact place in their data."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Union


class DataError(ValueError):
    """Bad input data: the message names the file, the line (1-based) and the reason."""

    def __init__(
        self,
        path: Union[str, Path, None],
        line: Optional[int],
        reason: str,
        column: Optional[int] = None,
    ) -> None:
        self.path = str(path) if path is not None else None
        self.line = line
        self.column = column
        self.reason = reason
        where = self.path or "<input>"
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(f"{where}: {reason}")
