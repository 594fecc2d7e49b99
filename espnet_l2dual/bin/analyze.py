"""Stage 10: entanglement analysis of the trained configs in a recipe's exp/ (options; the
analysis is :mod:`espnet_l2dual.analysis.stage10_run`, whose text is this command's help, and
:mod:`espnet_l2dual.report.stage10_run` writes it)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Optional, Sequence

from espnet_l2dual.analysis import stage10_run
from espnet_l2dual.analysis.exp_models import MissingModels
from espnet_l2dual.errors import DataError
from espnet_l2dual.report.stage10_run import run_stage10
from espnet_l2dual.scoring.blocked_bootstrap import DEFAULT_RESAMPLES
from espnet_l2dual.scoring.by_divergence import DEFAULT_BINS, parse_bins

log = logging.getLogger("espnet_l2dual.analysis")


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=stage10_run.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lang", required=True, choices=["ko", "en"])
    p.add_argument("--exp_dir", type=Path, default=Path("exp"))
    p.add_argument("--data_root", type=Path, default=Path("dump/raw"))
    p.add_argument("--test_set", default="test",
                   help="the decoded set analysed (l2dual.sh stage 10: eval where --test_sets has it)")
    p.add_argument("--train_set", default="train", help="batches for the gradient-conflict analysis")
    p.add_argument("--inference_tag", required=True, help="decode dir name, e.g. decode_beam5_ctc0.3")
    p.add_argument("--out_dir", type=Path, default=Path("exp/analysis"))
    p.add_argument("--model_file", default="valid.loss.ave.pth", help="checkpoint name inside exp/<tag>/")
    p.add_argument("--max_utts", type=int, default=100, help="test utterances forwarded for CKA")
    p.add_argument("--max_frames", type=int, default=2000,
                   help="encoder frames (and decoder tokens) kept for CKA; bounds memory")
    p.add_argument("--grad_batches", type=int, default=12,
                   help="training batches for gradient conflict (0: skip); its interval resamples batches")
    p.add_argument("--grad_batch_size", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--estimator", choices=["debiased", "linear"], default="debiased",
                   help="CKA estimator of the headline numbers, figures and words: debiased (unbiased HSIC, "
                        "about 0 for unrelated features) or linear (biased HSIC, far above 0 when the width "
                        "is large against the number of rows); both are always in analysis.json")
    p.add_argument("--debiased", action="store_true", help="same as --estimator debiased")
    p.add_argument("--cka_permutations", type=int, default=200,
                   help="permutations of the utterance pairing for the CKA null (at least 200 for a report)")
    p.add_argument("--cka_bootstrap", type=int, default=1000,
                   help="bootstrap resamples (speakers, then utterances) for the CKA intervals")
    p.add_argument("--bins", default=DEFAULT_BINS, help="divergence bin edges (as stage 9)")
    p.add_argument("--twin_set", default="",
                   help="the decoded learner-error twin set (l2dual.sh: <report set>_twins where stage 1 made it); "
                        "empty: error following is recorded as skipped")
    p.add_argument("--twin_bootstrap", type=int, default=DEFAULT_RESAMPLES,
                   help="bootstrap resamples (speakers, then original utterances) for the error-following rates")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--if_incomplete", choices=["error", "skip"], default="error",
                   help="when exp/ lacks an STL pair + MTL model: fail, or skip with a warning "
                        "(a single recipe run that trained only one config)")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s (analyze) %(levelname)s %(message)s")
    log.setLevel(logging.INFO)  # progress lines even when a library configured logging first
    parse_bins(args.bins)
    for name in ("max_utts", "max_frames"):
        if getattr(args, name) < 4:
            log.error("--%s must be at least 4", name)
            return 2
    for name in ("cka_permutations", "cka_bootstrap", "twin_bootstrap"):
        if getattr(args, name) < 1:
            log.error("--%s must be positive", name)
            return 2
    try:
        run_stage10(args)
    except MissingModels as e:
        if args.if_incomplete == "skip":
            log.warning("%s -- stage 10 skipped (train the other configs, then re-run it)", e)
            return 0
        log.error("%s", e)
        return 1
    except DataError as e:
        log.error("%s", e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
