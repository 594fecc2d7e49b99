"""Ctrl-C during a recipe stage: no Python traceback, the stage engine says where it stopped.

l2dual.sh exports ``L2DUAL_QUIET_INTERRUPT=1`` and traps SIGINT itself ("interrupted at
stage N; re-run to resume"); every stage resumes, so the traceback of whichever Python step
was running tells the user nothing. The process still ends by SIGINT (exit status 130 in
the shell), so a caller sees it was interrupted.
"""

from __future__ import annotations

import os
import sys

ENV = "L2DUAL_QUIET_INTERRUPT"


def quiet_keyboard_interrupt() -> None:
    """Print nothing for an uncaught KeyboardInterrupt in this process (other errors as before)."""
    previous = sys.excepthook

    def hook(kind, value, tb):
        if issubclass(kind, KeyboardInterrupt):
            return
        previous(kind, value, tb)

    sys.excepthook = hook


def install_from_env() -> None:
    if os.environ.get(ENV):
        quiet_keyboard_interrupt()
