"""Joint CTC/attention beam search over several utterances at once (utterances x beam rows).

ESPnet 202511's ``BatchBeamSearch`` batches the hypotheses of *one* utterance; this search
runs the same algorithm for a batch of utterances in lock-step, built on ESPnet's own
pieces: the decoder's ``forward_one_step`` (with a memory mask for the padded encoder
outputs, its layer cache reordered in place of per-hypothesis states, and the memory's
source-attention projections computed once per batch: ``decoder_step``),
``CTCPrefixScoreTH`` (which scores several utterances natively) and ``end_detect``.

It reproduces ``BatchBeamSearch`` step for step so that the n-best lists match the
per-utterance search: weights, the pre-beam of ``int(1.5 * beam)`` tokens on the full
(decoder + length bonus) scores, the top ``beam`` of (running hypotheses x vocabulary),
ended hypotheses leaving the beam (so an utterance's beam shrinks as in ESPnet), ``<eos>``
forced at the utterance's last step, ``minlen`` and end detection per utterance. Each
utterance keeps ``beam`` slots; slots whose hypothesis ended hold ``-inf`` and are never
selected. Finished utterances leave the batch. Float results can differ from the
per-utterance search in the last bits (other matrix shapes), which can flip exact ties.

Kept although ESPnet >= 202609 batches utterances itself (``Speech2Text.batch_decode``): ours
feeds both outputs from one unpadded encoder pass per utterance (ESPnet's encodes the padded
batch, which by its own note can change conv2d-subsampled frames) and runs on ESPnet 202511.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import torch

from espnet_l2dual.compat.espnet1 import CTCPrefixScoreTH
from espnet_l2dual.compat.espnet1 import end_detect
from espnet_l2dual.compat.espnet1 import subsequent_mask
from espnet_l2dual.inference.decoder_step import MemoryProjections, forward_one_step, project_memory

NBest = List[Tuple[List[int], float]]
"""Per utterance: ``(token ids with <sos> ... <eos>, score)``, best first."""


@dataclass(frozen=True)
class SearchSpec:
    """What ``BatchBeamSearch`` is built with in ``Speech2DualText._build_search``."""

    beam_size: int
    ctc_weight: float
    penalty: float
    maxlenratio: float
    minlenratio: float
    sos: int
    eos: int
    blank: int
    vocab_size: int
    pre_beam_ratio: float = 1.5

    @property
    def pre_beam_size(self) -> int:
        return int(self.pre_beam_ratio * self.beam_size)

    @property
    def do_pre_beam(self) -> bool:
        return self.ctc_weight > 0.0 and self.pre_beam_size < self.vocab_size

    def length_bounds(self, frames: int) -> Tuple[int, int]:
        """``(maxlen, minlen)`` of an utterance of ``frames`` encoder frames, as ``BeamSearch.forward``."""
        r = self.maxlenratio
        maxlen = frames if r == 0 else (-int(r) if r < 0 else max(1, int(r * frames)))
        minlen = -int(self.minlenratio) if self.minlenratio < 0 else int(self.minlenratio * frames)
        return maxlen, minlen


def supports(decoder: torch.nn.Module) -> bool:
    """Decoders this search can step: ESPnet's transformer family (``forward_one_step`` + ``decoders``)."""
    return hasattr(decoder, "forward_one_step") and hasattr(decoder, "decoders")


class _Ctc:
    """CTCPrefixScoreTH over the active utterances; rebuilt when some of them finish."""

    def __init__(self, logp: torch.Tensor, lens: torch.Tensor, spec: SearchSpec) -> None:
        self.logp, self.lens, self.spec = logp, lens, spec
        self.impl: Optional[CTCPrefixScoreTH] = None
        self.state = None

    def start(self, active: torch.Tensor) -> None:
        # CTCPrefixScoreTH pads its input in place: give it a copy
        self.impl = CTCPrefixScoreTH(self.logp[active].clone(), self.lens[active], self.spec.blank, self.spec.eos)

    def score(self, yseq: torch.Tensor, part_ids: Optional[torch.Tensor]) -> torch.Tensor:
        local, self.state = self.impl(yseq, self.state, part_ids)
        return local

    def select(self, best_ids: torch.Tensor) -> None:
        """Keep the states of the chosen (slot, token) per utterance (ids into slots x vocabulary)."""
        self.state = self.impl.index_select_state(self.state, best_ids)

    def permute(self, rows: torch.Tensor, active: torch.Tensor) -> None:
        r, s, f_min, f_max = self.state
        self.state = (r[:, :, rows], s[rows], f_min, f_max)
        if active is not None:
            self.start(active)


@torch.no_grad()
def batch_beam_search(decoder: torch.nn.Module, ctc: Optional[torch.nn.Module], enc: torch.Tensor,
                      enc_lens: torch.Tensor, spec: SearchSpec) -> List[NBest]:
    """N-best of every utterance of ``enc: (B, T, D)`` (valid frames ``enc_lens``); [] where none ended."""
    device = enc.device
    n_utt, t_max, _ = enc.shape
    k, v = spec.beam_size, spec.vocab_size
    bounds = [spec.length_bounds(int(n)) for n in enc_lens]
    w_dec, w_ctc = 1.0 - spec.ctc_weight, spec.ctc_weight
    ctc_scorer = None
    if w_ctc > 0.0:
        ctc_scorer = _Ctc(ctc.log_softmax(enc), enc_lens, spec)
    ended: List[List[Tuple[torch.Tensor, float]]] = [[] for _ in range(n_utt)]

    active = torch.arange(n_utt, device=device)  # utterances still searching, in batch order
    yseq = torch.full((n_utt * k, 1), spec.sos, dtype=torch.long, device=device)
    score = torch.full((n_utt, k), float("-inf"), dtype=enc.dtype, device=device)
    score[:, 0] = 0.0  # one running hypothesis to start with, like BeamSearch.init_hyp
    cache: Optional[List[torch.Tensor]] = None
    frame_mask = torch.arange(t_max, device=device)[None, :] < enc_lens.to(device)[:, None]  # (B, T)
    if ctc_scorer is not None:
        ctc_scorer.start(active)

    def expanded(sel: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, Optional[MemoryProjections]]:
        memory = enc[sel].repeat_interleave(k, 0)
        # the memory's source-attention keys and values, once per batch of utterances, not at every step
        return memory, frame_mask[sel].repeat_interleave(k, 0).unsqueeze(1), project_memory(decoder, memory)

    memory, memory_mask, projections = expanded(active)
    step = 0
    while active.numel() > 0:
        n_act = active.numel()
        ys_mask = subsequent_mask(step + 1, device=device).unsqueeze(0)
        dec_logp, cache = forward_one_step(decoder, yseq, ys_mask, memory, memory_mask, cache, projections)
        weighted = torch.zeros(n_act * k, v, dtype=enc.dtype, device=device)
        if w_dec != 0.0:
            weighted += w_dec * dec_logp
        if spec.penalty != 0.0:  # ESPnet's LengthBonus scores every token 1
            weighted += spec.penalty
        part_ids = torch.topk(weighted, spec.pre_beam_size, dim=-1)[1] if spec.do_pre_beam else None
        if ctc_scorer is not None:
            weighted += w_ctc * ctc_scorer.score(yseq, part_ids)
        weighted += score.view(-1, 1)
        top_score, top_ids = weighted.view(n_act, k * v).topk(k, dim=-1)  # (A, K)
        prev_slot = torch.div(top_ids, v, rounding_mode="trunc")
        token = top_ids % v
        rows = (prev_slot + torch.arange(n_act, device=device)[:, None] * k).view(-1)
        yseq = torch.cat([yseq[rows], token.view(-1, 1)], dim=1)
        if ctc_scorer is not None:
            ctc_scorer.select(top_ids)

        # post-process: ended hypotheses leave the beam; the rest move to the front slots
        keep_rows: List[int] = []
        new_score = torch.full((n_act, k), float("-inf"), dtype=enc.dtype, device=device)
        still: List[int] = []
        tokens, scores = token.tolist(), top_score.tolist()
        for a in range(n_act):
            b = int(active[a])
            maxlen, minlen = bounds[b]
            last = step == maxlen - 1
            kept = []
            for slot in range(k):
                if scores[a][slot] == float("-inf"):
                    continue
                if tokens[a][slot] == spec.eos or last:
                    if step >= minlen:
                        seq = yseq[a * k + slot]
                        if last:  # BatchBeamSearch appends <eos> to every hypothesis at the last step
                            seq = torch.cat([seq, seq.new_tensor([spec.eos])])
                        ended[b].append((seq, scores[a][slot]))
                else:
                    kept.append(slot)
            done = last or not kept or (spec.maxlenratio == 0.0 and end_detect(
                [{"yseq": s, "score": sc} for s, sc in ended[b]], step))
            if done:
                continue
            for j, slot in enumerate(kept):
                new_score[len(still), j] = top_score[a, slot]
            keep_rows += [a * k + slot for slot in kept] + [a * k + kept[0]] * (k - len(kept))
            still.append(a)
        if not still:
            break
        keep = torch.tensor(keep_rows, dtype=torch.long, device=device)
        score = new_score[: len(still)]
        yseq = yseq[keep]
        cache = [c[rows[keep]] for c in cache]  # the beam's choice and the compaction in one gather
        shrunk = len(still) < n_act
        if shrunk:
            active = active[torch.tensor(still, dtype=torch.long, device=device)]
            memory, memory_mask, projections = expanded(active)
        if ctc_scorer is not None:
            ctc_scorer.permute(keep, active if shrunk else None)
        step += 1
    out: List[NBest] = []
    for hyps in ended:
        ordered = sorted(hyps, key=lambda h: h[1], reverse=True)
        out.append([(seq.tolist(), float(sc)) for seq, sc in ordered])
    return out


def pad_frames(frames: Sequence[torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor]:
    """Stack ``(T_i, D)`` encoder outputs into zero-padded ``(B, T_max, D)`` with their lengths."""
    lens = torch.tensor([f.size(0) for f in frames], dtype=torch.long, device=frames[0].device)
    return torch.nn.utils.rnn.pad_sequence(list(frames), batch_first=True), lens
