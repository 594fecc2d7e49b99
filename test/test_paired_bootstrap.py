"""The paired bootstrap reads sclite's own per-utterance counts: one scorer for a difference and its interval."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from espnet_l2dual.scoring.paired_bootstrap import interval_record, paired_difference, sclite_utterance_errors
from espnet_l2dual.scoring.sclite import run_sclite


def _system(tmp_path: Path, name: str, refs: dict, rng: np.random.Generator, p_err: float, spk: dict):
    hyps = {}
    for u, ref in refs.items():
        hyp = []
        for unit in ref:
            r = rng.random()
            if r < p_err / 2:
                hyp.append("x")                      # substitution
            elif r < p_err * 3 / 4:
                continue                             # deletion
            else:
                hyp.append(unit)
            if rng.random() < p_err / 4:
                hyp.append("y")                      # insertion
        hyps[u] = hyp
    counts = run_sclite(tmp_path / name, refs, hyps, spk)
    return counts, sclite_utterance_errors(tmp_path / name)


def test_per_utterance_counts_are_sclites_and_the_printed_difference_lies_in_its_interval(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    refs = {f"utt{s}_{i}": list(rng.choice(list("abcdefgh"), size=int(rng.integers(3, 15))))
            for s in range(6) for i in range(8)}
    spk = {u: u.split("_")[0] for u in refs}
    ca, a = _system(tmp_path, "a", refs, rng, 0.15, spk)
    cb, b = _system(tmp_path, "b", refs, rng, 0.30, spk)
    assert set(a) == {f"{spk[u]}-{u}" for u in refs}                      # sclite's ids: speaker first
    for c, per in ((ca, a), (cb, b)):
        assert sum(e for e, _ in per.values()) == c.errors and sum(n for _, n in per.values()) == c.n_ref
    r = paired_difference(a, b)
    assert r["diff"] == pytest.approx(cb.rate - ca.rate)                 # sclite's own rates, not a recount
    assert r["n_spk"] == 6 and r["unit"] == "speakers x utterances" and r["method"] == "percentile"
    rec = interval_record(r)
    assert rec["ci95"][0] <= rec["diff"] <= rec["ci95"][1]
