"""A tiny randomly initialised SSL speech model saved like a downloaded one (test helper, no hub)."""

from __future__ import annotations

from pathlib import Path


def make_tiny_ssl(root: Path, family: str = "wavlm", seed: int = 0) -> Path:
    """``root`` with config.json, weights and preprocessor_config.json (``save_pretrained``)."""
    import torch
    from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2Model, WavLMConfig, WavLMModel

    torch.manual_seed(seed)
    dims = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                # the real models' 320x downsampling (20 ms frames): 7 convolutions, narrow
                conv_dim=(16,) * 7, conv_stride=(5, 2, 2, 2, 2, 2, 2), conv_kernel=(10, 3, 3, 3, 3, 2, 2),
                num_conv_pos_embeddings=16,
                num_conv_pos_embedding_groups=2, layerdrop=0.0)  # no LayerDrop: every layer runs in tests
    config_cls, model_cls = {"wavlm": (WavLMConfig, WavLMModel), "wav2vec2": (Wav2Vec2Config, Wav2Vec2Model)}[family]
    if family == "wavlm":  # the "large" layout: layer-normed feature encoder, which takes a padding mask
        dims.update(feat_extract_norm="layer", do_stable_layer_norm=True)
    model_cls(config_cls(**dims)).save_pretrained(root)
    # wav2vec 2.0 base style: group norm, no attention mask (zero padding); large style: a mask
    Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0, do_normalize=True,
                             return_attention_mask=family == "wavlm").save_pretrained(root)
    return root
