"""Read the study store: find records by key or by metadata, and serve them to the reports.

:class:`StoreRecipe` is the store's side of the reader interface the reports use (the exp/
side is :class:`espnet_l2dual.analysis.study.Recipe`): ``lang``, ``path``, ``load_results``,
``load_analysis`` and ``eval_divergence``. Which records belong together (a language, a
grid level, a seed group) comes from each record's metadata, never from directory or tag
names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

from espnet_l2dual.analysis import access
from espnet_l2dual.errors import DataError
from espnet_l2dual.study.record import RECORD, TMP_PREFIX
from espnet_l2dual.utils.fileio import PathLike

STORE = "the study store (run_all.sh --study)"


@dataclass
class Record:
    dir: Path
    data: Dict[str, Any]

    @property
    def key(self) -> str:
        return self.data["key"]

    @property
    def kind(self) -> str:
        return self.data["kind"]

    @property
    def meta(self) -> Dict[str, Any]:
        return self.data["meta"]

    def level(self) -> Optional[Dict[str, Any]]:
        return self.meta.get("level") or None


def same_level(a: Optional[Mapping[str, Any]], b: Optional[Mapping[str, Any]]) -> bool:
    if not a or not b:
        return not a and not b
    return float(a["error_scale"]) == float(b["error_scale"]) and str(a["epochs"]) == str(b["epochs"])


class Store:
    """All finished records under ``studies/<name>``."""

    def __init__(self, path: PathLike) -> None:
        self.path = Path(path)
        self.records: List[Record] = []
        if not self.path.is_dir():
            return
        for f in sorted(self.path.glob(f"*/*/*/{RECORD}")):
            if f.parent.name.startswith(TMP_PREFIX):
                continue  # a write that did not finish
            try:
                self.records.append(Record(f.parent, json.loads(f.read_text(encoding="utf-8"))))
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                raise DataError(f, None, f"not valid JSON ({e})") from None

    def models(self, lang: Optional[str] = None, level: Any = "any") -> List[Record]:
        return [r for r in self.records if r.kind == "model" and (lang is None or r.meta["lang"] == lang)
                and (level == "any" or same_level(r.level(), level))]

    def groups(self, lang: Optional[str] = None, level: Any = "any") -> List[Record]:
        return [r for r in self.records if r.kind == "group" and (lang is None or r.meta["lang"] == lang)
                and (level == "any" or same_level(r.level(), level))]

    def by_key(self, key: str) -> Optional[Record]:
        return next((r for r in self.records if r.key == key), None)

    def langs(self) -> List[str]:
        return sorted({r.meta["lang"] for r in self.records})

    def levels(self, lang: str) -> List[Optional[Dict[str, Any]]]:
        out: List[Optional[Dict[str, Any]]] = []
        for r in self.models(lang):
            if not any(same_level(r.level(), x) for x in out):
                out.append(r.level())
        return out

    def size_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file())


@dataclass
class StoreRecipe:
    """One language (and grid level) of a store, read like a recipe's exp/ by the reports."""

    store: Store
    lang: str
    level: Optional[Dict[str, Any]] = None
    _by_tag: Dict[str, Record] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for r in self.store.models(self.lang, self.level):
            other = self._by_tag.get(r.meta["tag"])
            if other is not None:
                raise DataError(r.dir, None, f"two records of {self.lang} {r.meta['tag']} at one level "
                                f"({other.dir.name} and {r.dir.name}): they were made differently (their "
                                "record.json key_inputs say how); move the one not meant out of the store")
            self._by_tag[r.meta["tag"]] = r

    @property
    def path(self) -> Path:
        return self.store.path / self.lang

    def record(self, config: str, suffix: str) -> Record:
        tag = f"asr_{config}{suffix}"
        if tag not in self._by_tag:
            raise DataError(self.store.path, None, f"no record of {self.lang} {tag}"
                            + (f" at level {self.level}" if self.level else "")
                            + f" in {STORE}: train it (run_all.sh --study {self.store.path.name})")
        return self._by_tag[tag]

    def load_results(self, config: str, suffix: str) -> access.Doc:
        return access.load_results(self.record(config, suffix).dir / "results.json")

    def load_analysis(self) -> access.Doc:
        """The seed groups' analyses of this language and level, as one analysis.json."""
        groups = self.store.groups(self.lang, self.level)
        if not groups:
            raise DataError(self.store.path, None, f"no stage-10 analysis of {self.lang} in {STORE}")
        merged: Dict[str, Any] = {"groups": {}}
        for g in groups:
            data = json.loads((g.dir / "analysis.json").read_text(encoding="utf-8"))
            merged.setdefault("settings", data.get("settings", {}))
            merged["groups"].update(data["groups"])
        return access.Doc(merged, self.store.path / self.lang, access.STAGE10)

    def eval_divergence(self, test_set: str) -> Dict[str, float]:
        """{utt: divergence} of the evaluation set (from any model record of this level)."""
        recs = [r for r in self._by_tag.values() if r.meta["eval_set"] == test_set]
        if not recs:
            raise DataError(self.store.path, None, f"no record of {self.lang} evaluated on '{test_set}'")
        return read_utts(recs[0].dir / "utts.tsv")


def read_utts(path: Path) -> Dict[str, float]:
    out: Dict[str, float] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        utt, _spk, div = (line.split("\t") + ["", ""])[:3]
        if div:
            out[utt] = float(div)
    return out


def study_configs(store: Store) -> List[str]:
    """The configs of a store, the base three first."""
    found = {r.meta["config"] for r in store.models()}
    base = [c for c in ("stl_surface", "stl_meaning", "mtl") if c in found]
    return base + sorted(found - set(base))


def study_seeds(store: Store) -> List[int]:
    return sorted({r.meta["seed"] for r in store.models() if r.meta.get("seed") is not None})


def study_suffixes(store: Store) -> List[str]:
    return sorted({r.meta.get("suffix", "") for r in store.models()})


def study_eval_sets(store: Store) -> List[str]:
    return sorted({r.meta["eval_set"] for r in store.models()})


def recipes(store: Store, langs: Optional[Sequence[str]] = None) -> List[StoreRecipe]:
    return [StoreRecipe(store, lang) for lang in (langs or store.langs())]
