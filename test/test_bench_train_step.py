"""The training-step benchmark runs (ours vs stock ESPnetASRModel) and prints its ratios."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.slow  # builds three tiny-config models and trains a step of each
def test_bench_train_step_prints_ratios(capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH_DIR))  # as when run as a script: bench_methods beside it
    spec = importlib.util.spec_from_file_location("bench_train_step", BENCH_DIR / "bench_train_step.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--rounds", "1", "--batches", "1", "--batch_size", "2", "--seconds", "1.0"]) == 0
    out = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line.split() for line in out if line.split() and line.split()[0] in
            ("stock", "stl_surface", "mtl")}
    assert set(rows) == {"stock", "stl_surface", "mtl"}
    assert rows["stock"][-1] == "1.00"
    assert rows["stock"][1] == rows["stl_surface"][1]  # the same network: the same parameter count
    assert float(rows["mtl"][1]) > float(rows["stock"][1])  # a second decoder and CTC
    assert all(0 < float(r[-1]) < 10 for r in rows.values())
    sys.modules.pop("bench_methods", None)
