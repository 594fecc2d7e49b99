"""Checkpoints that are whole or absent: ESPnet's Trainer saves through ``torch.save`` in place.

A kill (or a full disk) during ``torch.save(obj, "exp/x/checkpoint.pth")`` leaves a
0-byte or truncated file, and every later resume then dies in ``torch.load`` with an
error that names no file. While ``atomic_torch_save()`` is active, a save to a path
goes to a temp file beside it and is renamed over the target only when complete; a
full disk is reported as "no space left" with the path. ``checkpoint_problem`` tells a
corrupt checkpoint from a good one without unpickling it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Callable, Iterator, Optional

import torch

from espnet_l2dual.utils.fileio import NoSpaceError, _umask, no_space_error, remove_earlier_temps


def _atomic(save: Callable) -> Callable:
    def atomic_save(obj, f, *args, **kwargs):
        if not isinstance(f, (str, os.PathLike)):
            return save(obj, f, *args, **kwargs)
        target = Path(f)
        remove_earlier_temps(target)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
        try:
            save(obj, tmp, *args, **kwargs)
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a saved model gets the usual mode
            os.replace(tmp, target)
        except BaseException as e:
            # torch hides the errno ("unexpected pos 704 vs 598"): ask the file system, before freeing the temp
            full = _is_enospc(e) or no_space_error(e, target) is not None
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            if full:
                raise NoSpaceError(target) from None
            raise
    atomic_save.__wrapped__ = save  # type: ignore[attr-defined]
    return atomic_save


def remove_stale_temps(directory: Path) -> int:
    """Delete the temp files a killed save left in ``directory``; returns how many."""
    n = 0
    for tmp in Path(directory).glob(".*.pth.*.tmp"):
        tmp.unlink(missing_ok=True)
        n += 1
    return n


def _is_enospc(e: BaseException) -> bool:
    seen = 0
    while e is not None and seen < 5:
        if isinstance(e, OSError) and e.errno == errno.ENOSPC:
            return True
        if "No space left on device" in str(e) or "file write failed" in str(e):
            return True
        e, seen = e.__cause__ or e.__context__, seen + 1
    return False


@contextlib.contextmanager
def atomic_torch_save() -> Iterator[None]:
    """Make every ``torch.save(obj, path)`` in this process atomic while the block runs."""
    original = torch.save
    if getattr(original, "__wrapped__", None) is not None:  # already active (nested trainers)
        yield
        return
    torch.save = _atomic(original)
    try:
        yield
    finally:
        torch.save = original


def checkpoint_problem(path: Path) -> Optional[str]:
    """None for a loadable torch zip file, else what is wrong with it (cheap: CRCs, no unpickling)."""
    try:
        size = path.stat().st_size
    except OSError as e:
        return f"cannot be read ({e.strerror})"
    if size == 0:
        return "is empty (0 bytes)"
    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        return f"is truncated or not a torch checkpoint ({e})"
    return None if bad is None else f"is corrupt (bad CRC in {bad})"
