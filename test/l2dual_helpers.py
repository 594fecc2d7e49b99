"""Shared fixtures for the L2Dual task/model tests: tiny configs, token lists, random batches."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import torch
import yaml

from espnet_l2dual.tasks.l2dual import L2DualTask

SURFACE_TOKENS = ["<blank>", "<unk>", "a", "b", "c", "d", "<space>", "<sos/eos>"]
MEANING_TOKENS = ["<blank>", "<unk>", "x", "y", "z", "<sos/eos>"]


def tiny_config(tasks: Sequence[str], **model_conf) -> Dict:
    """A model small enough to run forward/backward in well under a second on CPU."""
    return {
        "frontend": "default",
        "frontend_conf": {"n_fft": 128, "hop_length": 64, "n_mels": 20},
        "specaug": "specaug",
        "specaug_conf": {"apply_time_warp": False, "num_freq_mask": 1, "freq_mask_width_range": [0, 4],
                         "num_time_mask": 1, "time_mask_width_range": [0, 3]},
        "normalize": "utterance_mvn",
        "encoder": "conformer",
        "encoder_conf": {"output_size": 16, "attention_heads": 2, "linear_units": 32, "num_blocks": 1,
                         "input_layer": "conv2d", "cnn_module_kernel": 3, "pos_enc_layer_type": "rel_pos",
                         "selfattention_layer_type": "rel_selfattn", "rel_pos_type": "latest"},
        "surface_decoder": "transformer",
        "surface_decoder_conf": {"attention_heads": 2, "linear_units": 32, "num_blocks": 1},
        "meaning_decoder": "transformer",
        "meaning_decoder_conf": {"attention_heads": 2, "linear_units": 32, "num_blocks": 1},
        "model": "l2dual",
        "model_conf": {"tasks": list(tasks), "ctc_weight": 0.3, "lsm_weight": 0.1, **model_conf},
    }


def write_token_lists(tmp_path: Path) -> Dict[str, Path]:
    paths = {}
    for name, tokens in (("surface", SURFACE_TOKENS), ("meaning", MEANING_TOKENS)):
        path = tmp_path / f"tokens_{name}.txt"
        path.write_text("".join(t + "\n" for t in tokens), encoding="utf-8")
        paths[name] = path
    return paths


def parse_args(tmp_path: Path, config: Dict, extra: Optional[List[str]] = None,
               token_lists: Sequence[str] = ("surface", "meaning")) -> argparse.Namespace:
    """Parse like the CLI does: a YAML --config plus command-line options."""
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(config), encoding="utf-8")
    lists = write_token_lists(tmp_path)
    cmd = ["--config", str(cfg)]
    for name in token_lists:
        cmd += [f"--{name}_token_list", str(lists[name])]
    return L2DualTask.get_parser().parse_args(cmd + list(extra or []))


def build(tmp_path: Path, tasks: Sequence[str], **model_conf):
    return L2DualTask.build_model(parse_args(tmp_path, tiny_config(tasks, **model_conf)))


def random_batch(batch_size: int = 3, seed: int = 0) -> Dict[str, torch.Tensor]:
    """Noise speech (0.2-0.3 s at 16 kHz) and short random token ids, padded with -1."""
    g = torch.Generator().manual_seed(seed)
    speech_lengths = torch.tensor([4800, 4000, 3200][:batch_size])
    speech = torch.randn(batch_size, int(speech_lengths.max()), generator=g)
    batch = {"speech": speech, "speech_lengths": speech_lengths}
    for name, vocab in (("surface", len(SURFACE_TOKENS)), ("meaning", len(MEANING_TOKENS))):
        lengths = torch.tensor([4, 3, 2][:batch_size])
        ids = torch.randint(1, vocab - 1, (batch_size, int(lengths.max())), generator=g)
        for i, n in enumerate(lengths):
            ids[i, n:] = -1
        batch[f"text_{name}"] = ids
        batch[f"text_{name}_lengths"] = lengths
    return batch


def record_group(tag_dir: Path, config: str, seed: Optional[int] = None, **override) -> None:
    """``provenance.json`` with the group stage 7 records (``model_group`` of the config named ``config``);
    ``override`` replaces recorded fields (a size the config name does not say)."""
    import json

    from espnet_l2dual.utils.provenance import model_group

    group = {**model_group(f"{config}.yaml", seed), **override}
    (tag_dir / "provenance.json").write_text(json.dumps({"group": group}), encoding="utf-8")
