"""The study store (``studies/<name>``): keys, records, status and RESULTS.md (run_all.sh --study).

  key      print the key of one model (its recipe's data prepared: stage 1)
  has      exit 0 if the store holds a record of that key (prints its directory), else 1
  save     record a finished model (stage 9 done) from its recipe's exp/<tag>
  save_groups   record every seed group of exp/analysis/analysis.json whose models are all stored
  has_group     exit 0 if the store holds the analysis of one seed group (--configs, --seed), else 1
  status   done/missing per model and per seed group of a run (metadata only: no data needed)
  results_md    write a recipe's RESULTS.md from the store
  size     bytes per record and in all
  run_opts the ./run.sh options of a post-training config (study.post_training)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from espnet_l2dual.study import models, record, results_md
from espnet_l2dual.study.store import Store
from espnet_l2dual.utils.fileio import atomic_write


def dir_bytes(d: Path) -> int:
    """Bytes of the files under ``d``: what one record costs the store."""
    return sum(f.stat().st_size for f in d.rglob("*") if f.is_file())


def save_model(study: Path, spec: models.Spec, key: str, inputs: Any, recipe: Path, command: str) -> str:
    """Record a finished model of ``<recipe>/exp/<tag>``; the line that says where it went."""
    d = record.write_model_record(study, key, inputs, spec.meta(command), recipe / "exp" / spec.tag,
                                  recipe / "dump" / "raw" / spec.eval_set)
    return f"study: {spec.lang} {spec.tag} -> {d} ({dir_bytes(d)} bytes)"


def grid_levels(error_scales: Sequence[str], epochs: Sequence[str]) -> List[Optional[Dict[str, Any]]]:
    """Every level of run_all.sh's grid options; [None] outside the grid."""
    if not (error_scales or epochs):
        return [None]
    return [models.make_level(es, ep) for es in (error_scales or [""]) for ep in (epochs or [""])]


def write_results_md(study: Path, lang: str, out: Path) -> None:
    """A recipe's RESULTS.md from the store, written atomically."""
    text = results_md.render(Store(study), lang)
    with atomic_write(out) as f:
        f.write(text)


def size_lines(study: Path) -> List[str]:
    """Bytes per record, then in all."""
    store = Store(study)
    lines = [f"{dir_bytes(r.dir):>9} {r.dir}" for r in store.records]
    return lines + [f"{store.size_bytes():>9} {study} ({len(store.records)} records)"]
