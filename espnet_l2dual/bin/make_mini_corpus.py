"""Make the synthetic ``mini`` L2 corpus (what it holds: :mod:`espnet_l2dual.corpus.mini`)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Optional, Sequence

from espnet_l2dual.corpus.eval_set import EVAL_SET, EVAL_SPEAKERS, EVAL_UTTS_PER_SPEAKER
from espnet_l2dual.corpus.mini import (
    ERROR_SCALE, LANGS, NUM_SPK, NUM_UTTS, SEED, SETS, make_mini_corpus, size_problem,
)
from espnet_l2dual.errors import DataError


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m espnet_l2dual.bin.make_mini_corpus",
        description="Make the synthetic mini L2 corpus (espeak-ng audio of learner pronunciations) "
                    "as Kaldi data dirs OUT/{train,dev,test,eval} and wavs in OUT/wav. test is the tuning set; "
                    "eval (new sentences, unseen voices) is for final numbers.")
    p.add_argument("--lang", required=True, choices=LANGS, help="language learned")
    p.add_argument("--out", required=True, type=Path, help="output directory")
    p.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED})")
    for split in SETS:
        n_utt, n_spk = NUM_UTTS[split], NUM_SPK[split]
        p.add_argument(f"--num_{split}", type=int, default=n_utt, help=f"{split} utterances (default {n_utt})")
        p.add_argument(f"--num_{split}_spk", type=int, default=n_spk, help=f"{split} speakers (default {n_spk})")
    p.add_argument("--eval_speakers", type=int, default=EVAL_SPEAKERS,
                   help=f"eval speakers, voices no other set has (default {EVAL_SPEAKERS})")
    p.add_argument("--eval_utts_per_speaker", type=int, default=EVAL_UTTS_PER_SPEAKER,
                   help=f"eval utterances per speaker (default {EVAL_UTTS_PER_SPEAKER})")
    p.add_argument("--nj", type=int, default=os.cpu_count() or 1, help="parallel synthesis jobs (default: nproc)")
    p.add_argument("--error_scale", type=float, default=ERROR_SCALE,
                   help="every learner error rate times this (capped at 1); same sentences and voices "
                        f"(default {ERROR_SCALE:g}; 0: no learner errors)")
    p.add_argument("--twins", action="store_true",
                   help=f"also make OUT/{EVAL_SET}_twins: each {EVAL_SET} utterance with learner errors, itself, its "
                        "canonical twin (same sentence and voice, no learner error) and one twin per error "
                        "(only that error); utt2twin maps each to its original")
    p.add_argument("--train_twins", action="store_true",
                   help="also make OUT/train_twins: the same twins of the train utterances (training pairs for "
                        "twin-contrastive methods such as task_projection: twin_subspace; eval is never used)")
    args = p.parse_args(argv)
    num_utts = {s: getattr(args, f"num_{s}") for s in SETS}
    num_spk = {s: getattr(args, f"num_{s}_spk") for s in SETS}
    problem = size_problem(num_utts, num_spk, args.eval_speakers, args.eval_utts_per_speaker, args.error_scale)
    if problem:
        p.error(problem)
    start = time.time()
    try:
        make_mini_corpus(args.lang, args.out, args.seed, num_utts, num_spk, args.nj, args.error_scale,
                         args.eval_speakers, args.eval_utts_per_speaker, args.twins, args.train_twins)
    except (DataError, RuntimeError, ValueError) as e:
        print(f"make_mini_corpus: {e}", file=sys.stderr)
        return 1
    n_eval = args.eval_speakers * args.eval_utts_per_speaker
    print(f"make_mini_corpus: {args.lang} corpus in {args.out} ({sum(num_utts.values()) + n_eval} utterances, "
          f"{time.time() - start:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
