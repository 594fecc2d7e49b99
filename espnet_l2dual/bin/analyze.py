"""Stage 10: entanglement analysis of the trained configs in a recipe's exp/.

Finds every ``exp/<tag>/config.yaml``; a model whose ``model_conf.tasks`` is
``[surface]`` is an STL-surface model, ``[meaning]`` STL-meaning, both: an MTL-like
model (MTL, partial sharing, gradient surgery ...).  Models are grouped by the size
suffix of their tag (``asr_mtl_tiny`` -> ``tiny``, ``asr_mtl`` -> full size) and each
MTL-like model is analysed against the STL pair of its size:

1. error by divergence bin, MTL−STL per bin, Spearman(divergence, MTL−STL CER);
2. encoder CKA per layer (STL-s vs STL-m, MTL vs each STL) and layer x layer;
   CKA of the MTL surface vs meaning source-attention contexts per decoder layer;
   debiased CKA (unbiased HSIC) with a permutation null (utterance pairing shuffled)
   and intervals that resample speakers, then utterances; frames compared only where
   both models have the same frame rate;
3. decoder hidden-state CKA, MTL vs STL decoder of the same output;
4. task vectors of the STL encoders from their common θ0 (init.pth);
5. gradient conflict of the MTL encoder on training batches;
6. error following on the learner-error twins (``--twin_set``, e.g. eval_twins): per model with a
   surface output, how often it writes the injected error, the canonical form or neither, and
   the MTL − STL-surface difference of the normalisation rate.

Writes ``<out_dir>/REPORT.md``, ``analysis.json``, PNGs, and caches hidden states
under ``<out_dir>/feats/<tag>/`` (kaldiio ark/scp) so a re-run skips the forwards.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Optional, Sequence

from espnet_l2dual.errors import DataError
from espnet_l2dual.utils.fileio import atomic_write

from espnet_l2dual.analysis import hidden_states, plots
from espnet_l2dual.report import stage10
from espnet_l2dual.analysis.pipeline import (MissingModels, analyse_group, cka_over_seeds, discover,
                                             estimators, make_groups, read_speakers)
from espnet_l2dual.scoring.blocked_bootstrap import DEFAULT_RESAMPLES
from espnet_l2dual.scoring.by_divergence import DEFAULT_BINS, parse_bins

log = logging.getLogger("espnet_l2dual.analysis")


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
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
        groups = make_groups(discover(args.exp_dir), args.exp_dir)
        test_dir = args.data_root / args.test_set
        if not (test_dir / "text_surface").is_file():
            raise DataError(test_dir / "text_surface", None, "test set reference not found")
        if args.grad_batches > 0 and not (args.data_root / args.train_set / "text_surface").is_file():
            raise DataError(args.data_root / args.train_set / "text_surface", None,
                            "training set not found (gradient conflict; pass --train_set or --grad_batches 0)")
        utt_ids = hidden_states.select_utterances(test_dir, args.max_utts, args.seed)
        speakers = read_speakers(test_dir, utt_ids)
        cache: dict = {}

        def load_utts():
            if "utts" not in cache:
                log.info("reading %d test utterances from %s", len(utt_ids), test_dir)
                cache["utts"] = hidden_states.load_utterances(test_dir, utt_ids)
            return cache["utts"]

        analysis = {
            "settings": {"lang": args.lang, "exp_dir": str(args.exp_dir), "test_set": args.test_set,
                         "train_set": args.train_set, "inference_tag": args.inference_tag,
                         "model_file": args.model_file, "seed": args.seed, "max_utts": args.max_utts,
                         "n_utts": len(utt_ids), "max_frames": args.max_frames,
                         "grad_batches": args.grad_batches, "grad_batch_size": args.grad_batch_size,
                         "estimator": estimators(args.debiased or args.estimator == "debiased")[0],
                         "cka_permutations": args.cka_permutations, "cka_bootstrap": args.cka_bootstrap,
                         "bins": args.bins, "twin_set": args.twin_set or None,
                         "twin_bootstrap": args.twin_bootstrap},
            "groups": {},
        }
        kept: dict = {}
        for name, group in groups.items():
            log.info("group '%s': STL-surface %s, STL-meaning %s, MTL %s", name, group["stl_surface"].tag,
                     group["stl_meaning"].tag, ", ".join(x.tag for x in group["mtl"]))
            kept[name] = {}
            analysis["groups"][name] = analyse_group(name, group, args, utt_ids, load_utts, speakers, kept[name])
        seeds = cka_over_seeds(groups, kept, args.cka_bootstrap, args.seed)
        if seeds:
            analysis["cka_over_seeds"] = seeds
    except MissingModels as e:
        if args.if_incomplete == "skip":
            log.warning("%s -- stage 10 skipped (train the other configs, then re-run it)", e)
            return 0
        log.error("%s", e)
        return 1
    except DataError as e:
        log.error("%s", e)
        return 1
    figures = plots.make_figures(analysis, args.out_dir)
    with atomic_write(args.out_dir / "analysis.json") as f:
        json.dump(analysis, f, ensure_ascii=False, indent=1)
        f.write("\n")
    with atomic_write(args.out_dir / "REPORT.md") as f:
        f.write(stage10.render(analysis, figures))
    log.info("wrote %s, %s and %d figures", args.out_dir / "REPORT.md", args.out_dir / "analysis.json",
             sum(len(v) for v in figures.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
