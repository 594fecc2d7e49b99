#!/usr/bin/env python3
"""Benchmark: training-step time of each disentangling method relative to plain MTL.

Every method is built from its recipe config (``train_<method>[_tiny].yaml``,
same seed) and trains on the same fixed random batches in one process; the
methods take turns round by round so that machine drift hits them alike.  A
step is forward + backward + grad clipping + Adam step (PCGrad/CAGrad through
the same ``GradSurgeryStep`` the trainer uses).

    tools/venv/bin/python bench/bench_methods.py                      # tiny dims, CPU
    tools/venv/bin/python bench/bench_methods.py --size full --device cuda

Prints seconds per step (best and median round) and the ratio to ``mtl`` of the best
rounds (the best round is the least disturbed by other load on a shared machine).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

from espnet_l2dual.utils import offline

offline.guard()

from espnet_l2dual.outputs import PAIR, data_key, lengths_key  # noqa: E402
from espnet_l2dual.tasks.l2dual import L2DualTask  # noqa: E402
from espnet_l2dual.train.grad_surgery import GradSurgeryStep  # noqa: E402
from espnet_l2dual.tasks.l2dual import build_surgery  # noqa: E402
from espnet_l2dual.utils.config_file import write_resolved  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
METHODS = ("mtl", "partial", "moe", "pcgrad", "cagrad", "ortho", "dual_attention")


def write_inputs(tmp: Path, n_mels: int, vocab: int) -> Dict[str, str]:
    """Token lists (``vocab`` symbols per output) and neutral global-MVN stats."""
    paths = {}
    for o in PAIR:
        tokens = ["<blank>", "<unk>"] + [f"{o[0]}{i}" for i in range(vocab - 3)] + ["<sos/eos>"]
        path = tmp / f"tokens_{o}.txt"
        path.write_text("\n".join(tokens) + "\n", encoding="utf-8")
        paths[o] = str(path)
    stats = tmp / "feats_stats.npz"
    np.savez(stats, count=np.array(1000), sum=np.zeros(n_mels), sum_square=np.full(n_mels, 1000.0))
    paths["stats"] = str(stats)
    return paths


def random_batches(n: int, batch_size: int, seconds: float, vocab: int, fs: int = 16000,
                   chars_per_second: float = 12.0, seed: int = 0) -> List[Dict[str, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    batches = []
    for _ in range(n):
        lens = (seconds * fs * (0.7 + 0.3 * torch.rand(batch_size, generator=g))).long()
        batch = {"speech": 0.1 * torch.randn(batch_size, int(lens.max()), generator=g), "speech_lengths": lens}
        for o in PAIR:
            ylens = (lens.float() / fs * chars_per_second).long().clamp(min=1)
            ys = torch.randint(2, vocab - 1, (batch_size, int(ylens.max())), generator=g)
            for i, k in enumerate(ylens):
                ys[i, k:] = -1
            batch[data_key(o)], batch[lengths_key(o)] = ys, ylens
        batches.append(batch)
    return batches


class MethodRun:
    """One method's model, optimizer and step function."""

    def __init__(self, method: str, conf_dir: Path, suffix: str, inputs: Dict[str, str], device: str):
        # the recipe config resolved (its base: merged): ESPnet's parser reads plain YAML
        config = write_resolved(conf_dir / f"train_{method}{suffix}.yaml",
                                Path(inputs["stats"]).parent / f"train_{method}{suffix}.resolved.yaml")
        args = L2DualTask.get_parser().parse_args([
            "--config", str(config),
            "--surface_token_list", inputs["surface"], "--meaning_token_list", inputs["meaning"],
            "--normalize_conf", json.dumps({"stats_file": inputs["stats"]}),
        ])
        torch.manual_seed(args.seed)
        self.model = L2DualTask.build_model(args).to(device).train()
        self.params = sum(p.numel() for p in self.model.parameters())
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-4)
        self.grad_clip = float(args.grad_clip)
        self.step_fn = self.model
        if args.grad_surgery is not None:
            self.step_fn = GradSurgeryStep(self.model, build_surgery(args.grad_surgery, args.grad_surgery_conf)).train()
        self.device = device

    def step(self, batch: Dict[str, torch.Tensor]) -> None:
        loss, _, _ = self.step_fn(**batch)
        loss.sum().backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)

    def timed_pass(self, batches: Sequence[Dict[str, torch.Tensor]]) -> float:
        """Seconds per step over one pass of ``batches``."""
        if self.device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        for batch in batches:
            self.step(batch)
        if self.device.startswith("cuda"):
            torch.cuda.synchronize()
        return (time.perf_counter() - start) / len(batches)


def timed_rounds(runs: Dict[str, "MethodRun"], batches: Sequence[Dict[str, torch.Tensor]], rounds: int,
                 warmup: int) -> Dict[str, List[float]]:
    """Seconds per step of each run, ``rounds`` passes each, the runs taking turns round by round
    (machine drift hits them alike), after ``warmup`` untimed passes each; progress on stderr."""
    for m, run in runs.items():
        for _ in range(warmup):
            print(f"warm-up {m}: {run.timed_pass(batches):.3f} s/step", file=sys.stderr, flush=True)
    times: Dict[str, List[float]] = {m: [] for m in runs}
    for r in range(rounds):
        for m, run in runs.items():
            times[m].append(run.timed_pass(batches))
        print(f"round {r + 1}/{rounds}: " + " ".join(f"{m} {t[-1]:.3f}s" for m, t in times.items()),
              file=sys.stderr, flush=True)
    return times


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--conf_dir", type=Path, default=ROOT / "egs2/l2en/asr1/conf/tuning",
                   help="recipe tuning dir holding train_<method>[_tiny].yaml")
    p.add_argument("--size", choices=("tiny", "full"), default="tiny")
    p.add_argument("--methods", nargs="+", default=list(METHODS), help="mtl first: it is the reference")
    p.add_argument("--batches", type=int, default=2, help="distinct random batches per pass")
    p.add_argument("--batch_size", type=int, default=4)
    p.add_argument("--seconds", type=float, default=3.0, help="longest utterance in a batch")
    p.add_argument("--vocab", type=int, default=60, help="tokens per output")
    p.add_argument("--rounds", type=int, default=3, help="timed passes per method (median)")
    p.add_argument("--warmup", type=int, default=1, help="untimed passes per method")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    if args.methods[0] != "mtl":
        args.methods = ["mtl"] + [m for m in args.methods if m != "mtl"]
    if args.threads:
        torch.set_num_threads(args.threads)
    suffix = "_tiny" if args.size == "tiny" else ""
    with tempfile.TemporaryDirectory() as tmp:
        inputs = write_inputs(Path(tmp), n_mels=80, vocab=args.vocab)
        runs = {m: MethodRun(m, args.conf_dir, suffix, inputs, args.device) for m in args.methods}
    batches = [{k: v.to(args.device) for k, v in b.items()}
               for b in random_batches(args.batches, args.batch_size, args.seconds, args.vocab)]
    times = timed_rounds(runs, batches, args.rounds, args.warmup)
    ref = min(times["mtl"])
    rows = []
    print(f"# {args.size} configs from {args.conf_dir}, device {args.device}, threads {torch.get_num_threads()}, "
          f"{args.batches} batches x {args.batch_size} utts (<= {args.seconds}s), {args.rounds} rounds")
    print(f"{'method':<14} {'params(M)':>9} {'best s/step':>11} {'median':>8} {'ratio':>6}")
    for m, run in runs.items():
        best, med = min(times[m]), statistics.median(times[m])
        rows.append({"method": m, "params": run.params, "best_s_per_step": best, "median_s_per_step": med,
                     "ratio_to_mtl": best / ref})
        print(f"{m:<14} {run.params / 1e6:>9.2f} {best:>11.3f} {med:>8.3f} {best / ref:>6.2f}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
