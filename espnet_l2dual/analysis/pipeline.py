"""Stage 10's steps: find the models in exp/, group them by size, analyse each group.

A model whose ``model_conf.tasks`` is ``[surface]`` is an STL-surface model, ``[meaning]``
STL-meaning, both: an MTL-like model. Each MTL-like model is analysed against the STL pair
of its size (divergence bins, encoder/context/decoder CKA, task vectors, gradient conflict,
error following on the learner-error twins);
``espnet_l2dual.bin.analyze`` parses the options and writes the report.
"""

from __future__ import annotations

import json
import re
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import yaml

from espnet_l2dual.errors import DataError

from espnet_l2dual.analysis import cka_pairs, divergence_analysis, gradient_conflict, hidden_states
from espnet_l2dual.analysis.resample import blocks_label, speaker_blocked_weights
from espnet_l2dual.analysis import task_vectors, twin_distance, twin_following
from espnet_l2dual.analysis.access import skipped
from espnet_l2dual.outputs import PAIR, check_tasks, data_key
from espnet_l2dual.scoring.by_divergence import read_divergence
from espnet_l2dual.utils.fileio import read_table

log = logging.getLogger("espnet_l2dual.analysis")

SIZE_WORDS = ("tiny", "mini", "small", "medium", "base", "large", "full", "xl", "wavlm")


class MissingModels(ValueError):
    """exp/ lacks a model the analysis needs; the message names what is missing."""


@dataclass
class ModelInfo:
    tag: str
    dir: Path
    tasks: List[str]
    size: str
    seed: Optional[int] = None  # from a ``_seed<N>`` tag suffix (./run.sh --seed N)

    @property
    def kind(self) -> str:
        if self.tasks == ["surface"]:
            return "stl_surface"
        if self.tasks == ["meaning"]:
            return "stl_meaning"
        return "mtl"


def seed_of(tag: str) -> Tuple[str, Optional[int]]:
    """``asr_mtl_tiny_seed2`` -> (``asr_mtl_tiny``, 2); a tag without the suffix -> (tag, None)."""
    m = re.fullmatch(r"(.+)_seed([0-9]+)", tag)
    return (m.group(1), int(m.group(2))) if m else (tag, None)


def size_of(tag: str) -> str:
    """``asr_mtl_tiny`` (or ``asr_mtl_tiny_seed2``) -> ``tiny``; no size word: the full size ``""``."""
    last = seed_of(tag)[0].rsplit("_", 1)[-1]
    return last if last in SIZE_WORDS and last != tag else ""


def group_label(size: str, seed: Optional[int]) -> str:
    """The analysis group of a size and seed: ``tiny``, ``full``, ``tiny_seed2``."""
    return (size or "full") + ("" if seed is None else f"_seed{seed}")


def discover(exp_dir: Path) -> List[ModelInfo]:
    """Every ``exp_dir/<tag>/config.yaml`` of an l2dual model."""
    if not exp_dir.is_dir():
        raise MissingModels(f"{exp_dir}: experiment directory not found (run stages 7-9 first)")
    found = []
    for cfg in sorted(exp_dir.glob("*/config.yaml")):
        try:
            conf = yaml.safe_load(cfg.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as e:
            raise DataError(cfg, None, f"not valid YAML: {e}") from None
        if not isinstance(conf, dict) or "encoder" not in conf:
            continue  # not a trained model's config (stats dirs, ...)
        try:
            tasks = check_tasks((conf.get("model_conf") or {}).get("tasks", list(PAIR)))
        except ValueError as e:
            raise DataError(cfg, None, str(e)) from None
        if set(tasks) <= set(PAIR):  # the study's outputs (a model with a third output is not compared)
            tag = cfg.parent.name
            found.append(ModelInfo(tag, cfg.parent, tasks, size_of(tag), seed_of(tag)[1]))
    return found


def _pick(models: Sequence[ModelInfo], kind: str, size: str, seed: Optional[int] = None) -> Optional[ModelInfo]:
    cands = [m for m in models if m.kind == kind and m.size == size and m.seed == seed]
    if len(cands) > 1:
        preferred = f"asr_{kind}" + (f"_{size}" if size else "") + ("" if seed is None else f"_seed{seed}")
        named = [m for m in cands if m.tag == preferred]
        if not named:
            raise MissingModels(f"several {kind} models of group '{group_label(size, seed)}' "
                                f"({', '.join(m.tag for m in cands)}) and none is named {preferred}")
        return named[0]
    return cands[0] if cands else None


def make_groups(models: Sequence[ModelInfo], exp_dir: Path) -> Dict[str, dict]:
    """Size (and seed) -> {stl_surface, stl_meaning, mtl: [...]}: models of one group share both,
    so a seed is compared only with models trained with that seed; only complete groups; error if
    there is none."""
    groups, problems = {}, []
    for size, seed in sorted({(m.size, m.seed) for m in models}, key=lambda k: (k[0], -1 if k[1] is None else k[1])):
        s, m = _pick(models, "stl_surface", size, seed), _pick(models, "stl_meaning", size, seed)
        mtls = [x for x in models if x.kind == "mtl" and x.size == size and x.seed == seed]
        missing = [name for name, x in (("STL-surface (model_conf.tasks: [surface])", s),
                                        ("STL-meaning (model_conf.tasks: [meaning])", m),
                                        ("MTL (model_conf.tasks: [surface, meaning])", mtls or None)) if not x]
        label = group_label(size, seed)
        if missing:
            problems.append(f"size '{label}': missing {', '.join(missing)}")
            continue
        groups[label] = {"stl_surface": s, "stl_meaning": m, "mtl": mtls}
    for p in problems if groups else []:
        log.warning("%s: %s (skipped)", exp_dir, p)
    if not groups:
        have = ", ".join(f"{x.tag} ({'+'.join(x.tasks)})" for x in models) or "no model configs"
        raise MissingModels(f"{exp_dir}: stage 10 needs an STL-surface, an STL-meaning and an MTL model of "
                            f"the same size; {'; '.join(problems) or 'none found'}. Found: {have}")
    return groups


# ------------------------------------------------------------------ model loading


def model_loader(info: ModelInfo, model_file: str, device: str) -> Callable:
    def load():
        from espnet_l2dual.tasks.l2dual import L2DualTask

        cfg, pth = info.dir / "config.yaml", info.dir / model_file
        if not pth.is_file():
            raise DataError(pth, None, f"model file of {info.tag} not found (--model_file {model_file})")
        model, args = L2DualTask.build_model_from_file(str(cfg), str(pth), device)
        model.eval()
        return model, L2DualTask.build_preprocess_fn(args, train=False), \
            L2DualTask.build_collate_fn(args, train=False)
    return load


# ------------------------------------------------------------------ CKA helpers


def estimators(debiased: bool) -> List[str]:
    """Both CKA estimators, the headline one first."""
    return ["debiased", "linear"] if debiased else ["linear", "debiased"]


def _layers(states: Dict[str, np.ndarray], prefix: str) -> List[np.ndarray]:
    names = sorted((k for k in states if k.startswith(prefix) and k[len(prefix):].isdigit()),
                   key=lambda k: int(k[len(prefix):]))
    return [states[k] for k in names]


def read_speakers(data_dir: Path, utt_ids: Sequence[str]) -> List[str]:
    """The speaker of each utterance (utt2spk); without utt2spk each utterance is its own block."""
    path = data_dir / "utt2spk"
    spk = read_table(path) if path.is_file() else {}
    return [spk.get(u, u) for u in utt_ids]


class _Pairs:
    """CKA pairs of one group, with their bootstrap replicates kept for paired differences."""

    def __init__(self, st: cka_pairs.Settings, states: Dict[str, Dict[str, np.ndarray]], n_utts: int) -> None:
        self.st, self.states, self.n_utts = st, states, n_utts
        self.reps: Dict[str, Optional[np.ndarray]] = {}

    def rows(self, tag: str, kind: str) -> Optional[cka_pairs.Rows]:
        return cka_pairs.rows_of(self.states[tag], kind, self.n_utts)

    def pair(self, key: str, xs, ys, a: str, b: str, ra, rb) -> dict:
        rec, reps = cka_pairs.cka_pair(xs, ys, a, b, ra, rb, self.st)
        if "skipped" in rec and xs and ys:
            log.warning("CKA %s vs %s refused: %s", a, b, rec["skipped"])
        self.reps[key] = reps
        return rec


def _at(rec: dict, layer: Optional[int]) -> Optional[float]:
    """The debiased CKA of a pair at ``layer`` (-1: the last; None: the mean over layers)."""
    if not rec.get("debiased"):
        return None
    diag = rec["debiased"]["diag"]
    if layer is None:
        vals = [v for v in diag if v is not None]
        return float(np.mean(vals)) if vals else None
    return diag[layer]


def _comparisons(pairs: _Pairs, encoder: dict, decoder: dict, mtls: Sequence[ModelInfo],
                 keep: Optional[dict] = None) -> List[dict]:
    """The CKA differences REPORT.md words: per MTL model, its encoder vs each STL encoder (last
    layer, mean over layers) and its decoders vs their STL counterparts (mean over layers); one
    family, Bonferroni-adjusted."""
    wanted = []
    for x in mtls:
        ks, km = f"{x.tag}_vs_stl_surface", f"{x.tag}_vs_stl_meaning"
        wanted.append((x.tag, "encoder_last", encoder[ks], encoder[km], ks, km, -1,
                       "MTL encoder last layer: CKA vs STL-surface minus CKA vs STL-meaning"))
        wanted.append((x.tag, "encoder_mean", encoder[ks], encoder[km], ks, km, None,
                       "MTL encoder, mean over layers: CKA vs STL-surface minus CKA vs STL-meaning"))
        ds, dm = decoder[x.tag]["surface"], decoder[x.tag]["meaning"]
        wanted.append((x.tag, "decoder_mean", ds, dm, f"dec:{x.tag}:surface", f"dec:{x.tag}:meaning", None,
                       "decoders, mean over layers: CKA(MTL surface, STL surface) minus CKA(MTL meaning, STL meaning)"))
    out = []
    for tag, name, ra, rb, ka, kb, layer, what in wanted:
        reps_a, reps_b = pairs.reps.get(ka), pairs.reps.get(kb)
        if layer is not None and reps_a is not None and reps_b is not None:
            reps_a, reps_b = reps_a[layer], reps_b[layer]
        elif reps_a is not None and reps_b is not None:
            reps_a, reps_b = cka_pairs.mean_over_layers(reps_a), cka_pairs.mean_over_layers(reps_b)
        rec = cka_pairs.difference(_at(ra, layer), _at(rb, layer), reps_a, reps_b, len(wanted), what)
        out.append({"mtl": tag, "name": name, **rec})
        if keep is not None:  # for the interval over seeds: the same comparison of every seed's group
            keep[(seed_of(tag)[0], name)] = (rec["diff"], None if reps_a is None or reps_b is None
                                             else reps_a - reps_b, what)
    return out


# ------------------------------------------------------------------ one group


def analyse_group(name: str, group: dict, args, utt_ids: List[str], load_utts: Callable,
                  speakers: Optional[Sequence[str]] = None, keep: Optional[dict] = None) -> dict:
    """Everything stage 10 reports on one group; ``keep`` receives the CKA differences' bootstrap
    replicates (for :func:`cka_over_seeds`)."""
    s, m, mtls = group["stl_surface"], group["stl_meaning"], group["mtl"]
    t0 = time.time()
    # 4 first: a θ0 mismatch must fail before minutes of forwarding
    log.info("[%s] task vectors: checking θ0 of %s and %s", name, s.tag, m.tag)
    task_vectors.check_same_init(s.dir / "init.pth", m.dir / "init.pth")
    tv = task_vectors.task_vector_cosines(s.dir / "init.pth", s.dir / args.model_file, m.dir / args.model_file)
    for x in mtls:
        if (x.dir / "init.pth").is_file():
            try:
                task_vectors.check_same_init(s.dir / "init.pth", x.dir / "init.pth")
                tv.setdefault("mtl_same_init", {})[x.tag] = True
            except DataError:
                tv.setdefault("mtl_same_init", {})[x.tag] = False

    log.info("[%s] divergence analysis", name)
    data_dir = args.data_root / args.test_set
    div_path = data_dir / "utt2divergence"
    if not div_path.is_file():
        raise DataError(div_path, None, "not found (stage 4 computes it)")
    decoded = {}
    for info in [s, m] + mtls:
        decoded[info.tag] = {o: info.dir / args.inference_tag / args.test_set / o / "text" for o in info.tasks}
    # each output is judged by the headline metric stage 9 chose for its units (PER for phones)
    metrics = divergence_analysis.headlines_from_results(
        {x.tag: x.dir / "results.json" for x in [s, m] + mtls}, {x.tag: x.tasks for x in [s, m] + mtls},
        args.test_set)
    div = divergence_analysis.analyse(
        decoded, {o: data_dir / data_key(o) for o in PAIR}, read_divergence(div_path),
        {"surface": s.tag, "meaning": m.tag}, [x.tag for x in mtls], args.lang, args.bins, metrics,
        read_table(data_dir / "utt2spk") if (data_dir / "utt2spk").is_file() else None)
    div["results_json"] = {}
    for info in [s, m] + mtls:  # stage 9's totals, kept beside ours for a cross-check
        res = json.loads((info.dir / "results.json").read_text(encoding="utf-8"))[args.test_set]
        div["results_json"][info.tag] = {o: {k: res[o][k] for k in ("cer", "wer")} | {"headline": res[o]["headline"]}
                                         for o in info.tasks}

    states = {}
    for info in [s, m] + mtls:
        loader = model_loader(info, args.model_file, args.device)
        states[info.tag] = hidden_states.hidden_states(
            lambda loader=loader: loader()[:2], info.dir / args.model_file, args.out_dir / "feats" / info.tag,
            load_utts, utt_ids, args.max_frames, args.seed, info.tag)

    log.info("[%s] CKA", name)
    speakers = list(speakers) if speakers is not None else list(utt_ids)
    st = cka_pairs.Settings(speaker_blocked_weights(speakers, args.cka_bootstrap, args.seed),
                            args.cka_permutations, args.seed, blocks_label(speakers))
    pairs = _Pairs(st, states, len(utt_ids))
    enc = {tag: _layers(st_, "enc.") for tag, st_ in states.items()}
    n_layers = max(len(v) for v in enc.values())
    encoder_cka = {"layers": [str(i) for i in range(n_layers)], "pairs": {}}
    encoder_cka["pairs"]["stl_surface_vs_stl_meaning"] = pairs.pair(
        "stl_surface_vs_stl_meaning", enc[s.tag], enc[m.tag], s.tag, m.tag,
        pairs.rows(s.tag, "enc"), pairs.rows(m.tag, "enc"))
    # an SSL front end's layers (ssl.<i>), where the models have one: the same pairs as the encoder's
    ssl = {tag: _layers(st_, "ssl.") for tag, st_ in states.items()}
    ssl_cka = {"pairs": {f"{a.tag}_vs_{b.tag}": pairs.pair(f"ssl:{a.tag}_vs_{b.tag}", ssl[a.tag], ssl[b.tag],
                                                           a.tag, b.tag, pairs.rows(a.tag, "ssl"),
                                                           pairs.rows(b.tag, "ssl"))
                         for a, b in [(s, m)] + [(x, y) for x in mtls for y in (s, m)]}} \
        if any(ssl.values()) else None
    context_cka, decoder_cka = {}, {}
    encoder_cka["own_paths"] = {}  # does the model have an encoder path per output (partial, moe)?
    for x in mtls:
        # each output's own encoder path (differs from the other's above a task split)
        path = {o: _layers(states[x.tag], f"enc.{o}.") or enc[x.tag] for o in PAIR}
        for o, stl in (("surface", s), ("meaning", m)):
            key = f"{x.tag}_vs_stl_{o}"
            encoder_cka["pairs"][key] = pairs.pair(key, path[o], enc[stl.tag], x.tag, stl.tag,
                                                   pairs.rows(x.tag, "enc"), pairs.rows(stl.tag, "enc"))
        encoder_cka["own_paths"][x.tag] = bool(_layers(states[x.tag], "enc.surface."))
        if encoder_cka["own_paths"][x.tag]:
            key = f"{x.tag}:surface_vs_{x.tag}:meaning"
            encoder_cka["pairs"][key] = pairs.pair(key, path["surface"], path["meaning"], f"{x.tag}:surface",
                                                   f"{x.tag}:meaning", pairs.rows(x.tag, "enc"),
                                                   pairs.rows(x.tag, "enc"))
        ctx_s, ctx_m = _layers(states[x.tag], "ctxmean.surface."), _layers(states[x.tag], "ctxmean.meaning.")
        context_cka[x.tag] = pairs.pair(f"ctx:{x.tag}", ctx_s, ctx_m, f"{x.tag}:surface", f"{x.tag}:meaning",
                                        pairs.rows(x.tag, "ctxmean"), pairs.rows(x.tag, "ctxmean"))
        context_cka[x.tag]["unit"] = "utterance (context averaged over tokens)"
        decoder_cka[x.tag] = {}
        for o, stl in (("surface", s), ("meaning", m)):
            decoder_cka[x.tag][o] = pairs.pair(
                f"dec:{x.tag}:{o}", _layers(states[x.tag], f"dec.{o}."), _layers(states[stl.tag], f"dec.{o}."),
                f"{x.tag}:{o}", f"{stl.tag}:{o}", pairs.rows(x.tag, f"dec.{o}"), pairs.rows(stl.tag, f"dec.{o}"))
            decoder_cka[x.tag][o]["unit"] = "token position (teacher forcing)"
    comparisons = _comparisons(pairs, encoder_cka["pairs"], decoder_cka, mtls, keep)
    cka_settings = {"estimator": "debiased linear CKA (unbiased HSIC, Song et al. 2012)",
                    "interval": st.method, "n_speakers": len(set(speakers)), "n_utts": len(speakers),
                    "null": f"{st.n_perm} permutations of the utterance pairing, at the last layer of each pair",
                    "family": f"{len(comparisons)} CKA differences of this group, Bonferroni-adjusted"}

    grad = {x.tag: skipped("--grad_batches 0") for x in mtls}
    if args.grad_batches > 0:
        for x in mtls:
            log.info("[%s] gradient conflict of %s on %d batches of %s", name, x.tag, args.grad_batches,
                     args.train_set)
            model, preprocess, collate_fn = model_loader(x, args.model_file, args.device)()
            import torch

            torch.manual_seed(args.seed)
            grad[x.tag] = gradient_conflict.gradient_cosines(
                model, preprocess, collate_fn, args.data_root / args.train_set, args.grad_batches,
                args.grad_batch_size, args.seed, progress=lambda msg, t=x.tag: log.info("%s: %s", t, msg))
            del model
    log.info("[%s] error following on the twin set %s", name, args.twin_set or "(none)")
    following = twin_following.error_following(group, args.data_root, args.twin_set, args.inference_tag,
                                               args.twin_bootstrap, args.seed)
    if "skipped" in following:
        log.info("[%s] error following skipped: %s", name, following["skipped"])
    log.info("[%s] twin distance per encoder layer", name)
    distance = twin_distance.twin_distance(group, args, lambda info: model_loader(info, args.model_file, args.device))
    log.info("[%s] done in %.1f s", name, time.time() - t0)
    return {"stl_surface": s.tag, "stl_meaning": m.tag, "mtl": [x.tag for x in mtls],
            "divergence": div, "encoder_cka": encoder_cka, "context_cka": context_cka,
            "decoder_cka": decoder_cka, "cka_comparisons": comparisons, "cka_settings": cka_settings,
            "task_vectors": tv, "gradient_conflict": grad, "error_following": following,
            "twin_distance": distance,
            **({"ssl_cka": ssl_cka} if ssl_cka else {}),
            "n_encoder_frames": int(enc[s.tag][0].shape[0]) if enc[s.tag] else 0}


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
