"""Dual attention between the two decoders (parallel dual-decoder, after Le et al. 2020).

Why: in plain MTL the outputs meet only in the shared encoder, so the encoder
must carry whatever one decoder could learn from the other.  With dual
attention each decoder layer also attends to the other decoder's hidden states
of the same layer, so the surface decoder can read what the meaning decoder is
writing (and vice versa) without pulling the encoder towards one task.

Both decoders advance one token per step (synchronous, "parallel" variant):
position t of one decoder sees positions 0..t of the other.  A decoder that has
finished keeps reading ``<eos>`` so its states stay defined; in training the
shorter input is padded with ``<eos>`` to the common length (the padded targets
are ignored by the loss).  Decoding therefore needs a joint beam search over
pairs of prefixes (``joint_beam_search``).

The decoders are ESPnet ``TransformerDecoder`` instances used as they are
(embedding, layers, final norm, output layer); this module adds, per output and
layer, a pre-norm multi-head attention over the other decoder's states with a
residual connection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Protocol, Sequence, Tuple

import numpy as np
import torch

from espnet_l2dual.compat.espnet1 import CTCPrefixScore
from espnet_l2dual.compat.espnet1 import make_pad_mask
from espnet_l2dual.compat.espnet1 import MultiHeadedAttention
from espnet_l2dual.compat.espnet1 import LayerNorm
from espnet_l2dual.compat.espnet1 import subsequent_mask

from espnet_l2dual.methods.abs_decoder_coupling import AbsDecoderCoupling
from espnet_l2dual.outputs import PAIR


def check_decoders(decoders: Mapping[str, torch.nn.Module]) -> int:
    """Both outputs need transformer-style decoders with the same width and depth; returns the depth."""
    missing = [o for o in PAIR if o not in decoders]
    if missing:
        raise ValueError(f"decoder_coupling: dual_attention needs both decoders (ctc_weight < 1); missing: {', '.join(missing)}")
    shapes = set()
    for o in PAIR:
        dec = decoders[o]
        layers = getattr(dec, "decoders", None)
        if layers is None or not hasattr(dec, "embed") or getattr(dec, "output_layer", None) is None:
            raise ValueError(f"decoder_coupling: dual_attention: the {o} decoder must be a transformer decoder "
                             f"(embed, decoders, output_layer), got {type(dec).__name__}")
        shapes.add((len(layers), layers[0].size))
    if len(shapes) != 1:
        raise ValueError(f"decoder_coupling: dual_attention: the two decoders must have the same "
                         f"number of blocks and size, got {sorted(shapes)}")
    return shapes.pop()[0]


class DualAttention(AbsDecoderCoupling):
    """``decoder_coupling: dual_attention``, ``decoder_coupling_conf: {attention_heads, dropout_rate}``.

    Per output and decoder layer: x <- x + dropout(MHA(norm(x), norm'(other), norm'(other))).
    """

    def __init__(self, decoders: Mapping[str, torch.nn.Module], tasks: Sequence[str] = PAIR,
                 attention_heads: int = 4, dropout_rate: float = 0.1) -> None:
        super().__init__()
        if list(tasks) != list(PAIR):
            raise ValueError(f"decoder_coupling: dual_attention needs both outputs in model_conf.tasks, got {list(tasks)}")
        num_blocks = check_decoders(decoders)
        size = decoders[PAIR[0]].decoders[0].size
        self.attn = torch.nn.ModuleDict({
            o: torch.nn.ModuleList(MultiHeadedAttention(attention_heads, size, dropout_rate)
                                   for _ in range(num_blocks)) for o in PAIR})
        self.norm = torch.nn.ModuleDict({
            o: torch.nn.ModuleList(LayerNorm(size) for _ in range(num_blocks)) for o in PAIR})
        # keys/values are normalised too: the other decoder's residual stream is unnormalised
        # (scaled embeddings), and attending to it raw gave peaky attention and exploding
        # gradients in training (grad norm 100-470 vs ~50 for plain MTL, Korean tiny config)
        self.norm_kv = torch.nn.ModuleDict({
            o: torch.nn.ModuleList(LayerNorm(size) for _ in range(num_blocks)) for o in PAIR})
        self.dropout = torch.nn.Dropout(dropout_rate)

    def forward(self, decoders: Mapping[str, torch.nn.Module],
                memories: Mapping[str, Tuple[torch.Tensor, torch.Tensor]],
                ys_in: Mapping[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Logits ``(B, T, V_o)`` per output for inputs ``ys_in[o]: (B, T)`` of one common length T.

        Every input position is real (padding is ``<eos>``), so the masks are causal only.
        """
        lengths = {ys.size(1) for ys in ys_in.values()}
        if len(lengths) != 1:
            raise ValueError(f"dual attention needs inputs of one length, got {sorted(lengths)}")
        t = lengths.pop()
        causal = subsequent_mask(t, device=ys_in[PAIR[0]].device).unsqueeze(0)
        mem_masks = {o: (~make_pad_mask(lens, maxlen=mem.size(1)))[:, None, :].to(mem.device)
                     for o, (mem, lens) in memories.items()}
        x = {o: decoders[o].embed(ys_in[o]) for o in PAIR}
        for i in range(len(decoders[PAIR[0]].decoders)):
            h = {o: decoders[o].decoders[i](x[o], causal, memories[o][0], mem_masks[o])[0] for o in PAIR}
            x = {}
            for o, other in (PAIR, PAIR[::-1]):
                q, kv = self.norm[o][i](h[o]), self.norm_kv[o][i](h[other])
                x[o] = h[o] + self.dropout(self.attn[o][i](q, kv, kv, causal))
        out = {}
        for o in PAIR:
            y = decoders[o].after_norm(x[o]) if decoders[o].normalize_before else x[o]
            out[o] = decoders[o].output_layer(y)
        return out

    def step(self, decoders: Mapping[str, torch.nn.Module],
             memories: Mapping[str, Tuple[torch.Tensor, torch.Tensor]], ys_in: Mapping[str, torch.Tensor],
             cache: Optional[Dict[str, List[Tuple[torch.Tensor, torch.Tensor]]]] = None
             ) -> Tuple[Dict[str, torch.Tensor], Dict[str, List[Tuple[torch.Tensor, torch.Tensor]]]]:
        """Incremental :meth:`forward` for search: log-probabilities of the next token per output
        ``(B, V_o)`` for prefixes ``ys_in[o]: (B, t)``, and the cache for prefixes one longer.

        ``cache[o][i] = (h, x)``: layer i's output before and after the dual attention at the
        ``t - 1`` earlier positions. Only the last position is computed: the decoder layer with
        ESPnet's own layer cache, the dual attention for the last query over the other decoder's
        positions (the last row of :meth:`forward`'s causal mask), so the result equals
        :meth:`forward`'s last position.
        """
        t = ys_in[PAIR[0]].size(1)
        causal = subsequent_mask(t, device=ys_in[PAIR[0]].device).unsqueeze(0)
        mem_masks = {o: (~make_pad_mask(lens, maxlen=mem.size(1)))[:, None, :].to(mem.device)
                     for o, (mem, lens) in memories.items()}
        inp = {o: decoders[o].embed(ys_in[o]) for o in PAIR}
        new_cache: Dict[str, List[Tuple[torch.Tensor, torch.Tensor]]] = {o: [] for o in PAIR}
        for i in range(len(decoders[PAIR[0]].decoders)):
            h = {o: decoders[o].decoders[i](inp[o], causal, memories[o][0], mem_masks[o],
                                            cache=None if cache is None else cache[o][i][0])[0] for o in PAIR}
            for o, other in (PAIR, PAIR[::-1]):
                q, kv = self.norm[o][i](h[o][:, -1:]), self.norm_kv[o][i](h[other])
                last = h[o][:, -1:] + self.dropout(self.attn[o][i](q, kv, kv, None))
                x = last if cache is None else torch.cat([cache[o][i][1], last], dim=1)
                new_cache[o].append((h[o], x))
            inp = {o: new_cache[o][i][1] for o in PAIR}
        out = {}
        for o in PAIR:
            y = inp[o][:, -1]
            y = decoders[o].after_norm(y) if decoders[o].normalize_before else y
            out[o] = torch.log_softmax(decoders[o].output_layer(y), dim=-1)
        return out, new_cache

    def joint_beam_search(self, decoders, memories, ctcs, sos, eos, blank, opts) -> list:
        return joint_beam_search(self, decoders, memories, ctcs, sos, eos, blank, opts)


# ------------------------------------------------------------------ joint beam search


@dataclass
class _Side:
    """One output's half of a joint hypothesis."""

    ys: List[int]
    score: float = 0.0  # weighted att + ctc + length bonus, summed over steps
    ctc_state: Optional[Tuple[np.ndarray, float]] = None  # (prefix forward vars r, prefix score)
    ended: bool = False


@dataclass
class JointHyp:
    sides: Dict[str, _Side] = field(default_factory=dict)
    parent: int = 0  # row of the previous step's running hypotheses it extends (decoder cache row)

    @property
    def score(self) -> float:
        return sum(s.score for s in self.sides.values())


class SearchOptions(Protocol):
    """The search settings the joint search reads (``l2dual_inference.DecodeOptions`` has them)."""

    beam_size: int
    ctc_weight: float
    penalty: float
    maxlenratio: float
    nbest: int


def _candidates(side: _Side, logp: torch.Tensor, ctc: Optional[CTCPrefixScore], eos: int,
                opts: SearchOptions, last_step: bool) -> List[Tuple[float, int, Optional[tuple], bool]]:
    """Scored continuations ``(delta, token, ctc_state, ended)`` of one output's prefix."""
    if side.ended:
        return [(0.0, eos, side.ctc_state, True)]
    if last_step:  # forced end at maxlen
        ids = np.array([eos])
    else:
        k = min(logp.numel(), max(opts.beam_size, int(1.5 * opts.beam_size)))
        ids = torch.topk(logp, k).indices.numpy()
    att = logp[torch.as_tensor(ids)].numpy()  # logp: one CPU row (the search moves it there once)
    delta = (1.0 - opts.ctc_weight) * att if ctc is not None else att.copy()
    states: List[Optional[tuple]] = [None] * len(ids)
    if ctc is not None:
        r_prev, psi_prev = side.ctc_state
        psi, r = ctc(side.ys, ids, r_prev)
        delta = delta + opts.ctc_weight * (psi - psi_prev)
        states = [(r[j], float(psi[j])) for j in range(len(ids))]  # r: (labels, T, 2)
    delta = delta + opts.penalty
    order = np.argsort(-delta)[: opts.beam_size]
    return [(float(delta[j]), int(ids[j]), states[j], int(ids[j]) == eos) for j in order]


@torch.no_grad()
def joint_beam_search(dual: DualAttention, decoders: Mapping[str, torch.nn.Module],
                      memories: Mapping[str, torch.Tensor], ctcs: Mapping[str, torch.nn.Module],
                      sos: Mapping[str, int], eos: Mapping[str, int], blank: Mapping[str, int],
                      opts: SearchOptions) -> List[JointHyp]:
    """Beam search over pairs of prefixes, one token per output per step; n-best, best first.

    ``memories[o]: (T_o, D)`` is one utterance's encoder output for output o.
    Each side's score is ``(1 - ctc_weight) * log p_att + ctc_weight * log p_ctc(prefix)
    + penalty`` per token (ESPnet's joint decoding), the hypothesis score is the sum of
    the two sides.  A side that emitted ``<eos>`` stops scoring.
    """
    use_ctc = opts.ctc_weight > 0.0
    device = memories[PAIR[0]].device
    ctc_scorers: Dict[str, Optional[CTCPrefixScore]] = {}
    for o in PAIR:
        ctc_scorers[o] = None
        if use_ctc:  # ESPnet's numpy prefix scorer: its input on the CPU, whatever the model's device
            logp = ctcs[o].log_softmax(memories[o].unsqueeze(0))[0].cpu().numpy()
            ctc_scorers[o] = CTCPrefixScore(logp, blank[o], eos[o], np)
    t_max = max(m.size(0) for m in memories.values())
    maxlen = t_max if opts.maxlenratio <= 0 else max(1, int(opts.maxlenratio * t_max))
    start = JointHyp({o: _Side([sos[o]], ctc_state=(ctc_scorers[o].initial_state(), 0.0) if use_ctc else None)
                      for o in PAIR})
    running, ended = [start], []
    mem = {o: (memories[o].unsqueeze(0), torch.tensor([memories[o].size(0)], device=device)) for o in PAIR}
    cache = None
    for step in range(maxlen + 1):
        n = len(running)
        ys_in = {o: torch.tensor([h.sides[o].ys for h in running], device=device) for o in PAIR}
        batch_mem = {o: (m.expand(n, -1, -1), lens.expand(n)) for o, (m, lens) in mem.items()}
        if cache is not None:  # the rows of the hypotheses kept, in their order
            rows = torch.tensor([h.parent for h in running], device=device)
            cache = {o: [(h[rows], x[rows]) for h, x in layers] for o, layers in cache.items()}
        logp_dev, cache = dual.step(decoders, batch_mem, ys_in, cache)
        logp = {o: v.cpu() for o, v in logp_dev.items()}
        expanded: List[JointHyp] = []
        for b, hyp in enumerate(running):
            cands = {o: _candidates(hyp.sides[o], logp[o][b], ctc_scorers[o], eos[o], opts, step == maxlen)
                     for o in PAIR}
            for ds, ts, ss, es in cands[PAIR[0]]:
                for dm, tm, sm, em in cands[PAIR[1]]:
                    sides = {}
                    for o, d, t, s, e in ((PAIR[0], ds, ts, ss, es), (PAIR[1], dm, tm, sm, em)):
                        old = hyp.sides[o]
                        sides[o] = _Side(old.ys + [t], old.score + d, s, e)
                    expanded.append(JointHyp(sides, parent=b))
        expanded.sort(key=lambda h: h.score, reverse=True)
        running = []
        for h in expanded[: opts.beam_size]:
            (ended if all(s.ended for s in h.sides.values()) else running).append(h)
        if not running or (len(ended) >= opts.beam_size
                           and max(h.score for h in ended) > running[0].score):
            break
    ended.sort(key=lambda h: h.score, reverse=True)
    return ended[: opts.nbest] or running[: opts.nbest]


def strip_ids(ys: Sequence[int], sos: int, eos: int, blank: int = 0) -> List[int]:
    """Token ids of a finished side: no ``<sos>``, ``<eos>`` padding or blank."""
    return [i for i in ys[1:] if i not in (sos, eos, blank)]
