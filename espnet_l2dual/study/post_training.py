"""Configs a study trains from another trained model of the same size and seed (post-training).

Why: such a model is made by its start as much as by its config, so its study key holds the start's
digest, and run_all.sh must train the start first and hand it to ``./run.sh --init_model_dir``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Tuple

from espnet_l2dual.errors import DataError
from espnet_l2dual.utils.digest import file_sha1

# config -> (the config of the model it starts from, its training sets)
POST_TRAINING: Dict[str, Tuple[str, Tuple[str, ...]]] = {"twin_subspace": ("mtl", ("train_twins", "dev"))}
INIT_MODEL_FILE = "valid.loss.ave.pth"  # l2dual.sh's --inference_model default: what --init_param loads
LOCAL_DATA_OPTS = "--train_twins true"  # stage 1 makes data/train_twins


def init_tag(config: str, suffix: str, seed: Optional[int]) -> Optional[str]:
    """``asr_<start config><suffix>[_seed<N>]`` of a post-training config; None for any other."""
    if config not in POST_TRAINING:
        return None
    return f"asr_{POST_TRAINING[config][0]}{suffix}" + ("" if seed is None else f"_seed{seed}")


def train_sets(config: str, default: List[str]) -> List[str]:
    return list(POST_TRAINING[config][1]) if config in POST_TRAINING else list(default)


def init_model_sha1(recipe: Path, config: str, suffix: str, seed: Optional[int]) -> Optional[str]:
    """The sha1 of the model a post-training config starts from; DataError when it is not trained."""
    tag = init_tag(config, suffix, seed)
    if tag is None:
        return None
    model = recipe / "exp" / tag / INIT_MODEL_FILE
    if not model.is_file():
        raise DataError(model, None, f"not found: {config} starts from it (train {tag} first)")
    return file_sha1(model)


def run_options(config: str, suffix: str, seed: Optional[int]) -> str:
    """``./run.sh`` options of a post-training config (empty for any other)."""
    tag = init_tag(config, suffix, seed)
    if tag is None:
        return ""
    return f"--train_set {POST_TRAINING[config][1][0]} --init_model_dir exp/{tag}"
