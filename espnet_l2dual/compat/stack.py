"""Which ESPnet stack a model was trained with, and its weights loaded under another one.

ESPnet 202609 renamed the conv2d subsampling's output layer (``<encoder>.embed.out.0.*`` ->
``<encoder>.embed.out.*``): newer ESPnet reads both names, older reads only its own, so the
newer names are mapped back here. Any other mismatch fails with one line that names both
stacks and what to do.
"""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path
from typing import Dict, Iterable, Mapping, Optional, Union

import yaml

STACK_PACKAGES = ("espnet", "torch", "torchaudio")
PROVENANCE = "provenance.json"  # stage 7, beside config.yaml: {"versions": {...}}
PACK_META = "meta.yaml"  # a packed model, beside its config: {"version": {...}}


def stack_versions() -> Dict[str, str]:
    """``{"espnet": "202611", "torch": "2.14.1", ...}`` of this interpreter (local tags dropped)."""
    versions = {}
    for name in STACK_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name).split("+")[0]
        except importlib.metadata.PackageNotFoundError:
            pass
    return versions


def recorded_versions(train_config: Union[str, Path]) -> Optional[Dict[str, str]]:
    """The stack recorded beside a training config (stage 7 provenance or a packed model's meta)."""
    folder = Path(train_config).parent
    try:
        if (folder / PROVENANCE).is_file():
            versions = json.loads((folder / PROVENANCE).read_text(encoding="utf-8")).get("versions")
        elif (folder / PACK_META).is_file():
            versions = (yaml.safe_load((folder / PACK_META).read_text(encoding="utf-8")) or {}).get("version")
        else:
            return None
    except (OSError, ValueError, yaml.YAMLError, AttributeError):
        return None
    if not isinstance(versions, dict) or "espnet" not in versions:
        return None
    return {k: str(v) for k, v in versions.items() if k in STACK_PACKAGES}


def describe(versions: Optional[Mapping[str, str]]) -> str:
    """``ESPnet 202611 (torch 2.14.1)``, or ``an unrecorded ESPnet``."""
    if not versions or "espnet" not in versions:
        return "an unrecorded ESPnet"
    torch_part = f" (torch {versions['torch']})" if "torch" in versions else ""
    return f"ESPnet {versions['espnet']}{torch_part}"


def to_model_names(state: Dict[str, object], wanted: Iterable[str]) -> Dict[str, object]:
    """``state`` with newer ESPnet's subsampling names mapped to those ``wanted`` (older ESPnet)."""
    wanted = set(wanted)
    out = {}
    for key, value in state.items():
        if key not in wanted and key.endswith((".embed.out.weight", ".embed.out.bias")):
            old = key[: -len("weight" if key.endswith("weight") else "bias")]
            old = f"{old}0.{key.rsplit('.', 1)[1]}"
            if old in wanted and old not in state:
                key = old
        out[key] = value
    return out


def mismatch_message(trained_with: Optional[Mapping[str, str]], error: Exception) -> str:
    """One line: what did not match, both stacks, and what to do."""
    here = stack_versions()
    detail = " ".join(str(error).split())
    if len(detail) > 300:
        detail = detail[:300] + " ..."
    if trained_with and trained_with.get("espnet") != here.get("espnet"):
        v = trained_with["espnet"]
        return (f"trained with {describe(trained_with)}, loaded under {describe(here)}: the weights "
                f"do not fit ({detail}); decode with the ESPnet it was trained with "
                f"(tools/install.sh --espnet {v}, then L2DUAL_ESPNET={v})")
    return (f"cannot load model (corrupt, not a model of this config, or trained with another ESPnet "
            f"than {describe(here)}): {detail}")
