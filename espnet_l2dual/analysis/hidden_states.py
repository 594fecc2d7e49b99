"""Collect layer-wise hidden states of a dual model on test utterances, cached as kaldiio ark/scp.

CKA compares representations of the *same* examples, so every model sees the same
utterances and keeps the same frames: a frame subsample drawn from a generator
seeded by (seed, utterance id), with a per-utterance quota that caps the total at
``max_frames``.  Only the kept rows are stored, so memory is bounded by the subsample.

What is recorded (forward hooks, ``model.eval()``, hence no specaug and no dropout;
decoders run under teacher forcing with the reference tokens):

- ``ssl.<i>``            output of transformer layer i of an SSL front end (``--frontend ssl``),
                         at kept SSL frames (their own subsample: SSL frames are not encoder frames);
- ``enc.<i>``            output of encoder block i, at the kept encoder frames (a block
                         that runs once per task, e.g. a routed expert block, is
                         recorded on its first call, the surface path);
- ``dec.<o>.<i>``        output of decoder layer i of output o, at the kept token positions;
- ``ctx.<o>.<i>``        the source-attention context vector of that layer (what the
                         decoder reads from the shared encoder), at the kept token positions;
- ``ctxmean.<o>.<i>``    that context averaged over the utterance's tokens, one row per
                         utterance: the surface and meaning decoders have different token
                         sequences, so they are compared per utterance;
- ``index.len.<kind>``   per utterance, the sequence length (``enc``, ``ssl``, ``dec.<o>``)
  ``index.rows.<kind>``  and the rows kept of it (rows are stored utterance by utterance),
  ``index.dur``          and the audio duration in seconds: two models' rows are the same
                         instants only where their lengths agree (same frame rate), and
                         intervals resample rows utterance by utterance.
"""

from __future__ import annotations

import json
import logging
import math
import os
import zlib
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch

from espnet_l2dual.errors import DataError
from espnet_l2dual.outputs import PAIR, data_key
from espnet_l2dual.utils.fileio import atomic_write, read_table

from espnet_l2dual.compat.espnet1 import add_sos_eos

log = logging.getLogger("espnet_l2dual.analysis")

CACHE_VERSION = 3


# ------------------------------------------------------------------ data


class Utterance:
    """One test utterance: 1-D speech samples and its reference texts per output."""

    def __init__(self, utt_id: str, speech: np.ndarray, texts: Mapping[str, str], rate: Optional[int] = None):
        self.utt_id = utt_id
        self.speech = speech
        self.texts = dict(texts)
        self.rate = rate  # samples per second, where known


def load_utterances(data_dir: Path, keys: Sequence[str]) -> List[Utterance]:
    """Read audio (any wav.scp entry, pipes included) and both texts of ``keys``."""
    from espnet_l2dual.audio.read import read_audio, to_mono

    wav_scp = data_dir / "wav.scp"
    if not wav_scp.is_file():
        raise DataError(wav_scp, None, "wav.scp not found")
    wavs = read_table(wav_scp)
    texts = {}
    for o in PAIR:
        path = data_dir / data_key(o)
        if not path.is_file():
            raise DataError(path, None, f"reference text of output '{o}' not found")
        texts[o] = read_table(path)
    out = []
    for key in keys:
        for o, table in texts.items():
            if key not in table:
                raise DataError(data_dir / f"text_{o}", None, f"utterance '{key}' has no text")
        if key not in wavs:
            raise DataError(wav_scp, None, f"utterance '{key}' has no audio")
        try:
            data, rate = read_audio(wavs[key])
        except Exception as e:  # soundfile / subprocess raise many types
            raise DataError(wav_scp, None, f"utterance '{key}': cannot read audio ({e})") from None
        out.append(Utterance(key, to_mono(data).astype(np.float32), {o: t[key] for o, t in texts.items()},
                             int(rate)))
    return out


def select_utterances(data_dir: Path, max_utts: int, seed: int) -> List[str]:
    """Up to ``max_utts`` ids of ``text_surface`` (sorted), drawn with ``seed`` when there are more."""
    keys = sorted(read_table(data_dir / "text_surface"))
    if max_utts and len(keys) > max_utts:
        rng = np.random.default_rng(seed)
        keys = sorted(rng.choice(keys, size=max_utts, replace=False).tolist())
    return keys


def tokenize(preprocess: Callable, utt: Utterance, tasks: Sequence[str]) -> Dict[str, np.ndarray]:
    """Token ids of the model's outputs, through the model's own preprocessor."""
    data = {"speech": utt.speech}
    data.update({f"text_{o}": utt.texts[o] for o in tasks})
    data = preprocess(utt.utt_id, data)
    return {o: np.asarray(data[f"text_{o}"], dtype=np.int64) for o in tasks}


# ------------------------------------------------------------------ frame subsample


def keep_indices(utt_id: str, length: int, quota: int, seed: int, salt: str) -> np.ndarray:
    """Sorted positions kept from a sequence of ``length``; the same for every model."""
    if length <= quota:
        return np.arange(length)
    rng = np.random.default_rng([seed, zlib.crc32(f"{salt}/{utt_id}".encode("utf-8"))])
    return np.sort(rng.choice(length, size=quota, replace=False))


def per_utt_quota(max_frames: int, n_utts: int) -> int:
    return max(1, math.ceil(max_frames / max(1, n_utts)))


# ------------------------------------------------------------------ hooks


def _first_tensor(out) -> torch.Tensor:
    """Encoder/decoder layers return tuples; rel-pos conformer blocks return ((x, pos), mask)."""
    while isinstance(out, (tuple, list)):
        out = out[0]
    return out


class _Recorder:
    """Forward hooks that keep every output of each named module during one forward.

    A task-routed (expert) block runs once per task, in ``tasks`` order, so its
    k-th call belongs to the k-th task.
    """

    def __init__(self) -> None:
        self.values: Dict[str, List[torch.Tensor]] = {}
        self.handles = []

    def watch(self, name: str, module: torch.nn.Module) -> None:
        def hook(_module, _inputs, output, _name=name):
            self.values.setdefault(_name, []).append(_first_tensor(output).detach())

        self.handles.append(module.register_forward_hook(hook))

    def close(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles = []


def frontend_layers(model) -> Sequence[torch.nn.Module]:
    """The layers of a front end that has them (the SSL front end's transformer layers), else none."""
    layers = getattr(getattr(model, "frontend", None), "layer_modules", None)
    return list(layers()) if callable(layers) else []


def encoder_blocks(model) -> Sequence[torch.nn.Module]:
    blocks = getattr(model.encoder, "encoders", None)
    if blocks is None:
        raise ValueError(f"encoder {type(model.encoder).__name__} has no 'encoders' blocks to analyse")
    return list(blocks)


def decoder_layers(model, o: str) -> Sequence[torch.nn.Module]:
    if o not in model.decoders:
        return []
    return list(getattr(model.decoders[o], "decoders", []))


def encoder_outputs(model, speech: torch.Tensor, lengths: torch.Tensor) -> Dict[str, Tuple[torch.Tensor, torch.Tensor]]:
    """What each output's decoder reads: ``encode_all`` where the model has task-specific
    encoder parts (partial sharing, projections), else the one shared ``encode``."""
    if hasattr(model, "encode_all"):
        return model.encode_all(speech, lengths)
    enc = model.encode(speech, lengths)
    return {o: enc for o in model.tasks}


def task_specific_encoder(model) -> bool:
    """True when the outputs' encoder paths differ (partial sharing, task-routed experts)."""
    return getattr(model, "task_split", None) is not None and hasattr(model, "task_encoder_blocks")


def run_decoders(model, encs, ys_in: Dict[str, torch.Tensor]) -> None:
    """Teacher-forced decoder pass(es) that fire the hooks: dual-attention decoders run
    together (inputs padded with <eos> to one length), others one by one."""
    if getattr(model, "decoder_coupling", None) is not None and len(ys_in) == 2:
        length = max(ys.shape[1] for ys in ys_in.values())
        padded = {o: torch.nn.functional.pad(ys, (0, length - ys.shape[1]), value=model.eos[o])
                  for o, ys in ys_in.items()}
        model.decoder_coupling(model.decoders, encs, padded)
        return
    for o, ys in ys_in.items():
        model.decoders[o](encs[o][0], encs[o][1], ys, torch.tensor([ys.shape[1]], device=ys.device))


@torch.no_grad()
def collect(model, preprocess: Callable, utterances: Sequence[Utterance], max_frames: int,
            seed: int, progress: Optional[Callable[[str], None]] = None) -> Dict[str, np.ndarray]:
    """Hidden states of ``model`` on ``utterances`` (one at a time), only the kept rows."""
    model.eval()
    tasks = list(model.tasks)
    rec = _Recorder()
    block_names: Dict[int, str] = {}
    for i, block in enumerate(encoder_blocks(model)):
        rec.watch(f"enc.{i}", block)
        block_names[id(block)] = f"enc.{i}"
    for i, layer in enumerate(frontend_layers(model)):
        rec.watch(f"ssl.{i}", layer)
    per_task = task_specific_encoder(model)
    for o in tasks if per_task else []:
        for i, block in enumerate(model.task_encoder_blocks(o)):
            if id(block) not in block_names:
                block_names[id(block)] = f"branch.{o}.{i}"
                rec.watch(block_names[id(block)], block)
    for o in tasks:
        for i, layer in enumerate(decoder_layers(model, o)):
            rec.watch(f"dec.{o}.{i}", layer)
            if getattr(layer, "src_attn", None) is not None:
                rec.watch(f"ctx.{o}.{i}", layer.src_attn)
    quota = per_utt_quota(max_frames, len(utterances))
    rows: Dict[str, List[np.ndarray]] = {}
    n_frames = {"enc": 0, **{o: 0 for o in tasks}}
    device = next(model.parameters()).device

    index: Dict[str, List[float]] = {}

    def keep_rows(name: str, value: torch.Tensor, keep: np.ndarray) -> None:
        rows.setdefault(name, []).append(value[0, keep].float().cpu().numpy())

    def note(kind: str, length: int, kept: int) -> None:
        index.setdefault(f"index.len.{kind}", []).append(float(length))
        index.setdefault(f"index.rows.{kind}", []).append(float(kept))

    try:
        for k, utt in enumerate(utterances):
            ids = tokenize(preprocess, utt, tasks)
            speech = torch.from_numpy(utt.speech).unsqueeze(0).to(device)
            lengths = torch.tensor([speech.shape[1]], device=device)
            rec.values.clear()
            encs = encoder_outputs(model, speech, lengths)
            enc, enc_lens = encs[tasks[0]]
            t = int(enc_lens[0])
            keep = keep_indices(utt.utt_id, t, quota, seed, "enc")
            note("enc", t, len(keep))
            index.setdefault("index.dur", []).append(utt.speech.shape[0] / utt.rate if utt.rate else float("nan"))
            ssl_noted = False
            for name, calls in list(rec.values.items()):
                if name.startswith("enc."):
                    keep_rows(name, calls[0], keep)
                elif name.startswith("ssl."):
                    keep_ssl = keep_indices(utt.utt_id, calls[0].shape[1], quota, seed, "ssl")
                    keep_rows(name, calls[0], keep_ssl)
                    if not ssl_noted:
                        note("ssl", int(calls[0].shape[1]), len(keep_ssl))
                        ssl_noted = True
            for o in tasks if per_task else []:  # the path each output's features take
                for i, block in enumerate(model.task_encoder_blocks(o)):
                    calls = rec.values[block_names[id(block)]]
                    keep_rows(f"enc.{o}.{i}", calls[tasks.index(o)] if len(calls) == len(tasks) else calls[0], keep)
            n_frames["enc"] += len(keep)
            ys_in = {}
            for o in tasks:
                if o in model.decoders:
                    ys = torch.from_numpy(ids[o]).unsqueeze(0).to(device)
                    ys_in[o] = add_sos_eos(ys, model.sos[o], model.eos[o], model.ignore_id)[0]
            run_decoders(model, encs, ys_in)
            for o, ys in ys_in.items():
                keep_tok = keep_indices(utt.utt_id, ys.shape[1], quota, seed, f"dec.{o}")
                note(f"dec.{o}", int(ys.shape[1]), len(keep_tok))
                for name, calls in list(rec.values.items()):
                    if name.startswith((f"dec.{o}.", f"ctx.{o}.")):
                        keep_rows(name, calls[0], keep_tok)
                    if name.startswith(f"ctx.{o}."):
                        mean_name = "ctxmean" + name[len("ctx"):]
                        value = calls[0][0, : ys.shape[1]]  # dual attention pads to a common length
                        rows.setdefault(mean_name, []).append(value.float().mean(0, keepdim=True).cpu().numpy())
                n_frames[o] += len(keep_tok)
            if progress is not None and ((k + 1) % 20 == 0 or k + 1 == len(utterances)):
                progress(f"{k + 1}/{len(utterances)} utterances, {n_frames['enc']} encoder frames kept")
    finally:
        rec.close()
    out = {name: np.concatenate(parts, axis=0).astype(np.float32) for name, parts in rows.items()}
    out.update({name: np.asarray([v], dtype=np.float32) for name, v in index.items()})  # [1, U] each
    return out


# ------------------------------------------------------------------ cache


def _meta(model_file: Path, utt_ids: Sequence[str], max_frames: int, seed: int) -> dict:
    st = model_file.stat()
    return {"version": CACHE_VERSION, "model_file": str(model_file.resolve()), "model_size": st.st_size,
            "model_mtime": st.st_mtime, "utts": list(utt_ids), "max_frames": max_frames, "seed": seed}


def load_cached(cache_dir: Path, model_file: Path, utt_ids: Sequence[str], max_frames: int,
                seed: int) -> Optional[Dict[str, np.ndarray]]:
    """The cached states when they were made from the same model file, utterances and subsample."""
    import kaldiio

    meta_path, scp = cache_dir / "meta.json", cache_dir / "feats.scp"
    if not (meta_path.is_file() and scp.is_file()):
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta != json.loads(json.dumps(_meta(model_file, utt_ids, max_frames, seed))):
        return None
    with kaldiio.ReadHelper(f"scp:{scp}") as reader:
        return {key: np.asarray(mat) for key, mat in reader}


def save_cache(cache_dir: Path, states: Mapping[str, np.ndarray], model_file: Path,
               utt_ids: Sequence[str], max_frames: int, seed: int) -> None:
    """Write ``feats.ark``/``feats.scp`` (one matrix per layer) and ``meta.json`` last, atomically."""
    import kaldiio

    cache_dir.mkdir(parents=True, exist_ok=True)
    meta_path = cache_dir / "meta.json"
    if meta_path.exists():
        meta_path.unlink()  # the cache is invalid until the new one is complete
    ark, scp = cache_dir / "feats.ark", cache_dir / "feats.scp"
    tmp_ark, tmp_scp = cache_dir / f".feats.ark.{os.getpid()}.tmp", cache_dir / f".feats.scp.{os.getpid()}.tmp"
    with kaldiio.WriteHelper(f"ark,scp:{tmp_ark},{tmp_scp}") as writer:
        for key in sorted(states):
            writer(key, np.ascontiguousarray(states[key], dtype=np.float32))
    tmp_ark.replace(ark)
    # the scp names the temporary ark: point it at the final one
    scp_text = tmp_scp.read_text(encoding="utf-8").replace(str(tmp_ark), str(ark))
    with atomic_write(scp) as f:
        f.write(scp_text)
    tmp_scp.unlink()
    with atomic_write(meta_path) as f:
        json.dump(_meta(model_file, utt_ids, max_frames, seed), f, indent=1)


def hidden_states(model_loader: Callable[[], Tuple[object, Callable]], model_file: Path,
                  cache_dir: Path, utterances: Callable[[], Sequence[Utterance]], utt_ids: Sequence[str],
                  max_frames: int, seed: int, tag: str) -> Dict[str, np.ndarray]:
    """Cached states of one model, or forward it (loading model and audio only when needed)."""
    cached = load_cached(cache_dir, model_file, utt_ids, max_frames, seed)
    if cached is not None:
        log.info("%s: hidden states from the cache %s", tag, cache_dir)
        return cached
    model, preprocess = model_loader()
    log.info("%s: forwarding %d utterances (<= %d frames kept)", tag, len(utt_ids), max_frames)
    states = collect(model, preprocess, utterances(), max_frames, seed,
                     progress=lambda msg: log.info("%s: %s", tag, msg))
    save_cache(cache_dir, states, model_file, utt_ids, max_frames, seed)
    return states
