"""The outputs a dual model can have, defined once (no torch import).

Every module that needs an output's name, its data-dir file, its batch key or its
per-output CLI option reads it from here, so a new output (e.g. canonical phones)
is one entry in ``OUTPUTS`` plus its ``text_<name>`` file and a config naming it in
``model_conf.tasks``.  ``PAIR`` is the study's pair: the analysis compares these two.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Sequence, Tuple


OUTPUTS: Tuple[str, ...] = ("surface", "meaning")
PAIR: Tuple[str, str] = ("surface", "meaning")
# the study's STL config of each output (exp/asr_<config>), for reports and analysis
STL_CONFIG = {o: f"stl_{o}" for o in OUTPUTS}


def data_key(output: str) -> str:
    """Name of the output's text in a data dir (``text_<o>``), a batch and the data loader."""
    return f"text_{output}"


def lengths_key(output: str) -> str:
    """Batch key of the output's target lengths (ESPnet's ``<name>_lengths`` convention)."""
    return f"{data_key(output)}_lengths"


def option(output: str, what: str) -> str:
    """Per-output CLI / config option, e.g. ``option("surface", "token_list")`` -> ``surface_token_list``."""
    return f"{output}_{what}"


def check_tasks(tasks: Sequence[str]) -> List[str]:
    """Validate ``model_conf.tasks`` and return it in canonical order (``OUTPUTS`` order)."""
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
    ValueError naming the file (and YAML line) otherwise. Stages 7-9 ask this, never the shell.
    The config is read resolved (``utils/config_file``: its ``base:`` chain merged)."""
    from espnet_l2dual.utils.config_file import load_config  # its base: chain merged

    conf = load_config(path)  # DataError (a ValueError) names the file of the chain and the line
    model_conf = conf.get("model_conf") or {}
    if not isinstance(model_conf, dict):
        raise ValueError(f"{path}: model_conf must be a mapping")
    try:
        return check_tasks(model_conf.get("tasks", list(OUTPUTS)))
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
