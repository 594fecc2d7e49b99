"""Write one record of the study store: a finished model, or a finished seed group's analysis.

A model record (``<lang>/<level>/<tag>.<key>/``) holds what every report reads, without
the model: ``results.json`` (stage 9's, the evaluation set only, with provenance; each
output's ``score_dir`` points inside the record), ``<output>/counts_<kind>.tsv`` (sclite's
per-utterance C S D I, read from its alignments), ``<output>/text`` (the hypotheses),
``<output>/score_mdd/*.tsv`` (per-utterance MDD counts, where scored), ``utts.tsv`` (speaker
and divergence of each evaluation utterance) and ``record.json`` (key, what the key is made
of, metadata, environment). A group record (``<lang>/<level>/analysis_<group>.<key>/``)
holds the group's part of stage 10's ``analysis.json`` and ``record.json`` (its models' keys).

Records are written into a temporary directory and renamed into place: a killed run leaves
no half record (a leftover ``.tmp.*`` directory is ignored by readers and removed by the
next write). An existing record is never overwritten: its key says it was made the same way.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import shutil
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterator, Mapping, Optional, Sequence

from espnet_l2dual.analysis.access import sclite_counts
from espnet_l2dual.errors import DataError
from espnet_l2dual.utils.fileio import PathLike, read_table

RECORD = "record.json"
SCHEMA = 1
TMP_PREFIX = ".tmp."


def level_name(level: Optional[Mapping[str, Any]]) -> str:
    """The directory of a grid level (``es1_ep4``), ``main`` outside the grid (for people; readers use metadata)."""
    if not level:
        return "main"
    return f"es{level['error_scale']:g}_ep{level['epochs']}"


def environment() -> Dict[str, str]:
    """Versions the numbers were made with (RESULTS.md prints them)."""
    env = {"python": platform.python_version(), "machine": platform.machine(), "system": platform.system()}
    for name in ("torch", "espnet"):
        try:
            env[name] = __import__(name).__version__
        except Exception:  # noqa: BLE001 - a missing package is simply not recorded
            env[name] = "not installed"
    return env


def write_counts(path: Path, counts: Mapping[str, tuple]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write("# id\tC\tS\tD\tI\t(sclite, per utterance; id as in sclite's trn: speaker-utterance)\n")
        for uid, c in counts.items():
            f.write(uid + "\t" + "\t".join(map(str, c)) + "\n")


def _size(d: Path) -> int:
    return sum(f.stat().st_size for f in d.rglob("*") if f.is_file())


def _clean_stale(parent: Path) -> None:
    """Leftovers of killed writes (not ours: a pid that no longer runs)."""
    for tmp in parent.glob(TMP_PREFIX + "*"):
        pid = tmp.name.rsplit(".", 1)[-1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(tmp, ignore_errors=True)


class _Staging:
    """A temporary record directory renamed into place on success, removed on failure."""

    def __init__(self, final: Path) -> None:
        self.final = final
        final.parent.mkdir(parents=True, exist_ok=True)
        _clean_stale(final.parent)
        self.tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{final.name}.", suffix=f".{os.getpid()}",
                                         dir=final.parent))

    def __enter__(self) -> Path:
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        os.chmod(self.tmp, 0o755)
        try:
            os.rename(self.tmp, self.final)
        except OSError:  # written meanwhile by another run with the same key: keep that one
            shutil.rmtree(self.tmp, ignore_errors=True)
            if not (self.final / RECORD).is_file():
                raise


def _utts(eval_dir: Path) -> Iterator[str]:
    spk = read_table(eval_dir / "utt2spk") if (eval_dir / "utt2spk").is_file() else {}
    div = read_table(eval_dir / "utt2divergence") if (eval_dir / "utt2divergence").is_file() else {}
    for utt in sorted(set(spk) | set(div)):
        yield f"{utt}\t{spk.get(utt, '')}\t{div.get(utt, '')}\n"


def write_model_record(store: PathLike, key: str, key_inputs: Mapping[str, Any], meta: Mapping[str, Any],
                       model_dir: PathLike, eval_dir: PathLike) -> Path:
    """Record the finished model ``model_dir`` (stage 9 done) under ``store``; returns the record dir.

    ``meta``: lang, config, tag, size, seed (of the tag, or None), level (None outside the grid),
    eval_set. An existing record of this key is kept as it is.
    """
    store, model_dir, eval_dir = Path(store), Path(model_dir), Path(eval_dir)
    final = store / meta["lang"] / level_name(meta.get("level")) / f"{meta['tag']}.{key}"
    if (final / RECORD).is_file():
        return final
    eval_set = meta["eval_set"]
    res_path = model_dir / "results.json"
    if not res_path.is_file():
        raise DataError(res_path, None, "not found: stage 9 writes it (the model is not finished)")
    results = json.loads(res_path.read_text(encoding="utf-8"))
    if eval_set not in results:
        raise DataError(res_path, None, f"no '{eval_set}' set scored (scored: "
                        f"{', '.join(k for k in results if k != 'provenance') or 'none'})")
    entries: Dict[str, Any] = results[eval_set]
    with _Staging(final) as tmp:
        for output, entry in entries.items():
            src = res_path.parent / entry["score_dir"]
            (tmp / output).mkdir()
            for kind in entry["counts"]:
                write_counts(tmp / output / f"counts_{kind}.tsv", sclite_counts(src / f"score_{kind}"))
            if (src / "text").is_file():
                shutil.copyfile(src / "text", tmp / output / "text")
            if (src / "score_mdd").is_dir():
                (tmp / output / "score_mdd").mkdir()
                for f in sorted((src / "score_mdd").glob("*.tsv")):
                    shutil.copyfile(f, tmp / output / "score_mdd" / f.name)
            entry["score_dir"] = output
        with open(tmp / "utts.tsv", "w", encoding="utf-8") as f:
            f.write("# utt\tspeaker\tdivergence\n")
            f.writelines(_utts(eval_dir))
        with open(tmp / "results.json", "w", encoding="utf-8") as f:
            json.dump({eval_set: entries, "provenance": results.get("provenance")}, f, ensure_ascii=False, indent=1)
        record = {"schema": SCHEMA, "kind": "model", "key": key, "key_inputs": dict(key_inputs), "meta": dict(meta),
                  "environment": environment(), "saved": datetime.datetime.now().astimezone().isoformat(timespec="seconds")}
        record["bytes"] = _size(tmp) + len(json.dumps(record, indent=1)) + 16
        with open(tmp / RECORD, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False, indent=1)
    return final


def write_group_record(store: PathLike, key: str, meta: Mapping[str, Any], members: Mapping[str, str],
                       analysis_json: PathLike, label: str) -> Path:
    """Record the stage-10 analysis of one seed group (``label`` in analysis.json's ``groups``).

    ``members``: {model tag: record key} of the group's models; ``meta``: lang, level, size, seed.
    """
    store, analysis_json = Path(store), Path(analysis_json)
    final = store / meta["lang"] / level_name(meta.get("level")) / f"analysis_{label}.{key}"
    if (final / RECORD).is_file():
        return final
    analysis = json.loads(analysis_json.read_text(encoding="utf-8"))
    groups = analysis.get("groups", {})
    if label not in groups:
        raise DataError(analysis_json, None, f"no group '{label}' (groups: {', '.join(groups) or 'none'})")
    with _Staging(final) as tmp:
        with open(tmp / "analysis.json", "w", encoding="utf-8") as f:
            json.dump({"settings": analysis.get("settings", {}), "groups": {label: groups[label]}}, f,
                      ensure_ascii=False, indent=1)
        record = {"schema": SCHEMA, "kind": "group", "key": key, "meta": {**meta, "group": label},
                  "members": dict(members), "environment": environment(),
                  "saved": datetime.datetime.now().astimezone().isoformat(timespec="seconds")}
        record["bytes"] = _size(tmp) + len(json.dumps(record, indent=1)) + 16
        with open(tmp / RECORD, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False, indent=1)
    return final


def model_tags(group: Mapping[str, Any]) -> Sequence[str]:
    """The tags of a stage-10 group's models."""
    return [group["stl_surface"], group["stl_meaning"], *group["mtl"]]
