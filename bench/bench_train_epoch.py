#!/usr/bin/env python3
"""Benchmark: training throughput of a recipe config, variants timed interleaved in one run.

Each variant is a real ``espnet_l2dual.bin.l2dual_train`` run (a fresh process, one thread,
``--max_epoch``/``--num_iters_per_epoch`` steps plus the full validation and the epoch-end work),
and the variants take turns (A, B, A, B, ...) so load from other jobs hits them alike. A
variant is ``name=extra training options`` (or a built-in name, see ``--list``).

    cd egs2/l2en/asr1    # a recipe with dump/raw/{train,dev} and stage-6/7 outputs
    python ../../../bench/bench_train_epoch.py --config conf/tuning/train_mtl_tiny.yaml \\
        --stats_dir exp/stats_raw_char_char --token_list_dir exp/asr_mtl_tiny/token_list \\
        --feats_stats exp/asr_mtl_tiny/feats_stats.npz --steps 100 --repeats 3 --variants before after

Prints CPU and wall seconds per run (median over repeats), the ratios to the first variant
and, for whole epochs (``--steps 0``), models per hour on 2 cores (2 jobs x 1 thread) projected
from CPU time: ``2 * 3600 / (CPU per run * max_epoch / epochs)``.

``--profile`` instead runs the first variant once in this process (``--num_workers 0``) and prints
where the CPU time went (front end, encoder, decoders, CTC, backward, optimizer, data, trainer).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[1]

# Variants that keep the trained model bit-identical unless marked otherwise.
BUILTIN: Dict[str, List[str]] = {
    # ESPnet's trainer as it was: loss plots every epoch, one data-loader worker
    "before": ["--loss_plot_interval", "1", "--num_workers", "1"],
    "after": [],  # the current defaults
    "workers0": ["--num_workers", "0"],
    "noplots": ["--use_matplotlib", "false"],
    "fused_adam": ["--optim_conf", "fused=true"],  # NOT bit-identical (opt-in)
}

EPOCH_LINE = re.compile(r"(\d+)epoch results: \[train\] .*?train_time=([0-9.]+), time=([^,]+), total_count=(\d+)")


def parse_variant(text: str) -> Tuple[str, List[str]]:
    """``name`` (built in) or ``name=--opt value ...``."""
    if "=" in text:
        name, opts = text.split("=", 1)
        return name, opts.split()
    if text not in BUILTIN:
        raise SystemExit(f"bench_train_epoch: unknown variant '{text}' (built in: {', '.join(BUILTIN)})")
    return text, BUILTIN[text]


def train_argv(args: argparse.Namespace, out_dir: Path) -> List[str]:
    """The stage-7 training command of the config (MTL or STL) on the recipe's data."""
    s, t = args.stats_dir, args.token_list_dir
    argv = ["--config", str(args.config), "--use_preprocessor", "true", "--resume", "false",
            "--normalize_conf", f"stats_file={args.feats_stats}", "--output_dir", str(out_dir),
            "--seed", str(args.seed), "--ngpu", "0", "--max_epoch", str(args.epochs),
            "--train_data_path_and_name_and_type", f"{args.train_dir}/wav.scp,speech,sound",
            "--valid_data_path_and_name_and_type", f"{args.valid_dir}/wav.scp,speech,sound",
            "--train_shape_file", f"{s}/train/speech_shape", "--valid_shape_file", f"{s}/valid/speech_shape"]
    if args.steps:
        argv += ["--num_iters_per_epoch", str(args.steps)]
    for o in args.outputs:
        argv += ["--train_data_path_and_name_and_type", f"{args.train_dir}/text_{o},text_{o},text",
                 "--valid_data_path_and_name_and_type", f"{args.valid_dir}/text_{o},text_{o},text",
                 "--train_shape_file", f"{s}/train/text_{o}_shape.tok",
                 "--valid_shape_file", f"{s}/valid/text_{o}_shape.tok",
                 f"--{o}_token_type", args.token_type, f"--{o}_token_list", f"{t}/{o}/tokens.txt"]
    return argv


def run_once(args: argparse.Namespace, extra: List[str], out_dir: Path) -> Dict[str, float]:
    """One training process; its CPU (user+sys, children included) and wall seconds, and its log."""
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads),
               PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    cmd = [sys.executable, "-m", "espnet_l2dual.bin.l2dual_train", *train_argv(args, out_dir), *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:])
        raise SystemExit(f"bench_train_epoch: training failed ({' '.join(extra) or 'no extra options'})")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    epochs = EPOCH_LINE.findall(proc.stdout)
    train_wall = sum(_seconds(t) for _, _, t, _ in epochs)
    return {"cpu": cpu, "wall": wall, "train_wall": train_wall}


def _seconds(text: str) -> float:
    """ESPnet's humanfriendly duration ('1 minute and 31.44 seconds') in seconds."""
    total = 0.0
    for value, unit in re.findall(r"([0-9.]+) (hour|minute|second)", text):
        total += float(value) * {"hour": 3600, "minute": 60, "second": 1}[unit]
    return total


def state_digest(out_dir: Path) -> str:
    """A digest of the last epoch's saved weights (bit-identity between variants)."""
    import hashlib

    import torch

    snaps = sorted(out_dir.glob("*epoch.pth"), key=lambda p: int(p.name.split("epoch")[0]))
    state = torch.load(snaps[-1], map_location="cpu")
    h = hashlib.sha256()
    for k in sorted(state):
        h.update(k.encode())
        h.update(state[k].contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", type=Path, required=True, help="training config (base: chains resolved)")
    p.add_argument("--train_dir", default="dump/raw/train")
    p.add_argument("--valid_dir", default="dump/raw/dev")
    p.add_argument("--stats_dir", required=True, help="stage 6's exp/stats_raw_<types> (shape files)")
    p.add_argument("--token_list_dir", required=True, help="directory with <output>/tokens.txt")
    p.add_argument("--feats_stats", required=True, help="feats_stats.npz for global_mvn")
    p.add_argument("--outputs", nargs="+", default=["surface", "meaning"], help="the config's tasks")
    p.add_argument("--token_type", default="char")
    p.add_argument("--steps", type=int, default=100, help="updates per run (0: the whole epoch)")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--max_epoch", type=int, default=16, help="epochs of a full training (projection)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--variants", nargs="+", default=["before", "after"],
                   help="built-in names or name='--opt value ...'; the first is the reference")
    p.add_argument("--check_identical", action="store_true",
                   help="also compare the variants' saved weights (the same seed must give the same model)")
    p.add_argument("--work_dir", type=Path, default=None, help="where runs write (a temporary dir if unset)")
    p.add_argument("--profile", action="store_true", help="profile the first variant in this process")
    p.add_argument("--list", action="store_true", help="print the built-in variants and exit")
    return p


def profile(args: argparse.Namespace, extra: List[str], work: Path) -> int:
    """Run one training in this process under ``train_profile`` and print the CPU breakdown."""
    import torch

    sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]
    from train_profile import Timers, profiled
    from espnet_l2dual.bin.l2dual_train import main as train_main

    torch.set_num_threads(args.threads)
    timers = Timers()
    t0 = time.process_time()
    with profiled(timers):
        train_main(train_argv(args, work / "profile") + extra + ["--num_workers", "0"])
    total = time.process_time() - t0
    steps = timers.calls.get("optimizer step", 0) or 1
    print(f"# CPU seconds, {steps} updates, {args.threads} thread(s); whole process {total:.1f} s "
          f"(startup = imports, model and iterator building, before the first epoch)")
    print(f"{'part':<36} {'seconds':>8} {'ms/update':>10} {'share of train epoch':>21}")
    train_total = timers.seconds.get("train epoch (total)", 0.0)
    inside = [k for k in timers.seconds if not k.startswith(("valid: ", "epoch end", "train epoch", "forward (total)"))]
    for key in sorted(timers.seconds, key=lambda k: -timers.seconds[k]):
        sec = timers.seconds[key]
        share = f"{100 * sec / train_total:.1f}%" if key in inside or key == "forward (total)" else ""
        print(f"{key:<36} {sec:>8.2f} {1000 * sec / steps:>10.1f} {share:>21}")
    fwd = timers.seconds.get("forward (total)", 0.0)
    parts = ("data: read + preprocess", "data: collate", "backward", "grad clip", "optimizer step", "tensorboard")
    rest = train_total - fwd - sum(timers.seconds.get(k, 0.0) for k in parts)
    print(f"{'trainer/reporter (train epoch rest)':<36} {rest:>8.2f} {1000 * rest / steps:>10.1f} "
          f"{100 * rest / max(train_total, 1e-9):>20.1f}%")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    if args.list:
        for k, v in BUILTIN.items():
            print(f"{k:<10} {' '.join(v) or '(the config as is)'}")
        return 0
    variants = [parse_variant(v) for v in args.variants]
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="bench_train_epoch."))
    work.mkdir(parents=True, exist_ok=True)
    if args.profile:
        return profile(args, variants[0][1], work)
    results: Dict[str, List[Dict[str, float]]] = {name: [] for name, _ in variants}
    digests: Dict[str, str] = {}
    load = os.getloadavg()[0]
    for r in range(args.repeats):
        for name, extra in variants:
            out = work / f"{name}.{r}"
            shutil.rmtree(out, ignore_errors=True)
            res = run_once(args, extra, out)
            results[name].append(res)
            if args.check_identical and r == 0:
                digests[name] = state_digest(out)
            print(f"# round {r + 1} {name}: cpu {res['cpu']:.1f} s, wall {res['wall']:.1f} s", flush=True)
            shutil.rmtree(out, ignore_errors=True)
    load = (load + os.getloadavg()[0]) / 2
    steps = args.steps or "all"
    print(f"# {args.config}, {steps} updates x {args.epochs} epoch(s) per run, {args.threads} thread(s), "
          f"{args.repeats} rounds interleaved, load average ~{load:.1f} on {os.cpu_count()} cores")
    print(f"{'variant':<10} {'cpu s/run':>9} {'wall s/run':>10} {'ratio(cpu)':>10} {'ratio(wall)':>11} "
          f"{'models/h (2x1)':>14}" + (f" {'weights':>16}" if digests else ""))
    ref_cpu = ref_wall = None
    for name, _ in variants:
        cpu = statistics.median(x["cpu"] for x in results[name])
        wall = statistics.median(x["wall"] for x in results[name])
        ref_cpu, ref_wall = ref_cpu or cpu, ref_wall or wall
        # whole epochs only: a model = max_epoch / epochs runs (startup counted once per run, so
        # the projection errs low by ~startup / run); shortened epochs would scale their
        # validation and epoch-end work with them, so they get no projection
        per_hour = f"{2 * 3600 / (cpu * args.max_epoch / args.epochs):.2f}" if not args.steps else "-"
        print(f"{name:<10} {cpu:>9.1f} {wall:>10.1f} {cpu / ref_cpu:>10.3f} {wall / ref_wall:>11.3f} "
              f"{per_hour:>14}" + (f" {digests[name]:>16}" if digests else ""))
    if digests:
        same = len(set(digests.values())) == 1
        print(f"# saved weights {'identical' if same else 'DIFFER'} across variants")
    return 0


if __name__ == "__main__":
    sys.exit(main())
