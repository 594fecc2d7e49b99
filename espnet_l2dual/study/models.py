"""The models and seed groups a study run expects, with their keys and their state in the store.

A model is (language, grid level, config, seed); its tag is what ``./run.sh`` names it
(``asr_<config><suffix>[_seed<N>]``). A seed group is the STL-surface, STL-meaning and MTL
models of one language, level, size and seed: stage 10 analyses it as one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from espnet_l2dual.study import post_training
from espnet_l2dual.study.key import key_inputs, make_key
from espnet_l2dual.study.record import level_name
from espnet_l2dual.study.store import Record, Store, same_level

GROUP_CONFIGS = ("stl_surface", "stl_meaning", "mtl")


def group_label(size: str, seed: Optional[int]) -> str:
    """Stage 10's group label (as :func:`espnet_l2dual.analysis.exp_models.group_label`): ``tiny``, ``tiny_seed2``."""
    return (size or "full") + ("" if seed is None else f"_seed{seed}")


@dataclass(frozen=True)
class Spec:
    """One model a study run trains (what its record's metadata will say)."""

    lang: str
    config: str
    suffix: str
    seed: Optional[int]  # --seed given (tag ``_seed<N>``); None: the config's own seed
    level: Optional[Dict[str, Any]]
    eval_set: str

    @property
    def tag(self) -> str:
        return f"asr_{self.config}{self.suffix}" + ("" if self.seed is None else f"_seed{self.seed}")

    @property
    def size(self) -> str:
        return self.suffix.lstrip("_") or "full"

    @property
    def group(self) -> str:
        """The stage-10 group label of this model (``tiny``, ``tiny_seed2``)."""
        return group_label(self.suffix.lstrip("_"), self.seed)

    def meta(self, command: str = "") -> Dict[str, Any]:
        return {"lang": self.lang, "config": self.config, "tag": self.tag, "suffix": self.suffix, "size": self.size,
                "seed": self.seed, "level": self.level, "eval_set": self.eval_set, "group": self.group,
                **({"command": command} if command else {})}

    def found(self, store: Store) -> List[Record]:
        """This model's records in the store, by metadata (any key)."""
        return [r for r in store.models(self.lang, self.level)
                if r.meta["tag"] == self.tag and r.meta["eval_set"] == self.eval_set]


def make_level(error_scale: Optional[str], epochs: Optional[str]) -> Optional[Dict[str, Any]]:
    """A grid level from run_all.sh's options; None outside the grid."""
    if error_scale in (None, "") and epochs in (None, ""):
        return None
    return {"error_scale": float(error_scale or 1), "epochs": epochs or "config"}


def model_key(spec: Spec, recipe: Path, config_file: Path, train_args: str, run_args: str, corpus: str,
              train_sets: Sequence[str]) -> tuple:
    """(key, key inputs) of one model, from its recipe's prepared data (stage 1) and its options."""
    sets = post_training.train_sets(spec.config, list(train_sets))
    inputs = key_inputs(spec.lang, config_file, spec.seed, [recipe / "data" / s for s in sets],
                        recipe / "data" / spec.eval_set, spec.eval_set, train_args, run_args,
                        recipe / "run.sh" if (recipe / "run.sh").is_file() else None, corpus)
    inputs["level"] = spec.level
    init_sha1 = post_training.init_model_sha1(recipe, spec.config, spec.suffix, spec.seed)
    if init_sha1 is not None:  # a post-trained model is made by its start too
        inputs["init_model_sha1"] = init_sha1
    return make_key(inputs), inputs


def expected(langs: Sequence[str], configs: Sequence[str], suffix: str, seeds: Sequence[Optional[int]],
             levels: Sequence[Optional[Dict[str, Any]]], eval_set: str) -> List[Spec]:
    return [Spec(lang, c, suffix, s, lv, eval_set) for lang in langs for lv in levels for s in seeds for c in configs]


def status_lines(store: Store, specs: Sequence[Spec]) -> List[str]:
    """Done/missing per model and per seed group; the last line counts them."""
    lines, done, groups_done = [], 0, 0
    groups: Dict[tuple, List[Spec]] = {}
    for sp in specs:
        found = sp.found(store)
        where = f"{sp.lang} {level_name(sp.level)} {sp.tag}"
        if found:
            done += 1
            extra = f" ({len(found)} records: made differently, see key_inputs)" if len(found) > 1 else ""
            lines.append(f"done     model {where}: {', '.join(str(r.dir) for r in found)}{extra}")
        else:
            lines.append(f"missing  model {where}")
        if sp.config in GROUP_CONFIGS:
            groups.setdefault((sp.lang, level_name(sp.level), sp.group), []).append(sp)
    for (lang, level, label), members in groups.items():
        level_dict = members[0].level
        recs = [g for g in store.groups(lang, level_dict) if g.meta["group"] == label]
        have = [m for m in members if m.found(store)]
        if recs:
            groups_done += 1
            lines.append(f"done     group {lang} {level} {label}: {recs[0].dir}")
        else:
            need = "" if len(have) == len(members) else \
                f" (models missing: {', '.join(m.tag for m in members if m not in have)})"
            lines.append(f"missing  group {lang} {level} {label}: stage-10 analysis{need}")
    lines.append(f"{done} of {len(specs)} models and {groups_done} of {len(groups)} seed groups in {store.path}")
    return lines


def group_members(store: Store, lang: str, level: Optional[Dict[str, Any]], tags: Sequence[str],
                  keys: Dict[str, str]) -> Optional[Dict[str, str]]:
    """{tag: record key} of a group's models (the keys this run computed), or None if one is not stored."""
    out = {}
    for tag in tags:
        key = keys.get(tag)
        rec = store.by_key(key) if key else None
        if rec is None or not same_level(rec.level(), level):
            return None
        out[tag] = key
    return out
