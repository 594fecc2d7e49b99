"""Kaldi-style text tables (``key value...`` per line) read strictly and written atomically."""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from espnet_l2dual.errors import DataError

PathLike = Union[str, Path]

_BOM = b"\xef\xbb\xbf"
_BOM_NOTED: set = set()


def _note_bom(name: PathLike) -> None:
    """Say once per file that its UTF-8 byte-order mark was dropped (editors on Windows add one)."""
    key = str(name)
    if key not in _BOM_NOTED:
        _BOM_NOTED.add(key)
        print(f"note: {key}: removed the UTF-8 byte-order mark at the start of line 1", file=sys.stderr)


def iter_utf8_lines(path: PathLike, hint: str = "") -> Iterator[Tuple[int, str]]:
    """Yield ``(line_no, line)`` without the newline; a non-UTF-8 line is a DataError at file:line.

    ``path`` may be ``-`` for stdin; ``hint`` is appended to the error (e.g. how to convert).
    """
    name = "<stdin>" if str(path) == "-" else path
    stream = sys.stdin.buffer if str(path) == "-" else open(path, "rb")
    try:
        for no, raw in enumerate(stream, start=1):
            if no == 1 and raw.startswith(_BOM):
                raw = raw[len(_BOM):]
                _note_bom(name)
            try:
                yield no, raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as e:
                reason = f"not UTF-8 ({e.reason} at byte {e.start})" + (f"; {hint}" if hint else "")
                raise DataError(name, no, reason) from None
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def iter_table(path: PathLike, allow_empty_value: bool = False) -> Iterator[Tuple[int, str, str]]:
    """Yield ``(line_no, key, value)``; fail with file:line on non-UTF-8 or malformed lines."""
    path = Path(path)
    for no, line in iter_utf8_lines(path):
        if not line.strip():
            raise DataError(path, no, "empty line")
        parts = line.split(maxsplit=1)
        key = parts[0]
        value = parts[1].strip() if len(parts) > 1 else ""
        if not value and not allow_empty_value:
            raise DataError(path, no, f"utterance '{key}' has no value")
        yield no, key, value


def read_table(path: PathLike, allow_empty_value: bool = False) -> Dict[str, str]:
    """Read a table into an ordered dict; duplicate keys are an error."""
    out: Dict[str, str] = {}
    for no, key, value in iter_table(path, allow_empty_value):
        if key in out:
            raise DataError(path, no, f"duplicate id '{key}'")
        out[key] = value
    return out


_STARTED = time.time()  # temp files older than this process were left by an earlier (killed) run
_CLEANED: set = set()


def remove_earlier_temps(path: PathLike, patterns: Sequence[str] = ()) -> List[Path]:
    """Delete the temp files and dirs an earlier, killed run left beside ``path``; returns them.

    ``.<name>.*.tmp`` (the temp names of ``atomic_write``) and any ``patterns`` (globs in
    ``path``'s directory). Only entries last changed before this process started count: a
    writer running now (none can, under the recipe locks) keeps its own.
    """
    path = Path(path)
    removed: List[Path] = []
    key = (str(path.absolute()), tuple(patterns))
    if key in _CLEANED or not path.parent.is_dir():
        return removed
    _CLEANED.add(key)  # once per process: what this process leaves behind is its own business
    for pattern in (f".{glob.escape(path.name)}.*.tmp", *patterns):
        for tmp in path.parent.glob(pattern):
            try:
                if tmp.lstat().st_mtime >= _STARTED:
                    continue
                if tmp.is_dir() and not tmp.is_symlink():
                    shutil.rmtree(tmp, ignore_errors=True)
                else:
                    tmp.unlink()
            except FileNotFoundError:
                continue
            removed.append(tmp)
    return removed


class NoSpaceError(OSError):
    """ENOSPC whose message is the one line a user needs: "no space left on device while writing <path>"."""

    def __init__(self, path: PathLike) -> None:
        super().__init__(errno.ENOSPC, f"no space left on device while writing {path}")

    def __str__(self) -> str:
        return str(self.strerror)


NEARLY_FULL_BYTES = 1 << 20  # less free space than this after a failed write: the disk is full


def free_bytes(directory: PathLike) -> int:
    """Bytes an unprivileged writer may still use on ``directory``'s file system."""
    return shutil.disk_usage(directory).free


def no_space_error(e: BaseException, path: PathLike) -> Optional[NoSpaceError]:
    """``NoSpaceError(path)`` when ``e`` came from a full disk, else None.

    Libraries hide the errno (torch: "unexpected pos 704 vs 598", libsndfile: "System
    error"): such a RuntimeError (or an OSError without an errno, or EIO) is a full disk
    when the file system has (almost) no space left right after it. Call it before the
    temp file is freed.
    """
    seen, cause = 0, e
    while cause is not None and seen < 5:
        if isinstance(cause, OSError) and cause.errno == errno.ENOSPC:
            break
        if "No space left on device" in str(cause):
            break
        cause, seen = cause.__cause__ or cause.__context__, seen + 1
    else:
        if not isinstance(e, (OSError, RuntimeError)):
            return None
        if isinstance(e, OSError) and e.errno not in (None, errno.EIO):
            return None  # the errno says what it is (not found, permission ...)
        try:
            if free_bytes(Path(path).parent) >= NEARLY_FULL_BYTES:
                return None
        except OSError:
            return None
    return NoSpaceError(path)


@contextlib.contextmanager
def reporting_no_space(path: PathLike) -> Iterator[None]:
    """Re-raise a full-disk failure inside the block as ``no_space_error`` (one line naming ``path``)."""
    try:
        yield
    except (OSError, RuntimeError) as e:
        err = no_space_error(e, path)
        if err is None:
            raise
        raise err from None


@contextlib.contextmanager
def atomic_write(path: PathLike, mode: str = "w", encoding: str = "utf-8"):
    """Write to a temp file beside ``path`` and rename it into place only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_earlier_temps(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        kwargs = {} if "b" in mode else {"encoding": encoding}
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as e:
        full = no_space_error(e, path) if isinstance(e, OSError) else None  # before the temp is freed
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if full is not None:
            raise full from None
        raise


def _umask() -> int:
    """The process umask (mkstemp makes 0600 files; finished files get the usual mode)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_table(path: PathLike, items: Iterable[Tuple[str, str]], sort: bool = True) -> None:
    """Write ``key value`` lines atomically (sorted by key, Kaldi convention, by default)."""
    rows: List[Tuple[str, str]] = list(items)
    if sort:
        rows.sort(key=lambda kv: kv[0])
    with atomic_write(path) as f:
        for key, value in rows:
            f.write(f"{key} {value}\n")
