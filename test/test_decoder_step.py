"""The decoder step from memory projections is ESPnet's ``forward_one_step`` to the bit, patching nothing."""

from __future__ import annotations

from typing import List

import pytest
import torch
from espnet2.asr.decoder.transformer_decoder import TransformerDecoder

from espnet_l2dual.compat.espnet1 import DecoderLayer, subsequent_mask
from espnet_l2dual.inference.decoder_step import forward_one_step, project_memory, projects_memory
from espnet_l2dual.inference.utterance_batch_search import SearchSpec, batch_beam_search

V, D = 23, 16


def _decoder(**conf) -> TransformerDecoder:
    torch.manual_seed(0)
    return TransformerDecoder(V, D, attention_heads=2, linear_units=32, num_blocks=2, **conf).eval()


def _memory(n: int = 6, t: int = 9):
    g = torch.Generator().manual_seed(1)
    memory = torch.randn(n, t, D, generator=g)
    lens = torch.tensor([t, t - 3, 2, t - 1, 5, t][:n])
    return memory, (torch.arange(t)[None, :] < lens[:, None]).unsqueeze(1)


def _steps(decoder, memory, mask, use_projections: bool, n_steps: int = 4) -> List[torch.Tensor]:
    g = torch.Generator().manual_seed(2)
    yseq = torch.randint(0, V, (memory.size(0), n_steps), generator=g)
    projections = project_memory(decoder, memory) if use_projections else None
    cache, out = None, []
    with torch.no_grad():
        for i in range(1, n_steps + 1):
            ys_mask = subsequent_mask(i).unsqueeze(0)
            if use_projections:
                logp, cache = forward_one_step(decoder, yseq[:, :i], ys_mask, memory, mask, cache, projections)
            else:
                logp, cache = decoder.forward_one_step(yseq[:, :i], ys_mask, memory, mask, cache=cache)
            out += [logp, *cache]
    return out


@pytest.mark.parametrize("conf", [
    {},
    {"normalize_before": False},
    {"concat_after": True},
    {"normalize_before": False, "concat_after": True},
    {"qk_norm": True},
])
@pytest.mark.parametrize("sdpa", [False, True])
def test_steps_from_projections_are_espnets_to_the_bit(conf, sdpa) -> None:
    decoder = _decoder(**conf)
    for layer in decoder.decoders:
        layer.src_attn.use_sdpa = sdpa
    memory, mask = _memory()
    assert projects_memory(decoder)
    ours, espnet = _steps(decoder, memory, mask, True), _steps(decoder, memory, mask, False)
    assert all(torch.equal(a, b) for a, b in zip(ours, espnet, strict=True))


class _OwnLayer(DecoderLayer):
    def forward(self, *args, **kwargs):
        return super().forward(*args, **kwargs)


def test_other_layers_fall_back_to_the_decoders_own_step() -> None:
    decoder = _decoder()
    decoder.decoders[1].__class__ = _OwnLayer
    assert not projects_memory(decoder) and project_memory(decoder, _memory()[0]) is None
    memory, mask = _memory()
    ours, espnet = _steps(decoder, memory, mask, True), _steps(decoder, memory, mask, False)
    assert all(torch.equal(a, b) for a, b in zip(ours, espnet, strict=True))


def test_the_batch_search_patches_no_module() -> None:
    decoder = _decoder()
    memory, _ = _memory()
    spec = SearchSpec(beam_size=3, ctc_weight=0.0, penalty=0.0, maxlenratio=0.5, minlenratio=0.0,
                      sos=V - 1, eos=V - 1, blank=0, vocab_size=V)
    calls, patched = [], []
    hook = decoder.decoders[0].src_attn.linear_k.register_forward_hook(lambda m, i, o: calls.append(i[0].shape))
    step = decoder.decoders[0].feed_forward.register_forward_hook(
        lambda *_: patched.extend(m for m in decoder.modules() if "forward" in vars(m)))
    assert batch_beam_search(decoder, None, memory, torch.tensor([9, 6, 2, 8, 5, 9]), spec)
    hook.remove(), step.remove()
    assert patched == []  # while searching
    assert 0 < len(calls) <= memory.size(0)  # the memory's keys: once per batch of utterances, not per step
