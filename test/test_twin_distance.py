"""Twin distance per encoder layer on constructed hidden states with known answers, and its REPORT table."""

from __future__ import annotations

import numpy as np
import pytest

from espnet_l2dual.analysis import twin_distance as td
from espnet_l2dual.report.stage10 import DISTANCE_TITLE, _twin_distance

N_SPK, N_ORIG, DIM, LAYERS = 4, 3, 16, 2


def _twin_map():
    """Per speaker ``N_ORIG`` originals, each with a canonical and one single-error twin."""
    utt2twin, utt2spk = {}, {}
    for s in range(N_SPK):
        for o in range(N_ORIG):
            orig = f"s{s}-u{o}"
            for utt, what in ((orig, "original"), (f"{orig}-c", "canonical"),
                              (f"{orig}-e01", "th_stopping@1:THIS>DIS")):
                utt2twin[utt] = f"{orig} {what}"
                utt2spk[utt] = f"s{s}"
    return utt2twin, utt2spk


def _states(utt_ids, vectors, frames: int = 3) -> dict:
    """hidden_states' layout: per layer the rows of every utterance, ``frames`` rows each (pooled = vector)."""
    rng = np.random.default_rng(0)
    states = {"index.rows.enc": np.full((1, len(utt_ids)), float(frames), dtype=np.float32)}
    for layer in range(LAYERS):
        rows = []
        for u in utt_ids:
            noise = rng.normal(size=(frames, DIM))
            noise -= noise.mean(axis=0)  # zero-mean frame noise: the time mean is the vector itself
            rows.append(vectors[u][layer] + noise)
        states[f"enc.{layer}"] = np.concatenate(rows)
    return states


def _distances(twin_vector):
    utt2twin, utt2spk = _twin_map()
    pairs = td.twin_pairs(utt2twin, utt2spk)
    utt_ids = sorted({u for p in pairs for u in (p.twin, p.canonical)})
    rng = np.random.default_rng(1)
    common = 2.0 * rng.normal(size=(LAYERS, DIM))  # what all utterances share: raw distances are small
    vectors = {p.canonical: common + rng.normal(size=(LAYERS, DIM)) for p in pairs}  # unrelated sentences
    for k, p in enumerate(pairs):
        vectors[p.twin] = twin_vector(vectors, p, k, pairs)
    pooled = td.pooled_layers(_states(utt_ids, vectors))
    return td.normalised_distances(pooled, utt_ids, pairs), pairs


def test_pairs_are_single_error_twin_with_canonical():
    pairs = td.twin_pairs(*_twin_map())
    assert len(pairs) == N_SPK * N_ORIG
    assert pairs[0] == td.TwinPair("s0-u0-e01", "s0-u0-c", "s0-u0", "s0", "th_stopping")


def test_identical_twin_is_zero():
    dist, _ = _distances(lambda v, p, k, ps: v[p.canonical])
    np.testing.assert_allclose(dist, 0.0, atol=1e-9)


def test_twin_as_unrelated_utterance_is_about_one():
    # the twin is the canonical twin of another original of the same speaker: as far as a different sentence
    def other(v, p, k, ps):
        same = [q for q in ps if q.speaker == p.speaker and q.original != p.original]
        return v[same[0].canonical]
    dist, pairs = _distances(other)
    means = td.layer_means(dist, pairs, n_resamples=200, seed=0)
    for r in means:
        assert r.point == pytest.approx(1.0, abs=0.35)
        lo, hi = r.interval()
        assert lo <= r.point <= hi


def test_scaled_twin_is_zero_and_half_step_is_between():
    dist, _ = _distances(lambda v, p, k, ps: 3.0 * v[p.canonical])  # cosine ignores scale
    np.testing.assert_allclose(dist, 0.0, atol=1e-9)
    def half(v, p, k, ps):
        same = [q for q in ps if q.speaker == p.speaker and q.original != p.original]
        return v[p.canonical] + 0.3 * v[same[0].canonical]
    dist, _ = _distances(half)
    assert 0.0 < np.nanmean(dist) < 1.0


def test_pooling_splits_rows_by_utterance():
    states = {"index.rows.enc": np.array([[1.0, 2.0]]), "enc.0": np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 4.0]])}
    np.testing.assert_allclose(td.pooled_layers(states)[0], [[1.0, 0.0], [0.0, 3.0]])
    with pytest.raises(ValueError, match="rows"):
        td.pooled_layers({"index.rows.enc": np.array([[5.0]]), "enc.0": np.zeros((2, 2))})


def test_difference_is_paired_and_signed():
    moved, pairs = _distances(lambda v, p, k, ps: v[p.canonical] + 0.5 * np.roll(v[p.canonical], 1, axis=-1))
    still, _ = _distances(lambda v, p, k, ps: v[p.canonical])
    diffs = td.layer_differences(moved, still, pairs, n_resamples=200, seed=0)
    assert len(diffs) == LAYERS
    for r in diffs:
        assert r.point > 0
        assert r.interval()[0] > 0


def test_record_and_report_table():
    moved, pairs = _distances(lambda v, p, k, ps: v[p.canonical] + 0.5 * np.roll(v[p.canonical], 1, axis=-1))
    still, _ = _distances(lambda v, p, k, ps: v[p.canonical])
    rec = td.distance_record({"stl_s": moved, "stl_m": still, "mtl": still}, {"stl_s": "stl_surface",
                             "stl_m": "stl_meaning", "mtl": "mtl"}, "stl_s", ["mtl"], pairs, 100, 0)
    rec["twin_set"] = "eval_twins"
    assert rec["n_speakers"] == N_SPK and rec["n_originals"] == N_SPK * N_ORIG
    assert rec["mtl_minus_stl_surface"]["mtl"]["layers"][0]["diff"] < 0
    lines = _twin_distance({"twin_distance": rec})
    assert lines[0] == DISTANCE_TITLE
    assert any(line.startswith("|mtl|-") for line in lines)
    assert _twin_distance({}) == []
    assert "Skipped: x." in _twin_distance({"twin_distance": {"skipped": "x"}})


def test_skipped_without_twin_set(tmp_path):
    class Args:
        twin_set, data_root = None, tmp_path
    assert "skipped" in td.twin_distance({}, Args(), lambda info: None)
    Args.twin_set = "eval_twins"
    assert "not found" in td.twin_distance({}, Args(), lambda info: None)["skipped"]
