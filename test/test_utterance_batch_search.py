"""The utterance-batched beam search gives the per-utterance search's n-best lists.

A random tiny model has no ties to speak of and long, varied hypotheses (many end at
different steps, some run to maxlen), which exercises beams that shrink, utterances that
finish early and the forced <eos>. Scores must agree to float precision; any text difference
is a failure here (the trained-model comparison is in test_e2e_recipe.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest
import torch
from tiny_dual_model import make_tiny_model, write_wav

from espnet_l2dual.audio.read import read_audio
from espnet_l2dual.inference.decode_dir import decode_dir
from espnet_l2dual.inference.speech2dualtext import Speech2DualText, greedy_ctc, greedy_ctc_batch
from espnet_l2dual.inference.utterance_batch_search import SearchSpec
from espnet_l2dual.utils.fileio import read_table, write_table


@pytest.fixture(scope="module")
def model_files(tmp_path_factory) -> Dict[str, Path]:
    return make_tiny_model(tmp_path_factory.mktemp("tiny"), seed=1)


@pytest.fixture(scope="module")
def speeches(tmp_path_factory) -> List[np.ndarray]:
    tmp = tmp_path_factory.mktemp("wavs")
    lengths = [0.3, 0.9, 0.5, 1.2, 0.4, 0.7, 0.35, 1.0, 0.6]
    return [read_audio(str(write_wav(tmp / f"{i}.wav", s, seed=i)))[0] for i, s in enumerate(lengths)]


def _s2t(files, **kw) -> Speech2DualText:
    return Speech2DualText(files["config"], files["model"], **{"beam_size": 4, **kw})


def _same(one: List[dict], many: List[dict]) -> None:
    assert len(one) == len(many)
    for i, (a, b) in enumerate(zip(one, many)):
        assert a.keys() == b.keys()
        for o in a:
            assert [h[0] for h in a[o]] == [h[0] for h in b[o]], (i, o)
            assert np.allclose([h[2] for h in a[o]], [h[2] for h in b[o]], atol=1e-3), (i, o)


@pytest.mark.parametrize("options", [
    {"ctc_weight": 0.3},
    {"ctc_weight": 0.3, "nbest": 3},
    {"ctc_weight": 0.0, "penalty": 0.5},  # no CTC: no pre-beam, every token scored
    {"ctc_weight": 0.5, "maxlenratio": 0.3, "minlenratio": 0.1},  # fixed max length: forced <eos>
])
def test_batches_of_1_4_and_16_give_the_per_utterance_nbest(model_files, speeches, options) -> None:
    s2t = _s2t(model_files, **options)
    one = [s2t(x) for x in speeches]
    assert any(len(h[0][1]) > 2 for r in one for h in r.values())  # real hypotheses, not all empty
    for size in (1, 4, 16):
        many = [r for i in range(0, len(speeches), size) for r in s2t.decode_batch(speeches[i:i + size])]
        _same(one, many)


def test_silent_and_short_utterances_in_a_batch(model_files, speeches) -> None:
    s2t = _s2t(model_files, ctc_weight=0.3)
    batch = [speeches[0], np.zeros(8000, dtype=np.float32), speeches[1], np.ones(10, dtype=np.float32) * 0.5]
    got = s2t.decode_batch(batch)
    assert got[1] == s2t._empty() and got[3] == s2t._empty()
    _same([s2t(speeches[0]), s2t(speeches[1])], [got[0], got[2]])
    assert s2t(batch) == got  # the Python API takes a list too


def test_padded_encoder_pass_is_close_but_optional(model_files, speeches) -> None:
    s2t = _s2t(model_files, ctc_weight=0.3)
    got = s2t.decode_batch(speeches, padded_encoder=True)
    assert len(got) == len(speeches) and all(r.keys() == {"surface", "meaning"} for r in got)


def test_greedy_ctc_batch_is_greedy_ctc_per_utterance() -> None:
    torch.manual_seed(0)
    ctc = torch.nn.Module()
    proj = torch.nn.Linear(4, 6)
    ctc.log_softmax = lambda x: torch.log_softmax(proj(x), dim=-1)
    encs = [torch.randn(n, 4) for n in (5, 9, 3)]
    padded = torch.zeros(3, 9, 4)
    for i, e in enumerate(encs):
        padded[i, : e.size(0)] = e
    batch = greedy_ctc_batch(ctc, padded, torch.tensor([5, 9, 3]))
    for e, (ids, score) in zip(encs, batch):
        ref_ids, ref_score = greedy_ctc(ctc, e)
        assert ids == ref_ids and score == pytest.approx(ref_score, abs=1e-5)


def test_search_spec_length_bounds_follow_beam_search() -> None:
    spec = SearchSpec(5, 0.3, 0.0, 0.0, 0.0, 9, 9, 0, 10)
    assert spec.length_bounds(40) == (40, 0) and spec.pre_beam_size == 7 and spec.do_pre_beam
    assert SearchSpec(5, 0.3, 0.0, 0.5, 0.1, 9, 9, 0, 10).length_bounds(40) == (20, 4)
    assert SearchSpec(5, 0.3, 0.0, -7, -2, 9, 9, 0, 10).length_bounds(40) == (7, 2)
    assert not SearchSpec(5, 0.0, 0.0, 0.0, 0.0, 9, 9, 0, 100).do_pre_beam


def test_decode_dir_tables_do_not_depend_on_the_batch_size(model_files, tmp_path) -> None:
    s2t = _s2t(model_files, ctc_weight=0.3)
    wavs = {f"u{i}": write_wav(tmp_path / f"u{i}.wav", 0.3 + 0.1 * i, seed=10 + i) for i in range(6)}
    data = tmp_path / "data"
    data.mkdir()
    write_table(data / "wav.scp", [(k, str(v)) for k, v in wavs.items()])
    write_table(data / "utt2num_samples", [(k, str(len(read_audio(str(v))[0]))) for k, v in wavs.items()])
    for size in (1, 4):
        decode_dir(s2t, str(data / "wav.scp"), None, tmp_path / f"out{size}", batch_size=size)
    for o in ("surface", "meaning"):
        for name in ("text", "token", "score"):
            a = read_table(tmp_path / "out1" / o / name, allow_empty_value=True)
            b = read_table(tmp_path / "out4" / o / name, allow_empty_value=True)
            assert list(a) == list(b) == sorted(wavs)
            if name == "score":
                assert np.allclose([float(x) for x in a.values()], [float(x) for x in b.values()], atol=1e-3)
            else:
                assert a == b
