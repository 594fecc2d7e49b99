"""Pre-flight check of a training command, in seconds instead of after the launcher's start-up.

One line per problem: broken YAML, unknown or mistyped options (ESPnet's own parser), bad
``model_conf.tasks``, files the command names that do not exist, and what building the model
on the CPU rejects. The config is checked resolved, in a temporary directory.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import List, Optional

from espnet_l2dual.outputs import config_tasks
from espnet_l2dual.utils.config_file import RESOLVED_NAME, config_option, output_dir_option, resolve_config_option


class _ParseProblem(Exception):
    pass


def _named_files(args: argparse.Namespace) -> List[str]:
    """Files the training command names: token lists, BPE models, stats, shapes, data."""
    files: List[str] = []
    for key, value in vars(args).items():
        if value is None:
            continue
        if key.endswith(("_token_list", "_bpemodel")) and isinstance(value, str):
            files.append(value)
        elif key.endswith("_shape_file"):
            files.extend(value)
        elif key.endswith("_data_path_and_name_and_type"):
            files.extend(str(t[0]) for t in value)
    stats = (args.normalize_conf or {}).get("stats_file") if isinstance(args.normalize_conf, dict) else None
    if stats:
        files.append(str(stats))
    return files


def problems(argv: List[str]) -> List[str]:
    """Every problem found, one line each (empty: the command can start)."""
    config = config_option(argv)
    if config is None:
        return ["--config is missing"]
    try:
        config_tasks(config)  # readable YAML, a mapping, valid model_conf.tasks
    except ValueError as e:
        return [str(e)]

    from espnet_l2dual.tasks.l2dual import L2DualTask

    parser = L2DualTask.get_parser()

    def error(message: str) -> None:
        raise _ParseProblem(message)

    parser.error = error  # type: ignore[assignment]
    with tempfile.TemporaryDirectory(prefix="check_train_config.") as tmp:
        resolved = resolve_config_option(argv, tmp)
        try:
            args = parser.parse_args(resolved)
        except _ParseProblem as e:  # the message names the resolved copy: name the user's file
            return [f"{config}: {str(e).replace(str(Path(tmp) / RESOLVED_NAME), str(config))}"]
    found = [f"{config}: the command names '{f}', which does not exist" for f in _named_files(args)
             if not Path(f).exists()]
    if found:
        return found
    try:
        L2DualTask.build_model(args)
    except Exception as e:  # what ESPnet/torch reject when building is a config mistake to report
        return [f"{config}: the model cannot be built: {type(e).__name__}: {e}"]
    return []


def resume_note(argv: List[str]) -> Optional[str]:
    """What the resume will do with a broken ``<output_dir>/checkpoint.pth`` (the trainer's log is
    not where the user looks), or None when there is none or it is whole."""
    out_dir = output_dir_option(list(argv))
    checkpoint = Path(out_dir) / "checkpoint.pth" if out_dir else None
    if checkpoint is None or not checkpoint.is_file():
        return None
    from espnet_l2dual.train.atomic_save import checkpoint_problem

    problem = checkpoint_problem(checkpoint)
    if problem is None:
        return None
    return (f"{checkpoint} {problem}: it goes to {checkpoint.name}.corrupt and training starts again "
            "from epoch 1 (the epoch snapshots hold weights only)")
