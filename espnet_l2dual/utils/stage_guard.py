"""The guard of every stage of l2dual.sh: skip work whose inputs are unchanged, else say why.

    stage_guard check  --stage 3 --out dump/raw/org/train --files data/train \\
                       --audio data/train/wav.scp --opt fs=16000 --opt audio_format=wav
    stage_guard commit --stage 3 --out dump/raw/org/train

``check`` exits 0 when OUT already holds the stage's output for exactly these inputs
(prints "up to date"), 10 when the work must be done (prints what changed) and 11 when
an interrupted run of the same work can be finished (resume). Any other exit is an
error. ``check --peek`` exits the same way but writes no record and prints only the
"up to date" line (stage 7 asks it before its pre-flight check, so nothing changes on disk
when the config is broken). ``commit`` marks the work done; run it only after the stage
succeeded.
``require --stage 8 --out DIR [--out DIR2] --for_stage 9 [--strict]`` refuses (exit 1, one line
per directory) when stage 8 started in DIR and did not finish (a pending record, no done
record; ``--strict``: also when it never ran there): a later stage never reads a half-made
output.
``retire --out exp/x --to exp/stale/x.<time>`` moves an output made from other inputs
aside (a trained model: its config.yaml paths follow it).
``--files`` takes files or directories (a directory stands for its visible top-level
files), ``--audio`` a wav.scp whose audio files are digested too, ``--opt KEY=VALUE``
an option, ``--config FILE`` a training config (its resolved content: a changed ``base:``
counts), ``--config_keys FILE:k1,k2`` the values of some keys of a (resolved) YAML config.
"""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

from espnet_l2dual.utils import stage_record

EXIT_CODES = {stage_record.CURRENT: 0, stage_record.RUN: 10, stage_record.RESUME: 11}


def guard(action: str, outs: Sequence[str], stage: str, label: Optional[str], to: Optional[str],
          files: List[str], audio: List[str], opts: List[str], config_keys: List[str], configs: List[str],
          peek: bool) -> Tuple[int, Optional[str]]:
    """check, commit or retire one output: (exit status, the line for stderr or None). Bad options
    are a ValueError; unreadable inputs a DataError or OSError."""
    if len(outs) > 1:
        raise ValueError(f"{action} takes one --out")
    out = outs[0]
    if action == "commit":
        stage_record.commit(out, stage)
        return 0, None
    if action == "retire":
        if not to:
            raise ValueError("retire needs --to")
        stage_record.retire(out, to)
        return 0, None
    if not stage:
        raise ValueError("check needs --stage")
    state, reasons = stage_record.check_stage(out, stage, files, audio, opts, config_keys, configs, peek)
    if peek and state != stage_record.CURRENT:
        return EXIT_CODES[state], None
    return EXIT_CODES[state], stage_record.state_line(stage, label or out, state, reasons)
