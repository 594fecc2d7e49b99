"""Where a result came from: toolkit commit, config, data, seed, token setup, decode options.

Stage 7 writes ``exp/<tag>/provenance.json`` (``training_provenance``), with the model's
``group`` (``model_group``: config name, size, seed) that stage 10 groups models by; stage 9 adds
the seed the Trainer used, the decode options and the test data digest
(``result_provenance``) and stores it under ``"provenance"`` in results.json, which
the report prints.
"""

from __future__ import annotations

import datetime
import json
import subprocess
from pathlib import Path
from typing import Dict, Optional, Sequence

import yaml

from espnet_l2dual.compat.stack import stack_versions
from espnet_l2dual.utils import config_file, digest, stage_record
from espnet_l2dual.utils.fileio import PathLike

PACKAGE_ROOT = Path(__file__).resolve().parents[2]


def git_state(root: PathLike = PACKAGE_ROOT) -> Dict[str, object]:
    """``{"commit": sha | "unknown", "dirty": bool | None}`` of the toolkit checkout."""
    def git(*args: str) -> Optional[str]:
        try:
            proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            return None
        return proc.stdout if proc.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": "unknown", "dirty": None}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit.strip(), "dirty": bool(status and status.strip())}


# the size words a training config's name ends with (train_mtl_tiny.yaml: tiny); none: the full size
SIZE_WORDS = ("tiny", "mini", "small", "medium", "base", "large", "full", "xl", "wavlm")


def model_group(config: PathLike, seed: Optional[int]) -> Dict[str, object]:
    """What stage 10 groups a model by, recorded when it is trained so the analysis never reads
    exp/ tags: the config's name, its size (the config name's size word, ``""`` for the full
    size), the recipe's ``--seed`` (None: the config's own seed) and the name the config's model
    has whatever the seed (``asr_<config name without train_>``, as l2dual.sh names exp dirs)."""
    name = Path(config).name
    for ext in (".yaml", ".yml"):
        name = name[: -len(ext)] if name.endswith(ext) else name
    last = name.rsplit("_", 1)[-1]
    size = last if last in SIZE_WORDS and last != name else ""
    model = "asr_" + (name[len("train_"):] if name.startswith("train_") else name)
    return {"config_name": name, "size": size, "seed": seed, "model": model}


def with_group(provenance: PathLike, config: PathLike, seed: Optional[int]) -> dict:
    """An existing ``provenance.json`` (or none) with the group of a model trained before stage 7
    recorded it, so stage 10 can group it; everything else it records is kept."""
    path = Path(provenance)
    prov = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {
        "note": "no provenance.json from stage 7: only the group was recorded afterwards"}
    if not isinstance(prov, dict):
        raise ValueError(f"{path}: not a JSON object")
    return {**prov, "group": model_group(config, seed)}


def training_provenance(config: PathLike, record: PathLike, token_setup: Optional[PathLike],
                        command: str, seed: Optional[int] = None) -> dict:
    """What stage 7 trains from; ``record`` is its stage record (inputs and their digests);
    ``seed``: the recipe's ``--seed`` (None where the config's own seed trains)."""
    rec = stage_record.load(Path(record))
    setup = json.loads(Path(token_setup).read_text(encoding="utf-8")) if token_setup else None
    return {
        **git_state(),
        "config": str(config),
        # the resolved content (what trains); the files of its base: chain with their own hashes
        "config_sha1": config_file.config_digest(config),
        "config_files": {str(p): digest.file_sha1(p) for p in config_file.config_chain(config)},
        "inputs_digest": rec.digest() if rec else None,
        "token_setup": setup,
        "command": command,
        "group": model_group(config, seed),
        "versions": stack_versions(),  # checked when the model is loaded for decoding
        "created": datetime.datetime.now().isoformat(timespec="seconds"),
    }


def result_provenance(training: Optional[PathLike], model_config: Optional[PathLike],
                      decode_records: Sequence[PathLike]) -> dict:
    """Training provenance plus seed, decode options and test-data digests (stage 9)."""
    out: dict = {}
    if training and Path(training).is_file():
        out.update(json.loads(Path(training).read_text(encoding="utf-8")))
    else:
        out.update(git_state())
        out["note"] = "no provenance.json from stage 7 (model trained outside this recipe?)"
    if model_config and Path(model_config).is_file():
        conf = yaml.safe_load(Path(model_config).read_text(encoding="utf-8")) or {}
        out["seed"] = conf.get("seed")
        out["model_config_sha1"] = digest.file_sha1(model_config)
    decode = {}
    for path in decode_records:
        rec = stage_record.load(Path(path))
        if rec is not None:
            decode[str(Path(path).parent)] = {"options": rec.options, "inputs_digest": rec.digest()}
    out["decode"] = decode
    return out


def made_on() -> dict:
    """When, where and with which stack the report was made (RESULTS.md prints it)."""
    import importlib.metadata as md
    import platform

    def version(name: str) -> str:
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            return "not installed"
    stack = ", ".join(f"{n} {version(n)}" for n in ("torch", "espnet"))
    return {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "machine": platform.machine(),
            "environment": f"Python {platform.python_version()}, {stack}"}
