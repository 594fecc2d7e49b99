"""Stage 7's bookkeeping around the training call, in one process before and one after it.

Before (:func:`prepare`): is the model up to date; pre-flight check of config and files; a model
trained from other inputs moved to ``exp/stale/``; the stage record; the model's own copies of its
stats and token lists (its ``config.yaml`` never points at a file a later stage rewrites); the
replay script ``run.sh``; ``provenance.json``. After (:func:`finish`): the record marks the model
done. l2dual.sh itself only launches the trainer in between (its launcher and ``--cmd`` backend).
"""

from __future__ import annotations

import datetime
import json
import os
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from espnet_l2dual.errors import DataError
from espnet_l2dual.outputs import config_tasks
from espnet_l2dual.tasks.init_model import init_record
from espnet_l2dual.utils import stage_record
from espnet_l2dual.utils.config_file import load_config
from espnet_l2dual.utils.fileio import atomic_write
from espnet_l2dual.utils.provenance import training_provenance

STAGE = "7"
CURRENT, TRAIN = 0, 10  # prepare's exit statuses (as stage_guard check's: 0 up to date, 10 work to do)


def log(message: str) -> None:
    """A recipe log line (l2dual.sh's format: time, where, message)."""
    now = datetime.datetime.now().strftime("%Y-%m-%dT%H:%M:%S")
    print(f"{now} (stage7.py) {message}", file=sys.stderr)


@dataclass(frozen=True)
class Stage7:
    """What stage 7 trains, from where (l2dual.sh's settings)."""

    exp_dir: str
    config: str
    stats_dir: str
    data_feats: str
    train_set: str
    valid_set: str
    speech_type: str
    token_dirs: Dict[str, str]   # output -> stage 5's token dir
    token_types: Dict[str, str]  # output -> bpe | char | jamo | word
    train_args: str = ""
    ngpu: str = "0"
    num_nodes: str = "1"
    init_model: str = ""  # a post-training method's start (--init_param): its dir's stats are used

    def feats_stats(self) -> str:
        """The feature statistics the model normalises with: the init model's own, else stage 6's."""
        if self.init_model:
            return f"{Path(self.init_model).parent.as_posix()}/feats_stats.npz"
        return f"{self.stats_dir}/train/feats_stats.npz"

    def tasks(self) -> List[str]:
        return config_tasks(Path(self.config))

    def token_files(self, output: str) -> List[str]:
        d = self.token_dirs[output]
        return [f"{d}/tokens.txt"] + ([f"{d}/bpe.model"] if Path(d, "bpe.model").is_file() else [])

    def guard_inputs(self, tasks: List[str]) -> Tuple[List[str], List[str], List[str]]:
        """(files, audio, options) the model is trained from: a change retrains it."""
        files = [self.feats_stats()] + ([self.init_model] if self.init_model else [])
        audio = [f"{self.data_feats}/{self.train_set}/wav.scp", f"{self.data_feats}/{self.valid_set}/wav.scp"]
        for o in tasks:
            files += self.token_files(o)
            for dset in (self.train_set, self.valid_set):
                files += [f"{self.data_feats}/{dset}/wav.scp", f"{self.data_feats}/{dset}/text_{o}"]
        opts = [f"train_args={self.train_args}", f"ngpu={self.ngpu}", f"num_nodes={self.num_nodes}"]
        return files, audio, opts

    def data_args(self, tasks: List[str], own: bool) -> List[str]:
        """The trainer's data and token options; ``own``: the model's copies of the token lists."""
        feats, tr, va = self.data_feats, self.train_set, self.valid_set
        args = ["--train_data_path_and_name_and_type", f"{feats}/{tr}/wav.scp,speech,{self.speech_type}",
                "--valid_data_path_and_name_and_type", f"{feats}/{va}/wav.scp,speech,{self.speech_type}",
                "--train_shape_file", f"{self.stats_dir}/train/speech_shape",
                "--valid_shape_file", f"{self.stats_dir}/valid/speech_shape"]
        if self.init_model:
            args += ["--init_param", self.init_model]
        for o in tasks:
            d = f"{self.exp_dir}/token_list/{o}" if own else self.token_dirs[o]
            args += ["--train_data_path_and_name_and_type", f"{feats}/{tr}/text_{o},text_{o},text",
                     "--valid_data_path_and_name_and_type", f"{feats}/{va}/text_{o},text_{o},text",
                     "--train_shape_file", f"{self.stats_dir}/train/text_{o}_shape.tok",
                     "--valid_shape_file", f"{self.stats_dir}/valid/text_{o}_shape.tok",
                     f"--{o}_token_type", self.token_types[o], f"--{o}_token_list", f"{d}/tokens.txt"]
            if self.token_types[o] == "bpe":
                args += [f"--{o}_bpemodel", f"{d}/bpe.model"]
        return args

    def preflight_argv(self, tasks: List[str]) -> List[str]:
        """The options check_train_config sees: the training call's, with stage 5's token lists."""
        return ["--config", self.config, "--use_preprocessor", "true",
                "--normalize_conf", f"stats_file={self.feats_stats()}",
                "--output_dir", self.exp_dir, *self.data_args(tasks, own=False), *self.train_args.split()]


def _check(s: Stage7, tasks: List[str], peek: bool) -> str:
    files, audio, opts = s.guard_inputs(tasks)
    try:
        state, reasons = stage_record.check_stage(s.exp_dir, STAGE, files, audio, opts, [], [s.config], peek)
    except (DataError, ValueError, OSError) as e:
        print(f"stage_guard: error: {e}", file=sys.stderr)
        raise SystemExit(f"Stage {STAGE}: cannot check the inputs of {s.exp_dir} (see above)") from None
    if not peek or state == stage_record.CURRENT:
        print(stage_record.state_line(STAGE, s.exp_dir, state, reasons), file=sys.stderr)
    return state


def _preflight(s: Stage7, tasks: List[str]) -> bool:
    """check_train_config's lines (one per problem); True when nothing is wrong."""
    from espnet_l2dual.tasks.preflight import problems, resume_note  # imports ESPnet: only when training

    argv = s.preflight_argv(tasks)
    found = problems(argv)
    for line in found:
        print(f"check_train_config: error: {line}", file=sys.stderr)
    note = None if found else resume_note(argv)
    if note:
        print(f"check_train_config: note: {note}", file=sys.stderr)
    return not found


def _retire_if_other_inputs(exp: Path) -> None:
    """A model trained from other inputs goes to exp/stale/<tag>.<time> (never overwritten in place)."""
    if not (any(exp.glob("*.pth")) or (exp / "config.yaml").exists()):
        return
    stale = f"exp/stale/{exp.name}.{datetime.datetime.now().strftime('%Y%m%dT%H%M%S')}"
    stage_record.retire(exp, stale)
    log(f"Stage 7: the model in {exp.as_posix()} was trained from other inputs: moved it to {stale}")


def _own_copies(s: Stage7, tasks: List[str]) -> None:
    exp = Path(s.exp_dir)
    shutil.copy(s.feats_stats(), exp / "feats_stats.npz")
    for o in tasks:
        (exp / "token_list" / o).mkdir(parents=True, exist_ok=True)
        for f in s.token_files(o):
            shutil.copy(f, exp / "token_list" / o)


def write_replay(exp_dir: str, command: str) -> None:
    """``exp/<tag>/run.sh``: replays the command that trained the model (extra options appended)."""
    path = Path(exp_dir) / "run.sh"
    with atomic_write(path) as f:
        f.write("#!/usr/bin/env bash\n# Written by l2dual.sh at stage 7: replays the command that trained "
                f'this model.\ncd {shlex.quote(os.getcwd())} && {command}"$@"; exit $?\n')
    path.chmod(0o755)


def seed_option(value: str) -> Optional[int]:
    """The recipe's ``--seed`` as given (empty: the config's own seed trains)."""
    if value and not value.isdigit():
        raise ValueError(f"--seed {value!r} is not a non-negative integer")
    return int(value) if value else None


def missing_twin_map(config: str) -> None:
    """SystemExit naming the stage-1 command when the config's ``twin_map`` is not there."""
    twin_map = load_config(config).get("twin_map")
    if twin_map and not Path(twin_map).is_file():
        raise SystemExit(f"Stage {STAGE}: error: {config}: twin_map {twin_map} not found; make the train twins "
                         "(./run.sh --stage 1 --stop_stage 1 --local_data_opts \"--train_twins true\") and run "
                         "from stage 3 with --train_set train_twins")


def prepare(s: Stage7, token_setup: str, command: str, seed: Optional[int] = None) -> Tuple[int, List[str]]:
    """(CURRENT, []) when the model is up to date; else (TRAIN, the trainer's data options) with
    everything beside the model in place, its provenance recording its group (config, size, seed).
    SystemExit with a message when it cannot train."""
    missing_twin_map(s.config)
    why = stage_record.unfinished(s.stats_dir, "6")  # never trained from half-made stats
    if why is not None:
        raise SystemExit(f"Stage {STAGE}: error: {s.stats_dir} is not usable: {why}; run stage 6 first (--stage 6)")
    tasks = s.tasks()
    state = _check(s, tasks, peek=True)  # writes nothing: a broken config changes nothing on disk
    if state == stage_record.CURRENT:
        return CURRENT, []
    if not _preflight(s, tasks):
        raise SystemExit(1)
    if state == stage_record.RUN:
        _retire_if_other_inputs(Path(s.exp_dir))
    _check(s, tasks, peek=False)  # says what changed; writes the pending record
    log(f"Stage 7: train {s.config} (tasks: {' '.join(tasks)}) -> {s.exp_dir}")
    (Path(s.exp_dir) / "logs").mkdir(parents=True, exist_ok=True)
    _own_copies(s, tasks)
    write_replay(s.exp_dir, command)
    prov = training_provenance(s.config, stage_record.record_path(s.exp_dir, STAGE, pending=True),
                               token_setup, command, seed)
    if s.init_model:
        prov["init_model"] = init_record(s.init_model)
    with atomic_write(Path(s.exp_dir) / "provenance.json") as f:
        json.dump(prov, f, ensure_ascii=False, indent=2)
        f.write("\n")
    # ESPnet's launcher keeps the earlier logs: train.log -> train.1.log -> train.2.log ...
    log_file = Path(s.exp_dir) / "logs" / "train.log"
    if log_file.is_file() and log_file.stat().st_size > 0:
        log(f"Stage 7: the log of the earlier run goes to {s.exp_dir}/logs/train.1.log (older ones: train.<n>.log)")
    return TRAIN, s.data_args(tasks, own=True)


def finish(exp_dir: str) -> None:
    """The training call succeeded: the record marks the model done."""
    stage_record.commit(exp_dir, STAGE)
    log(f"Stage 7: done; log {exp_dir}/logs/train.log, plots {exp_dir}/images/, replay {exp_dir}/run.sh")
