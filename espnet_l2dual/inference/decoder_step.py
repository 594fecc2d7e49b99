"""One step of a transformer decoder whose source-attention keys and values are computed once.

ESPnet's ``DecoderLayer`` projects the encoder memory to source-attention keys and values
inside ``MultiHeadedAttention.forward``, at every step and for every hypothesis, although
the memory does not change while the batch of utterances does not: most of a step's cost.
``project_memory`` computes them once per memory; ``forward_one_step`` is
``BaseTransformerDecoder.forward_one_step`` (and ``DecoderLayer.forward``) with the source
attention done by ``_source_attention`` from those projections and the attention module's
own weights (``linear_q``, ``linear_out``, ``h``, ``d_k``, ``q_norm``/``k_norm``) and its
``forward_attention``. The operations are ESPnet's, on the same tensors, so the results
are identical to the bit. No module is patched: ESPnet's layer offers no way to hand its
attention precomputed keys and values, so the layer's forward (twenty lines) is restated
here, pinned to ESPnet's own output bit for bit by the tests.

Only the exact classes whose forward this reproduces qualify (``projects_memory``);
``forward_one_step`` falls back to the decoder's own for any other (a subclass that
overrides a forward, sequential attention, flash attention where ``flash_attn`` is
installed), with the same results.
"""

from __future__ import annotations

import math
import sys
from typing import List, Optional, Tuple

import torch
from espnet2.asr.decoder.transformer_decoder import BaseTransformerDecoder

from espnet_l2dual.compat.espnet1 import DecoderLayer, MultiHeadedAttention

MemoryProjections = List[Tuple[torch.Tensor, torch.Tensor]]
"""Per decoder layer: source-attention keys and values of the memory, ``(batch, head, time, d_k)`` each."""


def projects_memory(decoder: torch.nn.Module) -> bool:
    """Whether ``forward_one_step`` can use memory projections with this decoder (else it falls back)."""
    if not isinstance(decoder, BaseTransformerDecoder) or \
            type(decoder).forward_one_step is not BaseTransformerDecoder.forward_one_step:
        return False
    for layer in decoder.decoders:
        attn = getattr(layer, "src_attn", None)
        if type(layer).forward is not DecoderLayer.forward or getattr(layer, "sequential_attn", None) is not None:
            return False
        if not isinstance(attn, MultiHeadedAttention) or _uses_flash_attn(attn) or any(
                getattr(type(attn), m) is not getattr(MultiHeadedAttention, m)
                for m in ("forward", "forward_qkv", "forward_attention")):
            return False
    return True


def _uses_flash_attn(attn: torch.nn.Module) -> bool:
    """ESPnet's default ``use_flash_attn=True`` only counts where ``flash_attn`` imported: without it the
    attention takes its default path (and clears the flag at its first call)."""
    return bool(getattr(attn, "use_flash_attn", False)) and \
        hasattr(sys.modules[MultiHeadedAttention.__module__], "flash_attn_func")


def project_memory(decoder: torch.nn.Module, memory: torch.Tensor) -> Optional[MemoryProjections]:
    """Keys and values of ``memory: (batch, time, size)`` for every layer; None if the decoder does not qualify."""
    if not projects_memory(decoder):
        return None
    n_batch = memory.size(0)
    out = []
    for layer in decoder.decoders:
        attn = layer.src_attn
        k = attn.linear_k(memory).view(n_batch, -1, attn.h, attn.d_k).transpose(1, 2)
        v = attn.linear_v(memory).view(n_batch, -1, attn.h, attn.d_k).transpose(1, 2)
        out.append((attn.k_norm(k), v))
    return out


def forward_one_step(decoder: torch.nn.Module, tgt: torch.Tensor, tgt_mask: torch.Tensor, memory: torch.Tensor,
                     memory_mask: Optional[torch.Tensor], cache: Optional[List[torch.Tensor]],
                     projections: Optional[MemoryProjections]) -> Tuple[torch.Tensor, List[torch.Tensor]]:
    """``decoder.forward_one_step(tgt, tgt_mask, memory, memory_mask, cache=cache)``, from ``projections`` of
    ``memory`` where given (``project_memory``)."""
    if projections is None:
        return decoder.forward_one_step(tgt, tgt_mask, memory, memory_mask, cache=cache)
    x = decoder.embed(tgt)
    if cache is None:
        cache = [None] * len(decoder.decoders)
    new_cache = []
    for c, layer, kv in zip(cache, decoder.decoders, projections):
        x = _layer_step(layer, x, tgt_mask, kv, memory_mask, c)
        new_cache.append(x)
    y = decoder.after_norm(x[:, -1]) if decoder.normalize_before else x[:, -1]
    if decoder.output_layer is not None:
        y = torch.log_softmax(decoder.output_layer(y), dim=-1)
    return y, new_cache


def _layer_step(layer: torch.nn.Module, tgt: torch.Tensor, tgt_mask: Optional[torch.Tensor],
                kv: Tuple[torch.Tensor, torch.Tensor], memory_mask: Optional[torch.Tensor],
                cache: Optional[torch.Tensor]) -> torch.Tensor:
    """``DecoderLayer.forward`` without sequential attention, its source attention from ``kv``."""
    residual = tgt
    if layer.normalize_before:
        tgt = layer.norm1(tgt)
    if cache is None:
        tgt_q, tgt_q_mask = tgt, tgt_mask
    else:  # only the last position's query
        tgt_q, residual = tgt[:, -1:, :], residual[:, -1:, :]
        tgt_q_mask = None if tgt_mask is None else tgt_mask[:, -1:, :]
    if layer.concat_after:
        x = residual + layer.concat_linear1(torch.cat((tgt_q, layer.self_attn(tgt_q, tgt, tgt, tgt_q_mask)), dim=-1))
    else:
        x = residual + layer.dropout(layer.self_attn(tgt_q, tgt, tgt, tgt_q_mask))
    if not layer.normalize_before:
        x = layer.norm1(x)

    residual = x
    if layer.normalize_before:
        x = layer.norm2(x)
    if layer.concat_after:
        x = residual + layer.concat_linear2(torch.cat((x, _source_attention(layer.src_attn, x, kv, memory_mask)),
                                                      dim=-1))
    else:
        x = residual + layer.dropout(_source_attention(layer.src_attn, x, kv, memory_mask))
    if not layer.normalize_before:
        x = layer.norm2(x)

    residual = x
    if layer.normalize_before:
        x = layer.norm3(x)
    x = residual + layer.dropout(layer.feed_forward(x))
    if not layer.normalize_before:
        x = layer.norm3(x)
    return x if cache is None else torch.cat([cache, x], dim=1)


def _source_attention(attn: torch.nn.Module, query: torch.Tensor, kv: Tuple[torch.Tensor, torch.Tensor],
                      mask: Optional[torch.Tensor]) -> torch.Tensor:
    """``MultiHeadedAttention.forward(query, memory, memory, mask)`` with the memory's keys and values given."""
    k, v = kv
    n_batch = query.size(0)
    q = attn.q_norm(attn.linear_q(query).view(n_batch, -1, attn.h, attn.d_k).transpose(1, 2))
    if getattr(attn, "use_sdpa", False):
        out = torch.nn.functional.scaled_dot_product_attention(
            q, k, v, mask.unsqueeze(1) if mask is not None else None,
            dropout_p=attn.dropout_rate if attn.training else 0.0,
        ).transpose(1, 2)
        return attn.linear_out(out.reshape(out.shape[0], out.shape[1], -1))
    scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(attn.d_k)
    return attn.forward_attention(v, scores, mask)
