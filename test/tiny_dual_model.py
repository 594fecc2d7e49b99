"""A tiny untrained dual model written to disk like ESPnet's trainer would (test helper).

Surface uses a SentencePiece bpe model (exercises bpe detokenising and packing of the
bpe file), meaning uses conjoining jamo; features go through global_mvn with a stats
file (exercises packing of ``normalize_conf.stats_file``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Sequence

import numpy as np
import soundfile
import torch
import yaml

from espnet_l2dual.tasks.l2dual import L2DualTask

FS = 8000
N_MELS = 20
JAMO = [chr(c) for c in range(0x1100, 0x1105)] + [chr(c) for c in range(0x1161, 0x1166)] + ["ᆨ", "ᆫ"]


def _train_bpe(root: Path) -> Path:
    import sentencepiece as spm

    text = root / "bpe_train.txt"
    text.write_text("\n".join(["I THINK SO", "THIS IS A TEST", "THAT IS IT", "I SEE THE SEA"] * 20) + "\n")
    prefix = root / "bpe"
    spm.SentencePieceTrainer.train(input=str(text), model_prefix=str(prefix), vocab_size=16,
                                   model_type="unigram", character_coverage=1.0, minloglevel=2)
    return prefix.with_suffix(".model")


def _bpe_token_list(bpemodel: Path) -> list:
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(bpemodel))
    pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    return ["<blank>", "<unk>"] + [p for p in pieces if p not in ("<unk>", "<s>", "</s>")] + ["<sos/eos>"]


PHONES = ["DH", "IH", "S", "T", "AH", "K"]


def make_tiny_model(root: Path, tasks: Sequence[str] = ("surface", "meaning"), seed: int = 0,
                    model_ctc_weight: float = 0.3, surface_phones: bool = False) -> Dict[str, Path]:
    """Write ``config.yaml``, ``model.pth``, the bpe model and mvn stats under ``root``.

    ``surface_phones``: the surface output is in phones (``word`` tokens, as for L2-ARCTIC)
    instead of bpe, so the two outputs are in different units.
    """
    root.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    bpemodel = _train_bpe(root)
    stats = root / "feats_stats.npz"
    np.savez(stats, count=np.array(100), sum=np.zeros(N_MELS), sum_square=np.full(N_MELS, 100.0))
    small = {"attention_heads": 2, "linear_units": 32, "num_blocks": 1}
    argv = [
        "--output_dir", str(root),
        "--frontend_conf", json.dumps({"n_fft": 256, "hop_length": 80, "n_mels": N_MELS, "fs": FS}),
        "--normalize", "global_mvn", "--normalize_conf", json.dumps({"stats_file": str(stats)}),
        "--encoder", "conformer",
        "--encoder_conf", json.dumps({"output_size": 16, "cnn_module_kernel": 3, **small}),
        "--surface_decoder", "transformer", "--surface_decoder_conf", json.dumps(small),
        "--meaning_decoder", "transformer", "--meaning_decoder_conf", json.dumps(small),
        *(["--surface_token_type", "word"] if surface_phones else
          ["--surface_token_type", "bpe", "--surface_bpemodel", str(bpemodel)]),
        "--meaning_token_type", "jamo",
        "--model_conf", json.dumps({"tasks": list(tasks), "ctc_weight": model_ctc_weight}),
    ]
    args = L2DualTask.get_parser().parse_args(argv)
    args.surface_token_list = (["<blank>", "<unk>"] + PHONES + ["<sos/eos>"]) if surface_phones \
        else _bpe_token_list(bpemodel)
    args.meaning_token_list = ["<blank>", "<unk>", "<space>"] + JAMO + ["<sos/eos>"]
    model = L2DualTask.build_model(args)
    config, model_file = root / "config.yaml", root / "model.pth"
    with open(config, "w", encoding="utf-8") as f:
        yaml.safe_dump(vars(args), f, allow_unicode=True)
    torch.save(model.state_dict(), model_file)
    return {"config": config, "model": model_file, "bpemodel": bpemodel, "stats": stats}


def write_wav(path: Path, seconds: float, seed: int = 0, silent: bool = False) -> Path:
    """A noise-like test signal (or digital silence) at the tiny model's rate."""
    n = int(seconds * FS)
    data = np.zeros(n, dtype=np.float32) if silent else \
        (0.3 * np.random.default_rng(seed).standard_normal(n)).clip(-1, 1).astype(np.float32)
    soundfile.write(str(path), data, FS, subtype="PCM_16")
    return path
