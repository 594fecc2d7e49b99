"""The decode benchmark runs end to end on tiny models (ours vs two stock ESPnet decoders)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tiny_dual_model import make_tiny_model, write_wav

from espnet_l2dual.inference.espnet_export import export

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_dual_decode.py"


@pytest.mark.slow  # importing espnet2.bin.asr_inference alone takes seconds
def test_bench_prints_ratio(tmp_path, capsys):
    """Stock decoders exported from our model's branches: the same weights, the same texts."""
    dual = make_tiny_model(tmp_path / "dual")
    stock = {o: export(dual["config"], dual["model"], o, tmp_path / f"stock_{o}") for o in ("surface", "meaning")}
    data = tmp_path / "data"
    data.mkdir()
    (data / "wav.scp").write_text("".join(f"u{i} {write_wav(data / f'u{i}.wav', 0.4, seed=i)}\n"
                                          for i in range(2)))
    spec = importlib.util.spec_from_file_location("bench_dual_decode", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rc = bench.main(["--data_dir", str(data), "--n", "2", "--beam_size", "2", "--show_differences", "4",
                     "--dual_config", str(dual["config"]), "--dual_model", str(dual["model"]),
                     *[a for o, c in stock.items() for a in (f"--stock_{o}_config", str(c),
                                                             f"--stock_{o}_model", str(c.parent / "model.pth"))]])
    out = capsys.readouterr().out
    print(out)
    assert rc == 0
    assert "utterances: 2" in out
    for name in ("batched/stock", "per-utterance/stock"):
        ratio = float(out.split(f"ratio {name}:")[1].split()[0])
        assert 0 < ratio < 100
    assert "batched vs per-utterance 1-best texts that differ: 0 of 4" in out
    assert "ours vs stock per-utterance 1-best texts that differ: 0 of 4" in out
    if "stock batched: not available" not in out:  # ESPnet >= 202609: its own batched search
        assert "ours batched vs stock batched 1-best texts that differ (16): 0 of 4" in out
        assert 0 < float(out.split("ratio batched/stock-batched (16):")[1].split()[0]) < 100
