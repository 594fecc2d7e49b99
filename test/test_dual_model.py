"""ESPnetL2DualModel: forward/backward, the loss formula, STL branches, public attributes."""

from __future__ import annotations

import pytest
import torch

from espnet2.asr.espnet_model import ESPnetASRModel

from l2dual_helpers import MEANING_TOKENS, SURFACE_TOKENS, build, parse_args, random_batch, tiny_config
from espnet_l2dual.tasks.l2dual import L2DualTask

MTL = ["surface", "meaning"]


@pytest.mark.parametrize("tasks", [MTL, ["surface"], ["meaning"]])
def test_forward_backward_every_parameter_gets_a_gradient(tmp_path, tasks):
    torch.manual_seed(0)
    model = build(tmp_path, tasks)
    loss, stats, weight = model(**random_batch())
    assert torch.isfinite(loss).all() and loss.shape == (1,)
    assert int(weight) == 3
    loss.sum().backward()
    unused = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert unused == []  # DDP needs no unused parameters
    for o in tasks:
        assert stats[f"acc_{o}"] is not None and stats[f"loss_ctc_{o}"] is not None


@pytest.mark.parametrize("other", ["surface", "meaning"])
def test_stl_builds_no_branch_of_the_other_output(tmp_path, other):
    task = "meaning" if other == "surface" else "surface"
    model = build(tmp_path, [task])
    assert model.tasks == [task]
    assert list(model.ctcs) == [task] and list(model.decoders) == [task]
    names = [n for n, _ in model.named_parameters()]
    assert not [n for n in names if f".{other}." in n or n.endswith(f".{other}")]
    _, stats, _ = model(**random_batch())
    assert f"loss_{other}" not in stats


def test_loss_is_the_weighted_sum_of_the_stats(tmp_path):
    torch.manual_seed(0)
    model = build(tmp_path, MTL, task_weights={"surface": 1.0, "meaning": 0.25})
    model.eval()  # no dropout: the check is exact
    with torch.no_grad():
        loss, stats, _ = model(**random_batch())
    c = model.ctc_weight
    assert c == pytest.approx(0.3)
    expected = 0.0
    for o, w in (("surface", 1.0), ("meaning", 0.25)):
        per_output = (1 - c) * stats[f"loss_att_{o}"] + c * stats[f"loss_ctc_{o}"]
        assert per_output.item() == pytest.approx(stats[f"loss_{o}"].item(), rel=1e-5)
        expected = expected + w * per_output
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert stats["loss"].item() == pytest.approx(loss.item())


# Known answers for the eval error rates: surface "ab cd" (ids a=2 b=3 <space>=6 c=4 d=5), meaning
# "xyz" (x=2 y=3 z=4); the wrong hypothesis changes only the first token ("bb cd", "yyz").
TARGETS = {"surface": [2, 3, 6, 4, 5], "meaning": [2, 3, 4]}
WRONG = {"surface": {"cer": 1 / 4, "wer": 1 / 2}, "meaning": {"cer": 1 / 3, "wer": 1.0}}


def _hypothesis(o: str, wrong: bool):
    ids = list(TARGETS[o])
    if wrong:
        ids[0] = 3  # b / y
    return ids


def _fake_decoder(model, o: str, wrong: bool):
    """Teacher-forced logits that spell the hypothesis, then <eos>."""
    def forward(enc, enc_lens, ys_in, ys_in_lens):
        seq = _hypothesis(o, wrong) + [model.eos[o]]
        logits = torch.full((ys_in.size(0), ys_in.size(1), model.vocab_sizes[o]), -10.0)
        for t, i in enumerate(seq[: ys_in.size(1)]):
            logits[:, t, i] = 10.0
        return logits, ys_in_lens
    return forward


def _fake_ctc_argmax(o: str, wrong: bool):
    """Frame labels that collapse to the hypothesis: each token followed by a blank."""
    def argmax(enc):
        frames = [x for i in _hypothesis(o, wrong) for x in (i, 0)]
        out = torch.zeros(enc.size(0), enc.size(1), dtype=torch.long)
        out[:, : len(frames)] = torch.tensor(frames)
        return out
    return argmax


@pytest.mark.parametrize("wrong_branch", ["attention", "ctc"])
def test_eval_error_rates_are_the_hypotheses_error_rates(tmp_path, monkeypatch, wrong_branch):
    """One branch spells the reference, the other misses one token: CER/WER are known exactly."""
    model = build(tmp_path, MTL)
    batch = random_batch()
    for o in MTL:
        batch[f"text_{o}"] = torch.tensor([TARGETS[o]] * 3)
        batch[f"text_{o}_lengths"] = torch.tensor([len(TARGETS[o])] * 3)
        monkeypatch.setattr(model.decoders[o], "forward", _fake_decoder(model, o, wrong_branch == "attention"))
        monkeypatch.setattr(model.ctcs[o], "argmax", _fake_ctc_argmax(o, wrong_branch == "ctc"))
    model.train()
    _, train_stats, _ = model(**batch)
    assert train_stats["cer_ctc_surface"] is None  # greedy decoding only in eval, as ESPnet
    model.eval()
    with torch.no_grad():
        _, stats, _ = model(**batch)
    for o in MTL:
        att = WRONG[o] if wrong_branch == "attention" else {"cer": 0.0, "wer": 0.0}
        assert float(stats[f"cer_{o}"]) == pytest.approx(att["cer"]), o
        assert float(stats[f"wer_{o}"]) == pytest.approx(att["wer"]), o
        ctc = WRONG[o]["cer"] if wrong_branch == "ctc" else 0.0
        assert float(stats[f"cer_ctc_{o}"]) == pytest.approx(ctc), o


def test_public_attributes_follow_espnet_conventions(tmp_path):
    model = build(tmp_path, MTL)
    assert model.token_lists == {"surface": SURFACE_TOKENS, "meaning": MEANING_TOKENS}
    assert model.sos == model.eos == {"surface": len(SURFACE_TOKENS) - 1, "meaning": len(MEANING_TOKENS) - 1}
    assert model.ignore_id == -1
    assert list(model.ctcs) == list(model.decoders) == MTL
    batch = random_batch()
    model.eval()
    enc, enc_lens = model.encode(batch["speech"], batch["speech_lengths"])
    assert enc.shape[0] == 3 and enc.shape[2] == 16 and enc_lens.max() == enc.shape[1]
    feats = model.collect_feats(batch["speech"], batch["speech_lengths"], text_surface=batch["text_surface"])
    assert feats["feats"].shape[-1] == 20 and feats["feats_lengths"].shape == (3,)


def test_missing_text_of_an_active_task_is_named(tmp_path):
    model = build(tmp_path, MTL)
    batch = random_batch()
    del batch["text_meaning"], batch["text_meaning_lengths"]
    with pytest.raises(ValueError, match="text_meaning"):
        model(**batch)


def test_ctc_weight_one_needs_no_decoder_and_zero_no_ctc(tmp_path):
    ctc_only = build(tmp_path, MTL, ctc_weight=1.0)
    assert len(ctc_only.decoders) == 0 and list(ctc_only.ctcs) == MTL
    loss, stats, _ = ctc_only(**random_batch())
    assert stats["loss_att_surface"] is None
    assert loss.item() == pytest.approx((stats["loss_ctc_surface"] + stats["loss_ctc_meaning"]).item(), rel=1e-5)

    att_only = build(tmp_path, ["surface"], ctc_weight=0.0)
    assert len(att_only.ctcs) == 0 and list(att_only.decoders) == ["surface"]
    loss, stats, _ = att_only(**random_batch())
    assert stats["loss_ctc_surface"] is None
    loss.sum().backward()
    assert all(p.grad is not None for p in att_only.parameters())


def test_task_weight_for_an_inactive_output_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="task_weights"):
        build(tmp_path, ["surface"], task_weights={"meaning": 1.0})


def _espnet_asr_model(model) -> ESPnetASRModel:
    """ESPnet's ASR model made of the STL-surface model's own modules (same weights)."""
    return ESPnetASRModel(
        vocab_size=len(SURFACE_TOKENS), token_list=SURFACE_TOKENS, frontend=model.frontend,
        specaug=model.specaug, normalize=model.normalize, preencoder=model.preencoder, encoder=model.encoder,
        postencoder=model.postencoder, decoder=model.decoders["surface"], ctc=model.ctcs["surface"],
        joint_network=None,
    )


@pytest.mark.parametrize("training", [False, True])
def test_encode_and_features_are_espnets_asr_models(tmp_path, training):
    torch.manual_seed(0)
    model = build(tmp_path, ["surface"])
    reference = _espnet_asr_model(model)
    model.train(training)
    reference.train(training)
    batch = random_batch()
    speech, lengths = batch["speech"], batch["speech_lengths"]
    torch.manual_seed(1)  # the same specaug masks in training mode
    ref, ref_lens = reference.encode(speech, lengths)
    torch.manual_seed(1)
    enc, enc_lens = model.encode(speech, lengths)
    torch.manual_seed(1)
    (all_enc, all_lens), = model.encode_all(speech, lengths).values()
    assert torch.equal(enc, ref) and torch.equal(enc_lens, ref_lens)
    assert torch.equal(all_enc, ref) and torch.equal(all_lens, ref_lens)
    feats = model.collect_feats(speech, lengths)
    ref_feats = reference.collect_feats(speech, lengths, batch["text_surface"], batch["text_surface_lengths"])
    assert torch.equal(feats["feats"], ref_feats["feats"])
    assert torch.equal(feats["feats_lengths"], ref_feats["feats_lengths"])


def test_self_conditioned_ctc_encoder_is_rejected(tmp_path):
    config = tiny_config(MTL)
    config["encoder_conf"].update(num_blocks=2, interctc_layer_idx=[1], interctc_use_conditioning=True)
    with pytest.raises(ValueError, match="interctc_use_conditioning"):
        L2DualTask.build_model(parse_args(tmp_path, config))
