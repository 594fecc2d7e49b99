"""Stage 10's analyses of one group (an STL-surface, an STL-meaning and MTL-like models of one
size and seed, :mod:`espnet_l2dual.analysis.exp_models`), one function each, and the driver
that runs them in order: task vectors first (a θ0 mismatch fails before minutes of forwarding),
divergence bins, hidden states, CKA, gradient conflict, error following on the twins.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

from espnet_l2dual.errors import DataError

from espnet_l2dual.analysis import cka_pairs, divergence_analysis, gradient_conflict, group_cka
from espnet_l2dual.analysis import task_vectors, twin_distance, twin_following
from espnet_l2dual.analysis.access import skipped
from espnet_l2dual.analysis.exp_models import ModelInfo, model_loader
from espnet_l2dual.analysis.feature_cache import cached_states
from espnet_l2dual.analysis.resample import blocks_label, speaker_blocked_weights
from espnet_l2dual.outputs import PAIR, data_key
from espnet_l2dual.scoring.by_divergence import read_divergence
from espnet_l2dual.utils.fileio import read_table

log = logging.getLogger("espnet_l2dual.analysis")


def read_speakers(data_dir: Path, utt_ids: Sequence[str]) -> List[str]:
    """The speaker of each utterance (utt2spk); without utt2spk each utterance is its own block."""
    path = data_dir / "utt2spk"
    spk = read_table(path) if path.is_file() else {}
    return [spk.get(u, u) for u in utt_ids]


def task_vector_analysis(s: ModelInfo, m: ModelInfo, mtls: Sequence[ModelInfo], model_file: str) -> dict:
    """Cosines of the STL task vectors from their common θ0; which MTL models share that θ0."""
    task_vectors.check_same_init(s.dir / "init.pth", m.dir / "init.pth")
    tv = task_vectors.task_vector_cosines(s.dir / "init.pth", s.dir / model_file, m.dir / model_file)
    for x in mtls:
        if (x.dir / "init.pth").is_file():
            try:
                task_vectors.check_same_init(s.dir / "init.pth", x.dir / "init.pth")
                tv.setdefault("mtl_same_init", {})[x.tag] = True
            except DataError:
                tv.setdefault("mtl_same_init", {})[x.tag] = False
    return tv


def by_divergence(s: ModelInfo, m: ModelInfo, mtls: Sequence[ModelInfo], args) -> dict:
    """Error by divergence bin (each output judged by stage 9's headline metric), with stage 9's
    totals beside it for a cross-check."""
    data_dir = args.data_root / args.test_set
    div_path = data_dir / "utt2divergence"
    if not div_path.is_file():
        raise DataError(div_path, None, "not found (stage 4 computes it)")
    models = [s, m] + list(mtls)
    decoded = {x.tag: {o: x.dir / args.inference_tag / args.test_set / o / "text" for o in x.tasks}
               for x in models}
    metrics = divergence_analysis.headlines_from_results(
        {x.tag: x.dir / "results.json" for x in models}, {x.tag: x.tasks for x in models}, args.test_set)
    div = divergence_analysis.analyse(
        decoded, {o: data_dir / data_key(o) for o in PAIR}, read_divergence(div_path),
        {"surface": s.tag, "meaning": m.tag}, [x.tag for x in mtls], args.lang, args.bins, metrics,
        read_table(data_dir / "utt2spk") if (data_dir / "utt2spk").is_file() else None)
    div["results_json"] = {}
    for x in models:
        res = json.loads((x.dir / "results.json").read_text(encoding="utf-8"))[args.test_set]
        div["results_json"][x.tag] = {o: {k: res[o][k] for k in ("cer", "wer")} | {"headline": res[o]["headline"]}
                                      for o in x.tasks}
    return div


def group_states(models: Sequence[ModelInfo], args, utt_ids: List[str], load_utts: Callable) -> Dict[str, dict]:
    """Every model's hidden states on the test utterances (from the cache where it is current)."""
    states = {}
    for info in models:
        loader = model_loader(info, args.model_file, args.device)
        states[info.tag] = cached_states(
            lambda loader=loader: loader()[:2], info.dir / args.model_file, args.out_dir / "feats" / info.tag,
            load_utts, utt_ids, args.max_frames, args.seed, info.tag)
    return states


def gradient_conflict_analysis(name: str, mtls: Sequence[ModelInfo], args) -> Dict[str, dict]:
    """Per MTL model: the surface vs meaning gradient cosines of its shared encoder."""
    grad = {x.tag: skipped("--grad_batches 0") for x in mtls}
    if args.grad_batches <= 0:
        return grad
    import torch

    for x in mtls:
        log.info("[%s] gradient conflict of %s on %d batches of %s", name, x.tag, args.grad_batches, args.train_set)
        model, preprocess, collate_fn = model_loader(x, args.model_file, args.device)()
        torch.manual_seed(args.seed)
        grad[x.tag] = gradient_conflict.gradient_cosines(
            model, preprocess, collate_fn, args.data_root / args.train_set, args.grad_batches,
            args.grad_batch_size, args.seed, progress=lambda msg, t=x.tag: log.info("%s: %s", t, msg))
        del model
    return grad


def error_following_analysis(name: str, group: dict, args) -> dict:
    """How each model treats the injected learner errors of the twin set (skipped without one)."""
    following = twin_following.error_following(group, args.data_root, args.twin_set, args.inference_tag,
                                               args.twin_bootstrap, args.seed)
    if "skipped" in following:
        log.info("[%s] error following skipped: %s", name, following["skipped"])
    return following


def analyse_group(name: str, group: dict, args, utt_ids: List[str], load_utts: Callable,
                  speakers: Optional[Sequence[str]] = None, keep: Optional[dict] = None) -> dict:
    """Everything stage 10 reports on one group; ``keep`` receives the CKA differences' bootstrap
    replicates (for :func:`cka_over_seeds`)."""
    s, m, mtls = group["stl_surface"], group["stl_meaning"], group["mtl"]
    t0 = time.time()
    log.info("[%s] task vectors: checking θ0 of %s and %s", name, s.tag, m.tag)
    tv = task_vector_analysis(s, m, mtls, args.model_file)
    log.info("[%s] divergence analysis", name)
    div = by_divergence(s, m, mtls, args)
    states = group_states([s, m] + list(mtls), args, utt_ids, load_utts)
    log.info("[%s] CKA", name)
    speakers = list(speakers) if speakers is not None else list(utt_ids)
    st = cka_pairs.Settings(speaker_blocked_weights(speakers, args.cka_bootstrap, args.seed),
                            args.cka_permutations, args.seed, blocks_label(speakers))
    pairs = group_cka.Pairs(st, states, len(utt_ids))
    encoder = group_cka.encoder_cka(pairs, s, m, mtls)
    ssl = group_cka.ssl_cka(pairs, s, m, mtls)
    context = group_cka.context_cka(pairs, mtls)
    decoder = group_cka.decoder_cka(pairs, s, m, mtls)
    comparisons = group_cka.comparisons(pairs, encoder["pairs"], decoder, mtls, keep)
    cka_settings = {"estimator": "debiased linear CKA (unbiased HSIC, Song et al. 2012)",
                    "interval": st.method, "n_speakers": len(set(speakers)), "n_utts": len(speakers),
                    "null": f"{st.n_perm} permutations of the utterance pairing, at the last layer of each pair",
                    "family": f"{len(comparisons)} CKA differences of this group, Bonferroni-adjusted"}
    grad = gradient_conflict_analysis(name, mtls, args)
    log.info("[%s] error following on the twin set %s", name, args.twin_set or "(none)")
    following = error_following_analysis(name, group, args)
    log.info("[%s] twin distance per encoder layer", name)
    distance = twin_distance.twin_distance(group, args, lambda info: model_loader(info, args.model_file, args.device))
    log.info("[%s] done in %.1f s", name, time.time() - t0)
    enc_s = group_cka.layers(states[s.tag], "enc.")
    return {"stl_surface": s.tag, "stl_meaning": m.tag, "mtl": [x.tag for x in mtls],
            "divergence": div, "encoder_cka": encoder, "context_cka": context,
            "decoder_cka": decoder, "cka_comparisons": comparisons, "cka_settings": cka_settings,
            "task_vectors": tv, "gradient_conflict": grad, "error_following": following,
            "twin_distance": distance,
            **({"ssl_cka": ssl} if ssl else {}),
            "n_encoder_frames": int(enc_s[0].shape[0]) if enc_s else 0}


def cka_over_seeds(groups: Dict[str, dict], kept: Dict[str, dict], n_boot: int, seed: int) -> Dict[str, dict]:
    """Per size trained with several seeds: each CKA difference's mean over seeds, with an interval
    that resamples seeds, then speakers x utterances within each (one family per size, Bonferroni)."""
    by_size: Dict[str, List[str]] = {}
    for label, g in groups.items():
        if g["stl_surface"].seed is not None:
            by_size.setdefault(g["stl_surface"].size or "full", []).append(label)
    out = {}
    for size, labels in by_size.items():
        if len(labels) < 2:
            continue
        keys = sorted({k for label in labels for k in kept.get(label, {})})
        rows = []
        for k in keys:
            got = [kept.get(label, {}).get(k, (None, None, "")) for label in labels]
            rec = cka_pairs.over_seeds([x[0] for x in got], [x[1] for x in got], n_boot, seed, len(keys))
            rows.append({"mtl": k[0], "name": k[1], "what": next((x[2] for x in got if x[2]), ""), **rec})
        out[size] = {"groups": labels, "method": "seeds resampled, then one speakers x utterances bootstrap "
                     f"replicate of each drawn seed; {n_boot} resamples, percentile", "comparisons": rows}
    return out
