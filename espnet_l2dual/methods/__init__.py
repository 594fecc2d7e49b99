"""Disentangling methods as ESPnet component choices.

Each method is a small ``torch.nn.Module`` registered in a ``ClassChoices`` of
``L2DualTask`` and picked by YAML like any ESPnet component:

- ``encoder_sharing``: which encoder blocks the outputs share
  (``partial``: task-specific top blocks; ``experts``: task-routed feed-forward experts);
- ``task_projection``: what each output reads from the encoder (``ortho``: a projection
  per output plus a penalty on what the projections share; ``twin_subspace``: projections
  post-trained on learner-error twins, meaning invariant to the error, surface moved by it);
- ``decoder_coupling``: how the decoders see each other (``dual_attention``);
- ``grad_surgery``: how the per-output gradients of the shared parameters are combined
  (``pcgrad``, ``cagrad``; a trainer option).

The model only wires them (``models/dual_model.py``).
"""
