"""The models stage 10 compares, read from what each exp dir records, never from its tag.

A model's ``config.yaml`` says what it is (``model_conf.tasks``: ``[surface]`` STL-surface,
``[meaning]`` STL-meaning, both: an MTL-like model); the ``group`` stage 7 recorded in its
``provenance.json`` (:func:`espnet_l2dual.utils.provenance.model_group`) says which models it is
compared with: those of the same size trained with the same ``--seed``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import yaml

from espnet_l2dual.errors import DataError
from espnet_l2dual.outputs import PAIR, check_tasks

log = logging.getLogger("espnet_l2dual.analysis")

PROVENANCE = "provenance.json"  # stage 7 writes it beside config.yaml


class MissingModels(ValueError):
    """exp/ lacks a model the analysis needs; the message names what is missing."""


@dataclass
class ModelInfo:
    tag: str
    dir: Path
    tasks: List[str]
    size: str
    seed: Optional[int] = None  # the recipe's --seed the model was trained with (None: the config's own)
    config_name: str = ""  # the training config's name (train_mtl_tiny)
    model: str = ""  # the name of the config's model whatever the seed (asr_mtl_tiny)

    @property
    def kind(self) -> str:
        if self.tasks == ["surface"]:
            return "stl_surface"
        if self.tasks == ["meaning"]:
            return "stl_meaning"
        return "mtl"

    @property
    def name(self) -> str:
        """The same model across seeds: the recorded name, else the tag."""
        return self.model or self.tag


def group_label(size: str, seed: Optional[int]) -> str:
    """The analysis group of a size and seed: ``tiny``, ``full``, ``tiny_seed2``."""
    return (size or "full") + ("" if seed is None else f"_seed{seed}")


def read_group(model_dir: Path) -> dict:
    """The ``group`` stage 7 recorded in ``provenance.json``; one line naming what is missing."""
    path = model_dir / PROVENANCE
    fix = ("stage 10 groups models by the size and seed recorded at training; record them with "
           f"python -m espnet_l2dual.bin.write_provenance --add_group --out {path} "
           "--config <its training yaml> [--seed <its --seed>]")
    if not path.is_file():
        raise DataError(path, None, f"not found (model trained before stage 7 recorded its group): {fix}")
    try:
        prov = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise DataError(path, None, f"not valid JSON: {e}") from None
    group = prov.get("group") if isinstance(prov, dict) else None
    if not isinstance(group, dict):
        raise DataError(path, None, f"records no 'group' (written before stage 7 recorded it): {fix}")
    missing = [k for k in ("size", "seed") if k not in group]
    if missing:
        raise DataError(path, None, f"'group' records no {', '.join(repr(k) for k in missing)}: {fix}")
    if not isinstance(group["size"], str) or not (group["seed"] is None or isinstance(group["seed"], int)):
        raise DataError(path, None, f"'group': size must be a string and seed an integer or null, got {group}")
    return group


def discover(exp_dir: Path) -> List[ModelInfo]:
    """Every ``exp_dir/<tag>/config.yaml`` of an l2dual model, with its recorded group."""
    if not exp_dir.is_dir():
        raise MissingModels(f"{exp_dir}: experiment directory not found (run stages 7-9 first)")
    found = []
    for cfg in sorted(exp_dir.glob("*/config.yaml")):
        try:
            conf = yaml.safe_load(cfg.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as e:
            raise DataError(cfg, None, f"not valid YAML: {e}") from None
        if not isinstance(conf, dict) or "encoder" not in conf:
            continue  # not a trained model's config (stats dirs, ...)
        try:
            tasks = check_tasks((conf.get("model_conf") or {}).get("tasks", list(PAIR)))
        except ValueError as e:
            raise DataError(cfg, None, str(e)) from None
        if set(tasks) <= set(PAIR):  # the study's outputs (a model with a third output is not compared)
            g = read_group(cfg.parent)
            found.append(ModelInfo(cfg.parent.name, cfg.parent, tasks, g["size"], g["seed"],
                                   str(g.get("config_name") or ""), str(g.get("model") or "")))
    return found


def _pick(models: Sequence[ModelInfo], kind: str, size: str, seed: Optional[int] = None) -> Optional[ModelInfo]:
    """The one ``kind`` model of a group; of several, the one trained from the config of that
    kind and size (``train_stl_surface_tiny``)."""
    cands = [m for m in models if m.kind == kind and m.size == size and m.seed == seed]
    if len(cands) > 1:
        preferred = f"train_{kind}" + (f"_{size}" if size else "")
        named = [m for m in cands if m.config_name == preferred]
        if len(named) != 1:
            raise MissingModels(f"several {kind} models of group '{group_label(size, seed)}' "
                                f"({', '.join(m.tag for m in cands)}) and not one trained from {preferred}.yaml")
        return named[0]
    return cands[0] if cands else None


def make_groups(models: Sequence[ModelInfo], exp_dir: Path) -> Dict[str, dict]:
    """Size (and seed) -> {stl_surface, stl_meaning, mtl: [...]}: models of one group share both,
    so a seed is compared only with models trained with that seed; only complete groups; error if
    there is none."""
    groups, problems = {}, []
    for size, seed in sorted({(m.size, m.seed) for m in models}, key=lambda k: (k[0], -1 if k[1] is None else k[1])):
        s, m = _pick(models, "stl_surface", size, seed), _pick(models, "stl_meaning", size, seed)
        mtls = [x for x in models if x.kind == "mtl" and x.size == size and x.seed == seed]
        missing = [name for name, x in (("STL-surface (model_conf.tasks: [surface])", s),
                                        ("STL-meaning (model_conf.tasks: [meaning])", m),
                                        ("MTL (model_conf.tasks: [surface, meaning])", mtls or None)) if not x]
        label = group_label(size, seed)
        if missing:
            problems.append(f"size '{label}': missing {', '.join(missing)}")
            continue
        groups[label] = {"stl_surface": s, "stl_meaning": m, "mtl": mtls}
    for p in problems if groups else []:
        log.warning("%s: %s (skipped)", exp_dir, p)
    if not groups:
        have = ", ".join(f"{x.tag} ({'+'.join(x.tasks)})" for x in models) or "no model configs"
        raise MissingModels(f"{exp_dir}: stage 10 needs an STL-surface, an STL-meaning and an MTL model of "
                            f"the same size; {'; '.join(problems) or 'none found'}. Found: {have}")
    return groups


def model_loader(info: ModelInfo, model_file: str, device: str) -> Callable:
    """A loader of the model, its preprocessor and collate function (called only when needed)."""
    def load():
        from espnet_l2dual.tasks.l2dual import L2DualTask

        cfg, pth = info.dir / "config.yaml", info.dir / model_file
        if not pth.is_file():
            raise DataError(pth, None, f"model file of {info.tag} not found (--model_file {model_file})")
        model, args = L2DualTask.build_model_from_file(str(cfg), str(pth), device)
        model.eval()
        return model, L2DualTask.build_preprocess_fn(args, train=False), \
            L2DualTask.build_collate_fn(args, train=False)
    return load
