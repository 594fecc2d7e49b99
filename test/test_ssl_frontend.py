"""The SSL front end: local model directory only, frame lengths, layer weights, freezing."""

from __future__ import annotations

import pytest
import torch
from tiny_ssl import make_tiny_ssl

from espnet_l2dual.frontends.ssl import SSLFrontend


@pytest.fixture(scope="module", params=["wavlm", "wav2vec2"])
def ssl_dir(request, tmp_path_factory):
    return make_tiny_ssl(tmp_path_factory.mktemp(request.param), request.param)


def test_frame_lengths_are_the_models_own(ssl_dir) -> None:
    fe = SSLFrontend(ssl_dir).eval()
    x = torch.randn(3, 8000)
    lens = torch.tensor([8000, 5000, 2400])
    feats, out_lens = fe(x, lens)
    assert feats.shape[0] == 3 and feats.shape[2] == fe.output_size() == 32
    assert out_lens.tolist() == fe.ssl._get_feat_extract_output_lengths(lens).tolist()
    assert int(out_lens[0]) == feats.shape[1]
    # an utterance decoded alone gives its frames of the batch (padding does not leak in: masked
    # models) or the same number of frames (unmasked wav2vec 2.0 base style)
    alone, alone_lens = fe(x[1:2, :5000], lens[1:2])
    assert int(alone_lens[0]) == int(out_lens[1])
    if fe.use_attention_mask:
        assert torch.allclose(alone[0], feats[1, : int(out_lens[1])], atol=1e-4)


def test_weighted_sum_of_layers_and_its_gradient(ssl_dir) -> None:
    fe = SSLFrontend(ssl_dir, layers=[0, 2]).train()
    feats, _ = fe(torch.randn(2, 6000), torch.tensor([6000, 6000]))
    feats.sum().backward()
    assert fe.layer_weights.shape == (2,) and fe.layer_weights.grad is not None
    assert any(p.grad is not None for n, p in fe.ssl.named_parameters() if "encoder.layers" in n)


def test_frozen_for_the_first_steps_then_fine_tuned(ssl_dir) -> None:
    fe = SSLFrontend(ssl_dir, freeze_steps=2).train()
    for step in range(3):
        fe.zero_grad(set_to_none=True)
        feats, _ = fe(torch.randn(1, 4000), torch.tensor([4000]))
        feats.sum().backward()
        tuned = any(p.grad is not None for n, p in fe.ssl.named_parameters() if "encoder.layers" in n)
        assert tuned == (step >= 2), step
        assert fe.layer_weights.grad is not None  # the weights learn while the model is frozen
    # the convolutional feature encoder stays frozen throughout
    assert all(not p.requires_grad for p in fe.ssl.feature_extractor.parameters())


def test_a_missing_model_directory_says_download_first(tmp_path) -> None:
    with pytest.raises(ValueError, match="not a local model directory.*nothing is downloaded"):
        SSLFrontend(tmp_path / "wavlm-base-plus")


def test_sampling_rate_and_layers_are_checked(ssl_dir) -> None:
    with pytest.raises(ValueError, match="fs 8000 != the model's sampling rate 16000"):
        SSLFrontend(ssl_dir, fs=8000)
    with pytest.raises(ValueError, match="hidden states 0..2"):
        SSLFrontend(ssl_dir, layers=[3])


def test_dual_model_trains_a_step_with_the_ssl_frontend(ssl_dir, tmp_path) -> None:
    """``--frontend ssl`` through the task: the saved model's own features reach the encoder, frame
    for frame, and training reaches the SSL layers once ``freeze_steps`` have passed."""
    import json

    from espnet_l2dual.tasks.l2dual import L2DualTask

    (tmp_path / "s.txt").write_text("<blank>\n<unk>\na\nb\nc\n<sos/eos>\n")
    small = {"attention_heads": 2, "linear_units": 32, "num_blocks": 1}
    args = L2DualTask.get_parser().parse_args([
        "--output_dir", str(tmp_path), "--frontend", "ssl",
        "--frontend_conf", json.dumps({"model": str(ssl_dir), "freeze_steps": 1}),
        "--encoder", "transformer", "--encoder_conf", json.dumps({"output_size": 16, "input_layer": "linear", **small}),
        "--surface_decoder", "transformer", "--surface_decoder_conf", json.dumps(small),
        "--meaning_decoder", "transformer", "--meaning_decoder_conf", json.dumps(small),
        "--surface_token_list", str(tmp_path / "s.txt"), "--meaning_token_list", str(tmp_path / "s.txt"),
        "--surface_token_type", "char", "--meaning_token_type", "char",
    ])
    model = L2DualTask.build_model(args)
    batch = {"speech": torch.randn(2, 8000), "speech_lengths": torch.tensor([8000, 6000])}
    for o in ("surface", "meaning"):
        batch[f"text_{o}"] = torch.tensor([[2, 3, 4], [3, 2, -1]])
        batch[f"text_{o}_lengths"] = torch.tensor([3, 2])
    model.eval()
    with torch.no_grad():  # the saved weights were loaded (not a fresh initialisation) and feed the encoder
        want, want_lens = SSLFrontend(ssl_dir).eval()(batch["speech"], batch["speech_lengths"])
        feats, feats_lens = model.frontend(batch["speech"], batch["speech_lengths"])
        _, enc_lens = model.encode(batch["speech"], batch["speech_lengths"])
    assert torch.allclose(feats, want, atol=1e-5) and feats_lens.tolist() == want_lens.tolist()
    assert enc_lens.tolist() == want_lens.tolist()  # linear input layer: one encoder frame per SSL frame
    model.train()
    tuned = []
    for _ in range(2):  # step 1 frozen (freeze_steps 1), step 2 fine-tunes the SSL transformer
        model.zero_grad(set_to_none=True)
        loss, stats, _ = model(**batch)
        loss.backward()
        assert torch.isfinite(loss) and model.frontend.layer_weights.grad is not None
        tuned.append(any(p.grad is not None and p.grad.abs().sum() > 0
                         for n, p in model.frontend.ssl.named_parameters() if "encoder.layers" in n))
    assert tuned == [False, True]
