"""Collect layer-wise hidden states of a dual model on test utterances (cached by
:mod:`espnet_l2dual.analysis.feature_cache`).

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

from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from espnet_l2dual.analysis.frame_subsample import keep_indices, per_utt_quota
from espnet_l2dual.analysis.hooks import Recorder, decoder_layers, encoder_blocks, frontend_layers
from espnet_l2dual.analysis.utterances import Utterance, tokenize
from espnet_l2dual.compat.espnet1 import add_sos_eos


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
    rec = Recorder()
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
