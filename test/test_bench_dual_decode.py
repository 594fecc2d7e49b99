"""The decode benchmark runs end to end on tiny models (ours vs two stock ESPnet decoders)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch
import yaml

from tiny_dual_model import FS, N_MELS, make_tiny_model, write_wav

from espnet2.tasks.asr import ASRTask

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_dual_decode.py"


def _stock_model(root: Path, token_list, stats: Path, token_type: str, bpemodel=None) -> dict:
    """A stock ESPnet ASR model of the tiny dual model's size (one output)."""
    root.mkdir(parents=True, exist_ok=True)
    small = {"attention_heads": 2, "linear_units": 32, "num_blocks": 1}
    argv = ["--output_dir", str(root), "--token_list", str(root / "tokens.txt"),
            "--frontend_conf", json.dumps({"n_fft": 256, "hop_length": 80, "n_mels": N_MELS, "fs": FS}),
            "--normalize", "global_mvn", "--normalize_conf", json.dumps({"stats_file": str(stats)}),
            "--encoder", "conformer",
            "--encoder_conf", json.dumps({"output_size": 16, "cnn_module_kernel": 3, **small}),
            "--decoder", "transformer", "--decoder_conf", json.dumps(small),
            "--token_type", token_type, "--model_conf", json.dumps({"ctc_weight": 0.3})]
    if bpemodel:
        argv += ["--bpemodel", str(bpemodel)]
    (root / "tokens.txt").write_text("".join(f"{t}\n" for t in token_list), encoding="utf-8")
    args = ASRTask.get_parser().parse_args(argv)
    model = ASRTask.build_model(args)
    args.token_list = list(token_list)
    with open(root / "config.yaml", "w", encoding="utf-8") as f:
        yaml.safe_dump(vars(args), f, allow_unicode=True)
    torch.save(model.state_dict(), root / "model.pth")
    return {"config": root / "config.yaml", "model": root / "model.pth"}


@pytest.mark.slow  # importing espnet2.bin.asr_inference alone takes seconds
def test_bench_prints_ratio(tmp_path, capsys):
    dual = make_tiny_model(tmp_path / "dual")
    conf = yaml.safe_load(dual["config"].read_text(encoding="utf-8"))
    surface = _stock_model(tmp_path / "s", conf["surface_token_list"], dual["stats"], "bpe", dual["bpemodel"])
    meaning = _stock_model(tmp_path / "m", conf["meaning_token_list"], dual["stats"], "char")
    data = tmp_path / "data"
    data.mkdir()
    (data / "wav.scp").write_text("".join(f"u{i} {write_wav(data / f'u{i}.wav', 0.4, seed=i)}\n"
                                          for i in range(2)))
    spec = importlib.util.spec_from_file_location("bench_dual_decode", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rc = bench.main(["--data_dir", str(data), "--n", "2", "--beam_size", "2",
                     "--dual_config", str(dual["config"]), "--dual_model", str(dual["model"]),
                     "--stock_surface_config", str(surface["config"]), "--stock_surface_model", str(surface["model"]),
                     "--stock_meaning_config", str(meaning["config"]), "--stock_meaning_model", str(meaning["model"])])
    out = capsys.readouterr().out
    assert rc == 0
    assert "utterances: 2" in out
    for name in ("batched/stock", "per-utterance/stock"):
        ratio = float(out.split(f"ratio {name}:")[1].split()[0])
        assert 0 < ratio < 100
    assert "texts that differ: 0 of 4" in out
