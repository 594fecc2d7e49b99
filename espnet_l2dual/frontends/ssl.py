"""A pretrained self-supervised speech model (wav2vec 2.0, HuBERT, WavLM ... via ``transformers``)
as the front end: a learned weighted sum of its layers, frozen for the first updates.

Why not ESPnet's ``HuggingFaceFrontend``: in espnet 202511 it returns only the last layer and
its output lengths are the *sample* counts of the attention mask (or the input's shape when the
feature extractor gives no mask), not frame counts, so every mask downstream would be wrong.
Here the frame lengths come from the model's own ``_get_feat_extract_output_lengths``, the
waveform normalisation of its feature extractor is done in torch on the valid samples, and the
model is read from a local directory only (``save_pretrained`` layout): no hub access at run time.

``freeze_steps``: the SSL model gets no gradient for its first N training forward passes (the
layer weights, the encoder on top and the decoders still learn), then it is fine-tuned;
``freeze_feature_encoder`` keeps its convolutional feature encoder frozen throughout (the usual
recipe for wav2vec 2.0-style models). Layer ``i`` of the weighted sum is the model's
``hidden_states[i]`` (0: the input to the first transformer layer).
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Tuple, Union

import torch

from espnet2.asr.frontend.abs_frontend import AbsFrontend


class SSLFrontend(AbsFrontend):
    """``--frontend ssl --frontend_conf model=<dir with config.json, weights, preprocessor_config.json>``."""

    def __init__(self, model: Union[str, Path], fs: Union[int, str] = 16000, layers: Optional[List[int]] = None,
                 freeze_steps: int = 0, freeze_feature_encoder: bool = True, load_pretrained: bool = True,
                 normalize_waveform: Optional[bool] = None) -> None:
        super().__init__()
        from transformers import AutoConfig, AutoFeatureExtractor, AutoModel

        path = Path(model)
        if not (path / "config.json").is_file():
            raise ValueError(f"frontend_conf.model: {path} is not a local model directory (no config.json); "
                             "download the model first (e.g. save_pretrained, or huggingface-cli download "
                             "--local-dir) and give its directory: nothing is downloaded at run time")
        config = AutoConfig.from_pretrained(path, local_files_only=True)
        self.ssl = (AutoModel.from_pretrained(path, local_files_only=True) if load_pretrained
                    else AutoModel.from_config(config))
        extractor = AutoFeatureExtractor.from_pretrained(path, local_files_only=True)
        fs = int(fs)
        if fs != int(extractor.sampling_rate):
            raise ValueError(f"frontend_conf.fs {fs} != the model's sampling rate {extractor.sampling_rate} ({path})")
        self.normalize_waveform = bool(extractor.do_normalize if normalize_waveform is None else normalize_waveform)
        self.use_attention_mask = bool(getattr(extractor, "return_attention_mask", False))
        n_hidden = int(config.num_hidden_layers) + 1
        self.layers = list(range(n_hidden)) if layers is None else [int(i) for i in layers]
        bad = [i for i in self.layers if not 0 <= i < n_hidden]
        if bad or not self.layers:
            raise ValueError(f"frontend_conf.layers {layers}: the model has hidden states 0..{n_hidden - 1}")
        self.layer_weights = torch.nn.Parameter(torch.zeros(len(self.layers)))
        self.freeze_steps = int(freeze_steps)
        self.register_buffer("forward_steps", torch.zeros((), dtype=torch.long))
        if freeze_feature_encoder and hasattr(self.ssl, "freeze_feature_encoder"):
            self.ssl.freeze_feature_encoder()
        self._size = int(config.hidden_size)

    def output_size(self) -> int:
        return self._size

    def layer_modules(self) -> List[torch.nn.Module]:
        """The SSL model's transformer layers (stage 10 records their outputs as ``ssl.<i>``)."""
        encoder = getattr(self.ssl, "encoder", None)
        return list(getattr(encoder, "layers", []))

    def frozen(self) -> bool:
        return bool(self.forward_steps < self.freeze_steps)

    def _normalized(self, speech: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Zero mean, unit variance per utterance over its valid samples (the feature extractor's rule)."""
        m = mask.to(speech.dtype)
        n = m.sum(dim=1, keepdim=True).clamp(min=1.0)
        mean = (speech * m).sum(dim=1, keepdim=True) / n
        var = (((speech - mean) * m) ** 2).sum(dim=1, keepdim=True) / n
        return (speech - mean) / torch.sqrt(var + 1e-7) * m

    def forward(self, input: torch.Tensor, input_lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        mask = torch.arange(input.size(1), device=input.device)[None, :] < input_lengths[:, None]
        speech = self._normalized(input, mask) if self.normalize_waveform else input * mask
        frozen = self.training and self.frozen()
        if self.training:
            self.forward_steps += 1
        with torch.set_grad_enabled(torch.is_grad_enabled() and not frozen):
            out = self.ssl(speech, attention_mask=mask.long() if self.use_attention_mask else None,
                           output_hidden_states=True)
        hidden = torch.stack([out.hidden_states[i] for i in self.layers], dim=0)  # (L, B, T, D)
        weights = torch.softmax(self.layer_weights, dim=0).to(hidden.dtype)
        feats = (weights[:, None, None, None] * hidden).sum(dim=0)
        lengths = self.ssl._get_feat_extract_output_lengths(input_lengths).to(torch.long)
        lengths = lengths.clamp(max=feats.size(1))
        return feats, lengths
