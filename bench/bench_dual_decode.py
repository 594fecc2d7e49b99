#!/usr/bin/env python3
"""Benchmark: decoding both outputs with Speech2DualText vs two stock ESPnet decoders.

Stock ESPnet needs one ASR model per output, so the fair baseline is two runs of
``espnet2.bin.asr_inference.Speech2Text`` on two STL ASR models of the same size,
with the same beam and CTC weight.  Our one MTL model shares one encoder pass, and
decodes ``--batch_size`` utterances per beam search (utterances x beam); the
per-utterance search of the same model is timed too, and the batched n-best is
compared with it (texts that differ are counted).  ``--dual_config``/``--dual_model``
may also name the two STL models (one per output) that the stock decoders were
exported from: then ours and stock decode the same weights and their 1-best texts are
compared too.  Where the installed ESPnet has a batched ``Speech2Text.batch_decode``
(202609 and newer), it is timed with the same batch sizes and compared as well.

    tools/venv/bin/python bench/bench_dual_decode.py --data_dir dump/raw/test --n 50 \\
        --dual_config exp/mtl/config.yaml --dual_model exp/mtl/valid.acc.ave.pth \\
        --stock_surface_config exp/stock_surface/config.yaml --stock_surface_model ... \\
        --stock_meaning_config exp/stock_meaning/config.yaml --stock_meaning_model ...

Prints the time of each side and the ratio ours / stock (below 1 means faster).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import unicodedata
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np
import torch

from espnet_l2dual.utils import offline

offline.guard()

from espnet_l2dual.audio.read import read_audio, to_mono  # noqa: E402
from espnet_l2dual.inference.speech2dualtext import Speech2DualText  # noqa: E402
from espnet_l2dual.compat.stack import stack_versions  # noqa: E402
from espnet_l2dual.outputs import PAIR  # noqa: E402
from espnet_l2dual.utils.fileio import read_table  # noqa: E402


def load_utterances(data_dir: Path, n: int) -> Tuple[List[np.ndarray], float]:
    """The first ``n`` utterances of ``data_dir/wav.scp`` (sorted) as mono samples, and their seconds."""
    table = read_table(data_dir / "wav.scp")
    utts, seconds = [], 0.0
    for value in list(table.values())[:n]:
        data, rate = read_audio(value)
        utts.append(to_mono(data))
        seconds += len(data) / rate
    return utts, seconds


def time_decoder(decode: Callable[[np.ndarray], object], utts: Sequence[np.ndarray]) -> Tuple[float, list]:
    """Seconds to decode every utterance (after one untimed warm-up call) and the results."""
    decode(utts[0])
    start = time.perf_counter()
    out = [decode(x) for x in utts]
    return time.perf_counter() - start, out


def time_batched(s2t: Speech2DualText, utts: Sequence[np.ndarray], batch_size: int) -> Tuple[float, list]:
    """Seconds for ``decode_batch`` over length-sorted batches (as stage 8), results in input order."""
    order = sorted(range(len(utts)), key=lambda i: -len(utts[i]))
    s2t.decode_batch([utts[i] for i in order[:batch_size]])  # warm-up
    out: list = [None] * len(utts)
    start = time.perf_counter()
    for b in range(0, len(order), batch_size):
        ids = order[b:b + batch_size]
        for i, r in zip(ids, s2t.decode_batch([utts[i] for i in ids])):
            out[i] = r
    return time.perf_counter() - start, out


def time_stock_batched(stock: Sequence[object], utts: Sequence[np.ndarray],
                       batch_size: int) -> Tuple[float, list]:
    """Seconds for ESPnet's own ``Speech2Text.batch_decode`` (one per output) over the same batches."""
    order = sorted(range(len(utts)), key=lambda i: -len(utts[i]))
    for s2t in stock:
        s2t.batch_decode([utts[i] for i in order[:batch_size]])  # warm-up
    out: list = [None] * len(utts)
    start = time.perf_counter()
    for b in range(0, len(order), batch_size):
        ids = order[b:b + batch_size]
        per_output = [s2t.batch_decode([utts[i] for i in ids]) for s2t in stock]
        for k, i in enumerate(ids):
            out[i] = [nbest[k] for nbest in per_output]
    return time.perf_counter() - start, out


class OursPerOutput:
    """Our decoder over one MTL model, or over two STL models (one per output), as one callable."""

    def __init__(self, configs: Sequence[str], models: Sequence[str], **kw: object) -> None:
        if len(configs) != len(models) or len(configs) not in (1, 2):
            raise SystemExit("bench_dual_decode: give one MTL model or two STL models "
                             "(--dual_config and --dual_model the same number of times)")
        self.decoders = [Speech2DualText(c, m, **kw) for c, m in zip(configs, models)]
        self.outputs = [o for d in self.decoders for o in d.outputs]
        if sorted(self.outputs) != sorted(PAIR):
            raise SystemExit(f"bench_dual_decode: the models decode {self.outputs}, not {list(PAIR)}")

    def __call__(self, x: np.ndarray) -> dict:
        return {o: r for d in self.decoders for o, r in d(x).items()}

    def decode_batch(self, xs: Sequence[np.ndarray]) -> list:
        per_model = [d.decode_batch(xs) for d in self.decoders]
        return [{o: r for results in per_model for o, r in results[k].items()} for k in range(len(xs))]


def _text(text: str) -> str:
    """A 1-best text as compared: stock ESPnet keeps a trailing space of SentencePiece, leaves
    jamo uncomposed and, for a hypothesis cut at the length limit, keeps ``<sos/eos>``; ours not."""
    return unicodedata.normalize("NFC", " ".join(text.replace("<sos/eos>", " ").split()))


SHOW_DIFFERENCES = 0  # --show_differences: how many differing pairs each comparison prints


def first_texts_differ(a: Sequence[dict], b: Sequence[list]) -> int:
    """Utterance-outputs whose 1-best text differs: ours (``{output: nbest}``) vs stock (one per PAIR)."""
    pairs = [(i, o, _text(x[o][0][0]), _text(y[k][0][0]))
             for i, (x, y) in enumerate(zip(a, b)) for k, o in enumerate(PAIR)]
    differ = [p for p in pairs if p[2] != p[3]]
    for i, o, left, right in differ[:SHOW_DIFFERENCES]:
        print(f"  utterance {i} {o}: {left!r} vs {right!r}")
    return len(differ)


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data_dir", type=Path, required=True)
    p.add_argument("--n", type=int, default=50, help="number of utterances")
    p.add_argument("--dual_config", required=True, action="append",
                   help="our model: once (MTL) or twice (STL surface, STL meaning)")
    p.add_argument("--dual_model", required=True, action="append")
    for o in PAIR:
        p.add_argument(f"--stock_{o}_config", required=True, help=f"stock ESPnet ASR model for {o}")
        p.add_argument(f"--stock_{o}_model", required=True)
    p.add_argument("--beam_size", type=int, default=5)
    p.add_argument("--ctc_weight", type=float, default=0.3)
    p.add_argument("--batch_size", type=int, nargs="+", default=[16],
                   help="utterances per batched search (stage 8 decodes --inference_batch_size, default 32, "
                        "at a time); several: each is timed")
    p.add_argument("--show_differences", type=int, default=0, help="print up to N differing 1-best pairs")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    global SHOW_DIFFERENCES
    args = get_parser().parse_args(argv)
    SHOW_DIFFERENCES = args.show_differences
    logging.basicConfig(level=logging.WARNING)
    if args.threads:
        torch.set_num_threads(args.threads)
    from espnet2.bin.asr_inference import Speech2Text

    utts, audio_s = load_utterances(args.data_dir, args.n)
    ours = OursPerOutput(args.dual_config, args.dual_model, device=args.device,
                         beam_size=args.beam_size, ctc_weight=args.ctc_weight)
    stock = [Speech2Text(asr_train_config=getattr(args, f"stock_{o}_config"),
                         asr_model_file=getattr(args, f"stock_{o}_model"), device=args.device,
                         beam_size=args.beam_size, ctc_weight=args.ctc_weight, nbest=1)
             for o in PAIR]
    stock_batches = hasattr(Speech2Text, "batch_decode")

    batched = {b: time_batched(ours, utts, b) for b in args.batch_size}
    stock_batched = {b: time_stock_batched(stock, utts, b) for b in args.batch_size} if stock_batches else {}
    t_ours, single = time_decoder(ours, utts)
    t_stock, stock_single = time_decoder(lambda x: [s2t(x) for s2t in stock], utts)
    n = len(utts) * len(PAIR)
    versions = stack_versions()
    print(f"utterances: {len(utts)} ({audio_s:.1f} s of audio), beam {args.beam_size}, "
          f"ctc weight {args.ctc_weight}, threads {torch.get_num_threads()}, "
          f"ESPnet {versions.get('espnet')}, torch {versions.get('torch')}")
    print(f"stock (2 x Speech2Text, one model per output): {t_stock:.2f} s")
    print(f"ours per utterance (Speech2DualText, {len(ours.decoders)} model(s), 2 outputs): {t_ours:.2f} s")
    print(f"ratio per-utterance/stock: {t_ours / t_stock:.3f}")
    print(f"ours vs stock per-utterance 1-best texts that differ: {first_texts_differ(single, stock_single)} "
          f"of {n} (0 expected when the stock models were exported from ours)")
    for b, (t_batch, results) in batched.items():
        differ = sum(a[o][0][0] != r[o][0][0] for a, r in zip(single, results) for o in a)
        print(f"ours batched (Speech2DualText.decode_batch, {b} utterances): {t_batch:.2f} s")
        print(f"ratio batched/stock: {t_batch / t_stock:.3f}")
        print(f"batched vs per-utterance 1-best texts that differ: {differ} of {n}")
        if b in stock_batched:
            t_sb, sb = stock_batched[b]
            print(f"stock batched (2 x Speech2Text.batch_decode, {b} utterances): {t_sb:.2f} s")
            print(f"ratio batched/stock-batched ({b}): {t_batch / t_sb:.3f}")
            print(f"stock batched vs stock per-utterance 1-best texts that differ ({b}): "
                  f"{first_texts_differ([dict(zip(PAIR, x)) for x in stock_single], sb)} of {n}")
            print(f"ours batched vs stock batched 1-best texts that differ ({b}): "
                  f"{first_texts_differ(results, sb)} of {n}")
    if not stock_batches:
        print("stock batched: not available (Speech2Text.batch_decode needs ESPnet >= 202609)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
