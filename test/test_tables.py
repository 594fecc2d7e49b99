"""The comparison table: one builder for one seed and over seeds, each model's scores read once.

Models are stage 9's own output on made-up hypotheses (test_make_report's fixtures).
"""

import collections
from pathlib import Path

import numpy as np
import pytest

from test_make_report import _seeded_recipe

from espnet_l2dual.analysis import access
from espnet_l2dual.analysis.tables import OneSeed, OverSeeds, Scored, adjust, comparison_table
from espnet_l2dual.bin import make_report
from espnet_l2dual.scoring.units import headline


def test_the_report_over_seeds_reads_each_model_once(tmp_path: Path, monkeypatch) -> None:
    r = _seeded_recipe(tmp_path, "en", {1: (1, 2, 2, 2), 2: (2, 2, 1, 2)})
    reads: collections.Counter = collections.Counter()
    load_results, utterance_errors = access.load_results, access.utterance_errors

    def counted_load(path):
        reads[("results.json", str(path))] += 1
        return load_results(path)

    def counted_errors(entry, kind):
        reads[("counts", entry.source, entry.prefix, kind)] += 1
        return utterance_errors(entry, kind)

    monkeypatch.setattr(access, "load_results", counted_load)
    monkeypatch.setattr(access, "utterance_errors", counted_errors)
    assert make_report.main(["--recipes", str(r), "--seeds", "1", "2", "--without_analysis",
                             "--out_dir", str(tmp_path / "report")]) == 0
    assert sum(1 for k in reads if k[0] == "results.json") == 6      # 3 configs x 2 seeds
    assert sum(1 for k in reads if k[0] == "counts") == 16          # (1 + 1 + 2 outputs) x (CER, WER) x 2 seeds
    assert max(reads.values()) == 1, [k for k, v in reads.items() if v > 1]


def _scored(rng: np.random.Generator, keys: list, hi: int) -> Scored:
    errs = {k: (int(rng.integers(0, hi)), 10) for k in keys}
    words = {k: (min(e, 1), 1) for k, (e, _) in errs.items()}
    rate = lambda e: 100.0 * sum(x for x, _ in e.values()) / sum(n for _, n in e.values())
    return Scored(headline("char"), {"cer": rate(errs), "wer": rate(words)}, {"cer": errs, "wer": words})


def test_one_builder_gives_each_seed_its_own_difference_inside_the_table_over_seeds() -> None:
    rng = np.random.default_rng(3)
    keys = [f"s{s}-u{u}" for s in range(4) for u in range(5)]
    seeds = 3
    scored = {(c, o): [_scored(rng, keys, hi) for _ in range(seeds)]
              for (c, o), hi in {("stl_surface", "surface"): 3, ("stl_meaning", "meaning"): 3, ("mtl", "surface"): 5,
                                 ("mtl", "meaning"): 2, ("partial", "surface"): 4, ("partial", "meaning"): 4}.items()}
    configs = ["stl_surface", "stl_meaning", "mtl", "partial"]

    def finished(table: dict, stat) -> dict:
        items = [r["mtl_minus_stl"] for o in table["outputs"].values() for r in o["rows"]]
        items += [v[key] for m in table["methods"].values() for v in m.values() for key in ("vs_stl", "vs_mtl")]
        adjust({"all": items}, stat)
        return table

    over = finished(comparison_table(scored, configs, OverSeeds()), OverSeeds())
    for i in range(seeds):
        one = finished(comparison_table({k: [v[i]] for k, v in scored.items()}, configs, OneSeed()), OneSeed())
        for o in ("surface", "meaning"):
            for row_one, row_over in zip(one["outputs"][o]["rows"], over["outputs"][o]["rows"]):
                assert row_one["kind"] == row_over["kind"] and row_one["metric"] == row_over["metric"]
                assert row_one["stl"] == scored[({"surface": "stl_surface", "meaning": "stl_meaning"}[o], o)][i] \
                    .values[row_one["kind"]]
                assert row_over["mtl_minus_stl"]["per_seed"][i] == pytest.approx(row_one["mtl_minus_stl"]["abs"],
                                                                                 abs=0.011)
            for key in ("vs_stl", "vs_mtl"):
                assert over["methods"]["partial"][o][key]["per_seed"][i] == pytest.approx(
                    one["methods"]["partial"][o][key]["abs"], abs=0.011)
    head = over["outputs"]["surface"]["rows"][0]
    assert head["stl"]["n"] == seeds and head["mtl_minus_stl"]["n_seeds"] == seeds
    assert "_raw" not in head["mtl_minus_stl"] and "ci95_t" in head["mtl_minus_stl"]
