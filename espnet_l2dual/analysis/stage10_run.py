"""Stage 10: entanglement analysis of the trained configs in a recipe's exp/.

Finds every ``exp/<tag>/config.yaml``; a model whose ``model_conf.tasks`` is
``[surface]`` is an STL-surface model, ``[meaning]`` STL-meaning, both: an MTL-like
model (MTL, partial sharing, gradient surgery ...).  Models are grouped by the size
and seed stage 7 recorded in ``exp/<tag>/provenance.json`` (``"group"``: the size word of
the training config, ``train_mtl_tiny`` -> ``tiny``, none -> full size, and ``--seed``) and
each MTL-like model is analysed against the STL pair of its size and seed:

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

import logging
from argparse import Namespace

from espnet_l2dual.analysis.exp_models import discover, make_groups
from espnet_l2dual.analysis.group_cka import estimators
from espnet_l2dual.analysis.pipeline import analyse_group, cka_over_seeds, read_speakers
from espnet_l2dual.analysis.utterances import load_utterances, select_utterances
from espnet_l2dual.errors import DataError

log = logging.getLogger("espnet_l2dual.analysis")


def settings_record(args: Namespace, n_utts: int) -> dict:
    """The settings analysis.json records (what made the numbers)."""
    return {"lang": args.lang, "exp_dir": str(args.exp_dir), "test_set": args.test_set,
            "train_set": args.train_set, "inference_tag": args.inference_tag,
            "model_file": args.model_file, "seed": args.seed, "max_utts": args.max_utts,
            "n_utts": n_utts, "max_frames": args.max_frames,
            "grad_batches": args.grad_batches, "grad_batch_size": args.grad_batch_size,
            "estimator": estimators(args.debiased or args.estimator == "debiased")[0],
            "cka_permutations": args.cka_permutations, "cka_bootstrap": args.cka_bootstrap,
            "bins": args.bins, "twin_set": args.twin_set or None,
            "twin_bootstrap": args.twin_bootstrap}


def analyse(args: Namespace) -> dict:
    """analysis.json's content: every complete group of exp/, then the CKA differences over seeds.
    Raises :class:`~espnet_l2dual.analysis.exp_models.MissingModels` or ``DataError``."""
    groups = make_groups(discover(args.exp_dir), args.exp_dir)
    test_dir = args.data_root / args.test_set
    if not (test_dir / "text_surface").is_file():
        raise DataError(test_dir / "text_surface", None, "test set reference not found")
    if args.grad_batches > 0 and not (args.data_root / args.train_set / "text_surface").is_file():
        raise DataError(args.data_root / args.train_set / "text_surface", None,
                        "training set not found (gradient conflict; pass --train_set or --grad_batches 0)")
    utt_ids = select_utterances(test_dir, args.max_utts, args.seed)
    speakers = read_speakers(test_dir, utt_ids)
    cache: dict = {}

    def load_utts():
        if "utts" not in cache:
            log.info("reading %d test utterances from %s", len(utt_ids), test_dir)
            cache["utts"] = load_utterances(test_dir, utt_ids)
        return cache["utts"]

    analysis = {"settings": settings_record(args, len(utt_ids)), "groups": {}}
    kept: dict = {}
    for name, group in groups.items():
        log.info("group '%s': STL-surface %s, STL-meaning %s, MTL %s", name, group["stl_surface"].tag,
                 group["stl_meaning"].tag, ", ".join(x.tag for x in group["mtl"]))
        kept[name] = {}
        analysis["groups"][name] = analyse_group(name, group, args, utt_ids, load_utts, speakers, kept[name])
    seeds = cka_over_seeds(groups, kept, args.cka_bootstrap, args.seed)
    if seeds:
        analysis["cka_over_seeds"] = seeds
    return analysis
