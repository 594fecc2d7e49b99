"""Checkpoints that are whole or absent, although ESPnet's Trainer saves through ``torch.save`` in place.

A kill (or a full disk) during ``torch.save(obj, "exp/x/checkpoint.pth")`` leaves a
0-byte or truncated file, and every later resume then dies in ``torch.load`` with an
error that names no file. ``save_atomically`` writes to a temp file beside the target
and renames it over the target only when complete; a full disk is reported as "no space
left" with the path. ``checkpoint_problem`` tells a corrupt checkpoint from a good one
without unpickling it.

Where the override sits: ESPnet 202511 saves ``checkpoint.pth`` and ``{epoch}epoch.pth``
inline in ``Trainer.run`` (a 360-line classmethod with no save method to override), and
the averaged models inside ``average_nbest_models``; copying ``run`` would fork ESPnet's
training loop. So ``atomic_espnet_saves()`` rebinds only the name ``torch`` in those two
ESPnet modules, for the duration of a training run, to a view of the torch module whose
``save`` is ``save_atomically`` (every other attribute is torch's own). ``torch.save``
itself, and every other module's ``torch``, stay untouched, so other code and other
threads never see a changed ``torch.save``. If ESPnet ever saves by another name, the
check at entry fails loudly instead of silently saving in place.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import os
import tempfile
import types
import zipfile
from pathlib import Path
from typing import Any, Iterator, Optional, Tuple

import torch

from espnet_l2dual.utils.fileio import NoSpaceError, _umask, no_space_error, remove_earlier_temps

ESPNET_SAVING_MODULES: Tuple[str, ...] = ("espnet2.train.trainer", "espnet2.main_funcs.average_nbest_models")
"""The ESPnet modules whose ``torch.save`` calls write the training's checkpoints and models."""


def save_atomically(obj: Any, f: Any, *args: Any, **kwargs: Any) -> None:
    """``torch.save``, but a path is written to a temp file and renamed over it when complete."""
    save = torch.save  # looked up per call: the function torch has now
    if not isinstance(f, (str, os.PathLike)):
        save(obj, f, *args, **kwargs)
        return
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


class _TorchWithAtomicSave(types.ModuleType):
    """The torch module as ESPnet's saving code sees it during training: ``save`` is atomic."""

    save = staticmethod(save_atomically)

    def __init__(self) -> None:
        super().__init__(torch.__name__)

    def __getattr__(self, name: str) -> Any:  # everything but ``save``: torch's own, looked up now
        return getattr(torch, name)


@contextlib.contextmanager
def atomic_espnet_saves() -> Iterator[None]:
    """Make ESPnet's checkpoint, epoch and averaged-model saves atomic while the block runs."""
    modules = [importlib.import_module(name) for name in ESPNET_SAVING_MODULES]
    swapped = []
    for module in modules:
        current = getattr(module, "torch", None)
        if isinstance(current, _TorchWithAtomicSave):  # already active (nested trainers)
            continue
        if current is not torch:
            raise RuntimeError(f"{module.__file__}: expected it to save through the name 'torch' "
                               f"(found {current!r}): its checkpoints would not be saved atomically")
        module.torch = _TorchWithAtomicSave()
        swapped.append(module)
    try:
        yield
    finally:
        for module in swapped:
            module.torch = torch


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
