"""Keep ESPnet imports offline and quiet.

espnet2 imports ``g2p_en`` (through its phoneme tokenizer), and ``g2p_en`` calls
``nltk.download`` at import time when its data is missing.  On a machine without
network access this prints a page of errors and wastes seconds per import.  We never
use the English g2p (our tokenizers are char/bpe/word/jamo), so downloads are turned
into a silent no-op.  Nothing is fetched at run time.

``nltk`` itself takes seconds to import, and most commands (stage bookkeeping, data checks)
never load it: the guard patches it when something imports it, through an import hook,
instead of importing it up front.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
from types import ModuleType
from typing import Optional, Sequence

_GUARDED = False


def _no_download(*args: object, **kwargs: object) -> bool:
    """Stand-in for ``nltk.download``: report failure without touching the network."""
    return False


def _patch(nltk: ModuleType) -> None:
    nltk.download = _no_download  # type: ignore[attr-defined]


class _PatchedLoader(importlib.abc.Loader):
    """Runs nltk's own loader, then replaces ``nltk.download`` before anyone can call it."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Optional[ModuleType]:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        _patch(module)


class _NltkFinder(importlib.abc.MetaPathFinder):
    """Finds ``nltk`` as the other finders do and wraps its loader."""

    def find_spec(self, name: str, path: Optional[Sequence[str]] = None,
                  target: Optional[ModuleType] = None) -> Optional[importlib.machinery.ModuleSpec]:
        if name != "nltk":
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _PatchedLoader(spec.loader)
                return spec
        return None


def guard() -> None:
    """Disable run-time downloads (nltk data, Hugging Face hub); idempotent."""
    global _GUARDED
    if _GUARDED:
        return
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    if "nltk" in sys.modules:
        _patch(sys.modules["nltk"])
    else:
        sys.meta_path.insert(0, _NltkFinder())
    _GUARDED = True
