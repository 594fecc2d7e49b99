"""What a stage's output was computed from: input digests and the options that matter.

Each guarded output directory holds ``.stage<N>.json`` once the stage finished there,
and ``.stage<N>.pending.json`` while it runs. A re-run compares the inputs as they
are now with the record and either skips ("up to date") or says what changed
("fs 16000 -> 8000") and redoes the work. A pending record equal to the current
inputs means an interrupted run of the same work, which a resumable stage may finish.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from espnet_l2dual.errors import DataError
from espnet_l2dual.utils import digest
from espnet_l2dual.utils.config_file import config_digest, load_config
from espnet_l2dual.utils.fileio import PathLike, atomic_write

CURRENT, RUN, RESUME = "current", "run", "resume"
NO_RECORD = "no record of an earlier run"


@dataclass
class StageInputs:
    """The inputs of one stage at one output directory."""

    stage: str
    files: Dict[str, Optional[str]] = field(default_factory=dict)
    audio: Dict[str, digest.AudioStats] = field(default_factory=dict)
    options: Dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"stage": self.stage, "options": self.options, "files": self.files, "audio": self.audio}

    @classmethod
    def from_json(cls, d: Mapping) -> "StageInputs":
        return cls(str(d.get("stage", "")), dict(d.get("files", {})), dict(d.get("audio", {})),
                   {k: str(v) for k, v in d.get("options", {}).items()})

    def digest(self) -> str:
        """One short digest of everything (audio by content only), for provenance."""
        audio = {scp: digest.combined({p: s[2] for p, s in stats.items()}) for scp, stats in self.audio.items()}
        return digest.combined({"files": digest.combined(self.files), "audio": digest.combined(audio),
                                "options": digest.combined(self.options)})


def record_path(out_dir: PathLike, stage: str, pending: bool = False) -> Path:
    return Path(out_dir) / f".stage{stage}{'.pending' if pending else ''}.json"


def load(path: Path) -> Optional[StageInputs]:
    """A record, or None when absent or unreadable (a torn record is no record)."""
    try:
        return StageInputs.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, AttributeError):
        return None


def config_options(spec: str) -> Tuple[str, str]:
    """``FILE:key1,key2`` -> (``config:FILE:key1,key2``, digest of those keys' resolved values)."""
    path, _, keys = spec.rpartition(":")
    if not path:
        raise ValueError(f"--config_keys wants FILE:key1,key2, got '{spec}'")
    conf = load_config(path)  # the values its base gives count too
    picked = {k: conf.get(k) for k in keys.split(",") if k}
    return f"config:{path}:{keys}", json.dumps(picked, sort_keys=True, default=str)


def current_inputs(
    stage: str, files: Sequence[PathLike] = (), audio: Sequence[PathLike] = (),
    options: Mapping[str, str] = (), previous: Optional[StageInputs] = None,
    configs: Sequence[PathLike] = (),
) -> StageInputs:
    """Digest the inputs now; audio hashes are reused from ``previous`` where size and mtime match.

    ``configs`` are training configs, digested by their resolved content (a changed base is a
    changed config; comments and layout are not).
    """
    known: Dict[str, List] = {}  # every audio file's last (size, mtime, sha1), whichever scp listed it
    for stats in (previous.audio if previous else {}).values():
        known.update(stats)
    audio_stats = {}
    for scp in audio:
        scp = str(scp)
        if not Path(scp).is_file():
            raise DataError(scp, None, "not found (an earlier stage makes it)")
        audio_stats[scp] = digest.audio_digest(scp, known)
    file_digests = digest.files_digest(files)
    for conf in configs:
        file_digests[str(conf)] = config_digest(conf) if Path(conf).is_file() else None
    return StageInputs(str(stage), file_digests, audio_stats, dict(options))


def differences(old: Optional[StageInputs], new: StageInputs, limit: int = 4) -> List[str]:
    """Human-readable reasons why ``new`` differs from ``old`` (empty: same inputs)."""
    if old is None:
        return [NO_RECORD]
    reasons: List[str] = []
    for key in sorted(set(old.options) | set(new.options)):
        a, b = old.options.get(key), new.options.get(key)
        if a != b:
            reasons.append(f"{key} {_short(a)} -> {_short(b)}")
    for path in sorted(set(old.files) | set(new.files)):
        a, b = old.files.get(path, "absent"), new.files.get(path, "absent")
        if a != b:
            what = ("is new" if a in (None, "absent") else "is gone" if b in (None, "absent") else "changed")
            reasons.append(f"{path} {what}")
    for scp in sorted(set(old.audio) | set(new.audio)):
        a, b = old.audio.get(scp, {}), new.audio.get(scp, {})
        changed = sorted(p for p in set(a) | set(b) if (a.get(p) or [None] * 3)[2] != (b.get(p) or [None] * 3)[2])
        if changed:
            reasons.append(f"audio of {scp}: {len(changed)} file(s) changed, added or removed (e.g. {changed[0]})")
    if len(reasons) > limit:
        reasons = reasons[:limit] + [f"and {len(reasons) - limit} more"]
    return reasons


def _short(value: Optional[str]) -> str:
    if value is None:
        return "(unset)"
    value = value if value else "''"
    return value if len(value) <= 60 else value[:57] + "..."


def check(out_dir: PathLike, new: StageInputs, peek: bool = False) -> Tuple[str, List[str]]:
    """(CURRENT | RESUME | RUN, reasons). RUN/RESUME leave a pending record and remove the done one
    (``peek``: only say which, write nothing)."""
    done_path, pending_path = record_path(out_dir, new.stage), record_path(out_dir, new.stage, True)
    done = load(done_path)
    if done is not None and not differences(done, new):
        return CURRENT, []
    reasons = differences(done, new)
    pending = load(pending_path)
    state = RESUME if pending is not None and not differences(pending, new) else RUN
    if peek:
        return state, reasons
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    with atomic_write(pending_path) as f:
        json.dump(new.to_json(), f, indent=1, sort_keys=True)
    if done_path.exists():
        os.unlink(done_path)  # the output is about to change: it no longer matches that record
    return state, reasons


def commit(out_dir: PathLike, stage: str) -> Path:
    """The stage finished: its pending record becomes the record."""
    pending, done = record_path(out_dir, stage, True), record_path(out_dir, stage)
    if not pending.is_file():
        raise FileNotFoundError(f"{pending}: no pending record (call 'check' before the work)")
    os.replace(pending, done)
    return done


def unfinished(out_dir: PathLike, stage: str, strict: bool = False) -> Optional[str]:
    """Why a later stage must not read ``out_dir`` (None: stage ``stage`` finished it).

    A pending record without a done one means the stage started there and failed or was
    killed: whatever files it left are not its output. ``strict``: no record at all is
    refused too (for outputs only that stage makes; a model put in place by hand has none).
    """
    if record_path(out_dir, stage).is_file():
        return None
    if record_path(out_dir, stage, True).is_file():
        return f"stage {stage} started it and did not finish (it failed or was interrupted)"
    if strict:
        return f"stage {stage} has not made it"
    return None


def previous_record(out_dir: PathLike, stage: str) -> Optional[StageInputs]:
    """The done record, else the pending one (its audio hashes are reused)."""
    return load(record_path(out_dir, stage)) or load(record_path(out_dir, stage, True))


def retire(out_dir: PathLike, to: PathLike) -> Path:
    """Move an output made from other inputs aside; its ``config.yaml`` paths follow it.

    A trained model's config names its own token lists and stats (``exp/<tag>/...``); after
    the move they must point into the new place, not at the retrained model's files.
    """
    src, dst = Path(out_dir), Path(to)
    dst.parent.mkdir(parents=True, exist_ok=True)
    os.replace(src, dst)
    config = dst / "config.yaml"
    if config.is_file():
        text = config.read_text(encoding="utf-8")
        with atomic_write(config) as f:
            f.write(text.replace(f"{src.as_posix().rstrip('/')}/", f"{dst.as_posix()}/"))
    for rec in dst.glob(".stage*.json"):
        rec.unlink()  # records describe the output at its old place
    return dst


def require(stage: str, outs: List[str], for_stage: str, strict: bool) -> int:
    """0 when stage ``stage`` finished every one of ``outs``; else one line each and 1."""
    bad = 0
    for out in outs:
        why = unfinished(out, stage, strict)
        if why is not None:
            bad += 1
            print(f"Stage {for_stage or '?'}: error: {out} is not usable: {why}; "
                  f"run stage {stage} first (--stage {stage})", file=sys.stderr)
    return 1 if bad else 0


def check_stage(out: str, stage: str, files: Sequence[str], audio: Sequence[str], opts: Sequence[str],
                config_keys: Sequence[str], configs: Sequence[str], peek: bool) -> Tuple[str, List[str]]:
    """:func:`check` of ``out`` against the stage's inputs given as stage_guard's options (``opts``:
    ``KEY=VALUE``; ``config_keys``: ``FILE:k1,k2``); a ValueError on a malformed option."""
    options = {}
    for item in opts:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--opt wants KEY=VALUE, got '{item}'")
        options[key] = value
    for spec in config_keys:
        key, value = config_options(spec)
        options[key] = value
    previous = previous_record(out, stage)
    new = current_inputs(stage, files, audio, options, previous, configs=configs)
    return check(out, new, peek=peek)


def state_line(stage: str, label: str, state: str, reasons: Sequence[str]) -> str:
    """What the stage is about to do with ``label`` and why, as the recipe log shows it."""
    if state == CURRENT:
        return f"Stage {stage}: {label} is up to date (inputs unchanged), skipping"
    if state == RESUME:
        return f"Stage {stage}: finishing the interrupted run for {label} (same inputs)"
    if list(reasons) == [NO_RECORD]:
        return f"Stage {stage}: computing {label} ({NO_RECORD})"
    return f"Stage {stage}: inputs changed: {'; '.join(reasons)}; recomputing {label}"
