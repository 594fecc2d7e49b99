"""ESPnet ASRTask's component choices and options, read from the installed release.

The dual task takes the same front ends, encoders, cleaners, g2p ... as ESPnet's ASR task.
Reading them from ``ASRTask`` at run time (instead of copying its lists) keeps the two in
step across ESPnet releases: a cleaner or encoder added upstream is a choice here too.
"""

from __future__ import annotations

import argparse
import copy
from typing import Any, List, Optional

from espnet2.tasks.asr import ASRTask
from espnet2.train.class_choices import ClassChoices


def asr_choices(name: str) -> ClassChoices:
    """ASRTask's ``--<name>`` component choices (frontend, encoder, decoder ...)."""
    for choices in ASRTask.class_choices_list:
        if choices.name == name:
            return choices
    raise KeyError(f"ESPnet's ASRTask has no '{name}' component choice")


class AsrOptions:
    """ASRTask's own task options (``ASRTask.add_task_arguments`` on a scratch parser), to copy from.

    Built afresh per parser so mutable defaults (``--ctc_conf``) are never shared between parsers.
    """

    def __init__(self) -> None:
        scratch = argparse.ArgumentParser(add_help=False)
        scratch.set_defaults(required=[])  # ASRTask appends its required options to this list
        ASRTask.add_task_arguments(scratch)
        self._actions = {action.dest: action for action in scratch._actions}

    def _action(self, dest: str) -> argparse.Action:
        try:
            return self._actions[dest]
        except KeyError:
            raise KeyError(f"ESPnet's ASRTask has no --{dest} option") from None

    def choices(self, dest: str) -> List[Any]:
        """The ``choices`` of ASRTask's ``--<dest>`` (e.g. its token types), [] when free-form."""
        return list(self._action(dest).choices or ())

    def add(self, group: argparse._ActionsContainer, dest: str, rename: Optional[str] = None,
            **override: Any) -> argparse.Action:
        """Add ASRTask's ``--<dest>`` to ``group``, as ``--<rename>`` when given.

        Type, choices, default and help come from ESPnet; ``override`` replaces any of them
        (a per-output help text, a narrower ``choices``, another default).
        """
        action = copy.copy(self._action(dest))
        if rename is not None:
            action.dest, action.option_strings = rename, [f"--{rename}"]
        for key, value in override.items():
            if not hasattr(action, key):
                raise AttributeError(f"argparse action --{dest} has no attribute '{key}'")
            setattr(action, key, value)
        return group._add_action(action)
