"""The outputs a dual model can have, and the check of ``model_conf.tasks`` (no torch import)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Sequence, Tuple

import yaml

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


def config_tasks(path: Path) -> List[str]:
    """The checked ``model_conf.tasks`` of a training config file (default: both outputs);
    ValueError naming the file (and YAML line) otherwise. Stages 7-9 ask this, never the shell."""
    try:
        conf = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as e:
        raise ValueError(f"{path}: cannot read the config ({e.strerror})") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ValueError(f"{where}: not valid YAML ({getattr(e, 'problem', None) or e})") from None
    if not isinstance(conf, dict):
        raise ValueError(f"{path}: a training config is a mapping of keys, not {type(conf).__name__}")
    model_conf = conf.get("model_conf") or {}
    if not isinstance(model_conf, dict):
        raise ValueError(f"{path}: model_conf must be a mapping")
    try:
        return check_tasks(model_conf.get("tasks", list(OUTPUTS)))
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
