"""Keep ESPnet imports offline and quiet.

espnet2 imports ``g2p_en`` (through its phoneme tokenizer), and ``g2p_en`` calls
``nltk.download`` at import time when its data is missing.  On a machine without
network access this prints a page of errors and wastes seconds per import.  We never
use the English g2p (our tokenizers are char/bpe/word/jamo), so downloads are turned
into a silent no-op before espnet2 is imported.  Nothing is fetched at run time.
"""

from __future__ import annotations

import os

_GUARDED = False


def _no_download(*args: object, **kwargs: object) -> bool:
    """Stand-in for ``nltk.download``: report failure without touching the network."""
    return False


def guard() -> None:
    """Disable run-time downloads (nltk data, Hugging Face hub); idempotent."""
    global _GUARDED
    if _GUARDED:
        return
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import nltk  # noqa: WPS433 (import inside function on purpose: optional, slow)
    except ImportError:
        nltk = None
    if nltk is not None:
        nltk.download = _no_download
    _GUARDED = True
