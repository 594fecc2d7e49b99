"""Seed groups in a study store: the stage-10 analysis of a set of models, keyed by their keys.

A group is recorded only when every one of its models is stored, so the analysis it holds
was made by exactly the models the store can show.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

from espnet_l2dual.study import models, record
from espnet_l2dual.study.key import group_key
from espnet_l2dual.study.store import Store


def config_keys(recipe: Path, lang: str, configs: Sequence[str], suffix: str, seeds: Sequence[Optional[int]],
                level: Optional[Dict[str, Any]], eval_set: str, train_args: str, run_args: str, corpus: str,
                train_sets: Sequence[str]) -> Dict[str, str]:
    """{model tag: key} of every config of ``configs`` and every seed of ``seeds``."""
    keys = {}
    for c in configs:
        for s in seeds:
            spec = models.Spec(lang, c, suffix, s, level, eval_set)
            config_file = recipe / "conf" / "tuning" / f"train_{c}{suffix}.yaml"
            keys[spec.tag] = models.model_key(spec, recipe, config_file, train_args, run_args, corpus, train_sets)[0]
    return keys


def stored_group(study: Path, keys: Dict[str, str]) -> Optional[Path]:
    """The record dir of the analysis made by exactly the models of ``keys``, or None."""
    rec = Store(study).by_key(group_key(list(keys.values()), analysis_options=""))
    return None if rec is None else rec.dir


def save_groups(study: Path, analysis: Path, lang: str, level: Optional[Dict[str, Any]], eval_set: str,
                keys: Dict[str, str]) -> None:
    """Record every seed group of ``analysis`` (analysis.json) whose models are all in the store;
    one line on stderr per group, recorded or not."""
    if not analysis.is_file():
        print(f"study: no {analysis}: no seed group to record", file=sys.stderr)
        return
    store = Store(study)
    groups = json.loads(analysis.read_text(encoding="utf-8")).get("groups", {})
    for label, g in groups.items():
        tags = record.model_tags(g)
        members = models.group_members(store, lang, level, tags, keys)
        if members is None:
            print(f"study: group {label}: not every model is in the store ({', '.join(tags)}): not recorded",
                  file=sys.stderr)
            continue
        seeds = {store.by_key(k).meta.get("seed") for k in members.values()}
        sizes = {store.by_key(k).meta.get("size") for k in members.values()}
        meta = {"lang": lang, "level": level, "size": sizes.pop() if len(sizes) == 1 else None,
                "seed": seeds.pop() if len(seeds) == 1 else None, "eval_set": eval_set}
        d = record.write_group_record(study, group_key(list(members.values()), analysis_options=""), meta,
                                      members, analysis, label)
        print(f"study: group {label} -> {d}", file=sys.stderr)
