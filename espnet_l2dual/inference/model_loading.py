"""Build a dual model from its training config and load its weights strictly, for decoding."""

from __future__ import annotations

from pathlib import Path

import torch
import yaml

from espnet_l2dual.compat import stack
from espnet_l2dual.errors import DataError
from espnet_l2dual.utils.fileio import PathLike


def _task_class():
    """The task that builds the model from its training config (a seam for tests)."""
    from espnet_l2dual.tasks.l2dual import L2DualTask

    return L2DualTask


def load_dual_model(train_config: PathLike, model_file: PathLike, device: str = "cpu"):
    """Build the model from ``config.yaml`` and load ``model_file``; errors name the bad file.

    The weights are loaded strictly (ESPnet's loader is lenient): a model file from another
    config fails here instead of decoding with random weights. Weights saved by a newer ESPnet
    load under an older one where only names changed (``compat.stack``); otherwise the error
    names both ESPnet versions.
    """
    for path, what in ((train_config, "training config"), (model_file, "model file")):
        if not Path(path).is_file():
            raise DataError(path, None, f"{what} not found")
    try:
        with open(train_config, encoding="utf-8") as f:
            conf = yaml.safe_load(f)
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise DataError(train_config, None, f"training config is not valid YAML: {e}") from None
    if not isinstance(conf, dict):
        raise DataError(train_config, None, "training config is not a YAML mapping")
    try:
        model, args = _task_class().build_model_from_file(str(train_config), None, device)
    except (ValueError, KeyError, TypeError, OSError) as e:
        raise DataError(train_config, None, f"cannot build the model: {type(e).__name__}: {e}") from None
    try:
        state = torch.load(str(model_file), map_location=device, weights_only=True)
        if isinstance(state, dict) and "module" in state:  # deepspeed checkpoints
            state = state["module"]
    except Exception as e:  # torch.load raises many types on a truncated or foreign file
        raise DataError(model_file, None, f"cannot load model (corrupt or not a model file): "
                        f"{type(e).__name__}: {e}") from None
    try:
        model.load_state_dict(stack.to_model_names(state, model.state_dict().keys()))
    except Exception as e:
        message = stack.mismatch_message(stack.recorded_versions(train_config), e)
        raise DataError(model_file, None, message) from None
    return model, args
