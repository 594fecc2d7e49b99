#!/usr/bin/env python3
"""Benchmark: a training step of our models against stock ESPnet's ``ESPnetASRModel``.

Stock is ``espnet2.tasks.asr.ASRTask``'s model with the recipe config's front end, encoder,
surface decoder and CTC/attention weights (one output, as stock ESPnet trains it). Ours are
the same config as STL-surface (the plumbing's overhead: the same network) and as MTL (a second
decoder and CTC on the shared encoder). Same random batches, same Adam step and clipping, the
models taking turns round by round (``bench_methods.py``'s batches and step).

    OMP_NUM_THREADS=1 tools/venv/bin/python bench/bench_train_step.py --threads 1 --rounds 10

Prints seconds per step (best round) and the ratios to stock.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Dict, Optional, Sequence

import torch

from bench_methods import ROOT, MethodRun, random_batches, timed_rounds, write_inputs
from espnet_l2dual.utils import offline

offline.guard()

from espnet_l2dual.utils.config_file import load_config  # noqa: E402


class StockRun:
    """Stock ESPnet ASR model of the config's surface branch, trained like ``MethodRun``."""

    def __init__(self, config: Path, inputs: Dict[str, str], device: str) -> None:
        from espnet2.tasks.asr import ASRTask

        conf = load_config(config)
        model_conf = {k: v for k, v in (conf.get("model_conf") or {}).items() if k != "tasks"}
        argv = ["--token_list", inputs["surface"], "--normalize", str(conf["normalize"]),
                "--normalize_conf", json.dumps({"stats_file": inputs["stats"]}),
                "--frontend", str(conf["frontend"]), "--frontend_conf", json.dumps(conf.get("frontend_conf") or {}),
                "--encoder", str(conf["encoder"]), "--encoder_conf", json.dumps(conf["encoder_conf"]),
                "--decoder", str(conf["surface_decoder"]),
                "--decoder_conf", json.dumps(conf["surface_decoder_conf"]),
                "--model_conf", json.dumps(model_conf), "--token_type", "char"]
        if conf.get("specaug"):
            argv += ["--specaug", str(conf["specaug"]), "--specaug_conf", json.dumps(conf.get("specaug_conf") or {})]
        args = ASRTask.get_parser().parse_args(argv)
        torch.manual_seed(int(conf.get("seed", 0)))
        self.model = ASRTask.build_model(args).to(device).train()
        self.params = sum(p.numel() for p in self.model.parameters())
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-4)
        self.grad_clip = float(conf.get("grad_clip", 5.0))
        self.device = device

    def step(self, batch: Dict[str, torch.Tensor]) -> None:
        loss, _, _ = self.model(speech=batch["speech"], speech_lengths=batch["speech_lengths"],
                                text=batch["text_surface"], text_lengths=batch["text_surface_lengths"])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)

    timed_pass = MethodRun.timed_pass


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--conf_dir", type=Path, default=ROOT / "egs2/l2en/asr1/conf/tuning")
    p.add_argument("--size", choices=("tiny", "full"), default="tiny")
    p.add_argument("--batches", type=int, default=4)
    p.add_argument("--batch_size", type=int, default=4)
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--vocab", type=int, default=60)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=None)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    suffix = "_tiny" if args.size == "tiny" else ""
    with tempfile.TemporaryDirectory() as tmp:
        inputs = write_inputs(Path(tmp), n_mels=80, vocab=args.vocab)
        runs = {"stock": StockRun(args.conf_dir / f"train_stl_surface{suffix}.yaml", inputs, args.device),
                "stl_surface": MethodRun("stl_surface", args.conf_dir, suffix, inputs, args.device),
                "mtl": MethodRun("mtl", args.conf_dir, suffix, inputs, args.device)}
    batches = [{k: v.to(args.device) for k, v in b.items()}
               for b in random_batches(args.batches, args.batch_size, args.seconds, args.vocab)]
    times = timed_rounds(runs, batches, args.rounds, warmup=1)
    ref = min(times["stock"])
    print(f"# {args.size} configs from {args.conf_dir}, device {args.device}, threads {torch.get_num_threads()}, "
          f"{args.batches} batches x {args.batch_size} utts (<= {args.seconds}s), {args.rounds} rounds")
    print(f"{'model':<12} {'params(M)':>9} {'best s/step':>11} {'median':>8} {'ratio':>6}")
    for m, run in runs.items():
        best = min(times[m])
        print(f"{m:<12} {run.params / 1e6:>9.2f} {best:>11.3f} {statistics.median(times[m]):>8.3f} {best / ref:>6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
