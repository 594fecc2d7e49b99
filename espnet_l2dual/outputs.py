"""The outputs a dual model can have, and the check of ``model_conf.tasks`` (no torch import)."""

from __future__ import annotations

from typing import List, Sequence, Tuple

OUTPUTS: Tuple[str, ...] = ("surface", "meaning")


def check_tasks(tasks: Sequence[str]) -> List[str]:
    """Validate ``model_conf.tasks`` and return it in canonical order (surface first)."""
    if isinstance(tasks, str):
        tasks = [tasks]
    tasks = list(tasks)
    if not tasks:
        raise ValueError(f"model_conf.tasks is empty: name at least one of {', '.join(OUTPUTS)}")
    for task in tasks:
        if task not in OUTPUTS:
            raise ValueError(
                f"model_conf.tasks: unknown output '{task}' (expected {', '.join(OUTPUTS)})"
            )
    if len(set(tasks)) != len(tasks):
        raise ValueError(f"model_conf.tasks: duplicate output in {tasks}")
    return [o for o in OUTPUTS if o in tasks]
