"""Stage 10's steps: find the models in exp/, group them by size, analyse each group.

A model whose ``model_conf.tasks`` is ``[surface]`` is an STL-surface model, ``[meaning]``
STL-meaning, both: an MTL-like model. Each MTL-like model is analysed against the STL pair
of its size (divergence bins, encoder/context/decoder CKA, task vectors, gradient conflict);
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

from espnet_l2dual.analysis import cka, divergence_analysis, gradient_conflict, hidden_states
from espnet_l2dual.analysis import task_vectors
from espnet_l2dual.analysis.access import skipped
from espnet_l2dual.outputs import PAIR, check_tasks, data_key
from espnet_l2dual.scoring.by_divergence import read_divergence

log = logging.getLogger("espnet_l2dual.analysis")

SIZE_WORDS = ("tiny", "mini", "small", "medium", "base", "large", "full", "xl")


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


def _cka_pair(xs: List[np.ndarray], ys: List[np.ndarray], a: str, b: str) -> dict:
    """Diagonal and full layer x layer CKA of two models' layer lists, both estimators."""
    if not xs or not ys:
        return {"a": a, "b": b, "skipped": "no layers recorded"}
    if xs[0].shape[0] != ys[0].shape[0]:
        return {"a": a, "b": b, "skipped": f"different numbers of frames ({xs[0].shape[0]} vs {ys[0].shape[0]}): "
                "the models do not share the frame rate / tokenizer"}
    out = {"a": a, "b": b, "n": int(xs[0].shape[0])}
    for est in ("linear", "debiased"):
        if est == "debiased" and xs[0].shape[0] < 4:
            out[est] = None
            continue
        m = cka.cka_matrix(xs, ys, debiased=est == "debiased")
        out[est] = {"matrix": _clean(m.tolist()),
                    "diag": _clean([m[i, i] for i in range(min(m.shape))])}
    return out


def _clean(x):
    if isinstance(x, list):
        return [_clean(v) for v in x]
    return None if x is None or not np.isfinite(x) else float(x)


# ------------------------------------------------------------------ one group


def analyse_group(name: str, group: dict, args, utt_ids: List[str], load_utts: Callable) -> dict:
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
        {"surface": s.tag, "meaning": m.tag}, [x.tag for x in mtls], args.lang, args.bins, metrics)
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
    enc = {tag: _layers(st, "enc.") for tag, st in states.items()}
    n_layers = max(len(v) for v in enc.values())
    encoder_cka = {"layers": [str(i) for i in range(n_layers)],
                   "pairs": {"stl_surface_vs_stl_meaning": _cka_pair(enc[s.tag], enc[m.tag], s.tag, m.tag)}}
    # an SSL front end's layers (ssl.<i>), where the models have one: the same pairs as the encoder's
    ssl = {tag: _layers(st, "ssl.") for tag, st in states.items()}
    ssl_cka = {"pairs": {f"{a.tag}_vs_{b.tag}": _cka_pair(ssl[a.tag], ssl[b.tag], a.tag, b.tag)
                         for a, b in [(s, m)] + [(x, y) for x in mtls for y in (s, m)]}} \
        if any(ssl.values()) else None
    context_cka, decoder_cka = {}, {}
    encoder_cka["own_paths"] = {}  # does the model have an encoder path per output (partial, moe)?
    for x in mtls:
        # each output's own encoder path (differs from the other's above a task split)
        path = {o: _layers(states[x.tag], f"enc.{o}.") or enc[x.tag] for o in PAIR}
        encoder_cka["pairs"][f"{x.tag}_vs_stl_surface"] = _cka_pair(path["surface"], enc[s.tag], x.tag, s.tag)
        encoder_cka["pairs"][f"{x.tag}_vs_stl_meaning"] = _cka_pair(path["meaning"], enc[m.tag], x.tag, m.tag)
        encoder_cka["own_paths"][x.tag] = bool(_layers(states[x.tag], "enc.surface."))
        if encoder_cka["own_paths"][x.tag]:
            encoder_cka["pairs"][f"{x.tag}:surface_vs_{x.tag}:meaning"] = _cka_pair(
                path["surface"], path["meaning"], f"{x.tag}:surface", f"{x.tag}:meaning")
        ctx_s, ctx_m = _layers(states[x.tag], "ctxmean.surface."), _layers(states[x.tag], "ctxmean.meaning.")
        context_cka[x.tag] = _cka_pair(ctx_s, ctx_m, f"{x.tag}:surface", f"{x.tag}:meaning")
        context_cka[x.tag]["unit"] = "utterance (context averaged over tokens)"
        decoder_cka[x.tag] = {}
        for o, stl in (("surface", s), ("meaning", m)):
            decoder_cka[x.tag][o] = _cka_pair(_layers(states[x.tag], f"dec.{o}."), _layers(states[stl.tag], f"dec.{o}."),
                                              f"{x.tag}:{o}", f"{stl.tag}:{o}")
            decoder_cka[x.tag][o]["unit"] = "token position (teacher forcing)"

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
    log.info("[%s] done in %.1f s", name, time.time() - t0)
    return {"stl_surface": s.tag, "stl_meaning": m.tag, "mtl": [x.tag for x in mtls],
            "divergence": div, "encoder_cka": encoder_cka, "context_cka": context_cka,
            "decoder_cka": decoder_cka, "task_vectors": tv, "gradient_conflict": grad,
            **({"ssl_cka": ssl_cka} if ssl_cka else {}),
            "n_encoder_frames": int(enc[s.tag][0].shape[0]) if enc[s.tag] else 0}
