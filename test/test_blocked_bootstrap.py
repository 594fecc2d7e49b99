"""Speaker-blocked paired bootstrap: coverage under a per-speaker effect, pairing, centring."""

from __future__ import annotations

from typing import Dict, Tuple

import numpy as np
import pytest

from espnet_l2dual.scoring.blocked_bootstrap import SPEAKERS, UTTERANCES, block_weights, resample
from espnet_l2dual.scoring.paired_bootstrap import paired_difference, paired_f1_difference

REF_LEN = 20
TRUE_DIFF = 5.0  # points: system b errs 5% more often on average over the speaker population


def _dataset(rng: np.random.Generator, n_spk: int, n_utt: int) -> Tuple[Dict[str, Tuple[int, int]], ...]:
    """Two systems on ``n_spk`` speakers x ``n_utt`` utterances; b's extra error rate varies by speaker
    (uniform in [-15, +15] points around +5), so utterances of one speaker are correlated."""
    extra = TRUE_DIFF / 100 + rng.uniform(-0.15, 0.15, size=(n_spk, 1))
    ea = rng.binomial(REF_LEN, 0.3, size=(n_spk, n_utt))
    eb = rng.binomial(REF_LEN, 0.3 + np.broadcast_to(extra, (n_spk, n_utt)))
    keys = [f"s{s}-u{u}" for s in range(n_spk) for u in range(n_utt)]
    a = {k: (int(e), REF_LEN) for k, e in zip(keys, ea.ravel())}
    b = {k: (int(e), REF_LEN) for k, e in zip(keys, eb.ravel())}
    return a, b


def _coverage(n_spk: int, n_utt: int, unit: str, n_sets: int = 200) -> float:
    rng = np.random.default_rng(7)
    hits = 0
    for i in range(n_sets):
        a, b = _dataset(rng, n_spk, n_utt)
        r = paired_difference(a, b, n_resamples=299, seed=i, unit=unit)
        hits += r["lo"] <= TRUE_DIFF <= r["hi"]
    return hits / n_sets


def test_speaker_blocked_interval_covers_where_the_utterance_interval_does_not() -> None:
    blocked, utterance = _coverage(20, 15, SPEAKERS), _coverage(20, 15, UTTERANCES)
    few_blocked, few_utterance = _coverage(5, 15, SPEAKERS, 50), _coverage(5, 15, UTTERANCES, 50)
    print(f"\ncoverage of the true difference, nominal 95%: 20 speakers x 15 utterances: speaker-blocked "
          f"{blocked:.1%}, utterance-only {utterance:.1%}; 5 speakers x 15: speaker-blocked {few_blocked:.1%}, "
          f"utterance-only {few_utterance:.1%}")
    assert blocked >= 0.90
    assert utterance < 0.80


def test_block_weights_draw_speakers_then_utterances() -> None:
    blocks = [np.array([0, 1, 2]), np.array([3, 4, 5])]
    w = block_weights(blocks, 6, 4000, np.random.default_rng(0))
    assert (w.sum(axis=1) == 6).all()                       # as many utterances as the data has
    per_block = np.stack([w[:, :3].sum(axis=1), w[:, 3:].sum(axis=1)], axis=1)
    assert set(np.unique(per_block)) <= {0, 3, 6}           # whole speakers are drawn
    assert (per_block == 0).any(axis=1).mean() == pytest.approx(0.5, abs=0.03)   # one speaker left out half the time


def test_a_per_utterance_offset_shared_by_both_systems_cancels() -> None:
    rng = np.random.default_rng(3)
    a, b = _dataset(rng, 10, 10)
    offset = {u: int(rng.integers(0, 40)) for u in a}     # hard utterances: both systems err more there
    a2 = {u: (e + offset[u], n + 40) for u, (e, n) in a.items()}
    b2 = {u: (e + offset[u], n + 40) for u, (e, n) in b.items()}
    r, r2 = paired_difference(a2, b2, seed=1), paired_difference(a2, b2, seed=1)
    assert (r["lo"], r["hi"]) == (r2["lo"], r2["hi"])
    base = paired_difference({u: (e, n + 40) for u, (e, n) in a.items()},
                             {u: (e, n + 40) for u, (e, n) in b.items()}, seed=1)
    # the offset changes neither the difference nor its interval: the draw is shared (paired)
    assert r["diff"] == pytest.approx(base["diff"])
    assert r["lo"] == pytest.approx(base["lo"]) and r["hi"] == pytest.approx(base["hi"])


def test_the_difference_is_the_ratio_of_summed_counts_and_the_interval_is_centred_on_it() -> None:
    # long utterances with few errors, short ones with many: the ratio of sums (sclite's rate)
    # and the mean of per-utterance rates differ by far more than the interval's width
    a, b = {}, {}
    for s in range(8):
        for u in range(10):
            key, n = f"s{s}-u{u}", (4 if u % 2 else 60)
            a[key] = (2 if n == 4 else 3, n)
            b[key] = (3 if n == 4 else 3 + (u + s) % 3, n)
    ea, eb = np.array([a[k][0] for k in a]), np.array([b[k][0] for k in a])
    n = np.array([a[k][1] for k in a])
    r = paired_difference(a, b, seed=2)
    assert r["diff"] == pytest.approx(100 * (eb.sum() - ea.sum()) / n.sum())
    mean_of_rates = 100 * np.mean((eb - ea) / n)
    assert abs(mean_of_rates - r["diff"]) > 3 * (r["hi"] - r["lo"])
    assert r["lo"] <= r["diff"] <= r["hi"]
    assert abs((r["lo"] + r["hi"]) / 2 - r["diff"]) < 0.2 * (r["hi"] - r["lo"])


def test_f1_difference_is_paired_and_speaker_blocked() -> None:
    a = {f"s{s}-u{u}": (1, 0, 1) for s in range(6) for u in range(5)}
    b = {k: (2, 0, 0) for k in a}
    r = paired_f1_difference(a, b, seed=0)
    assert r["diff"] == pytest.approx(100 - 200 / 3) and r["lo"] == pytest.approx(r["diff"]) == r["hi"]
    assert r["unit"] == "speakers x utterances" and r["n_spk"] == 6
    mixed = {k: ((2, 0, 0) if int(k[1]) % 2 else (1, 0, 1)) for k in a}     # better on half the speakers
    blocked, utt = paired_f1_difference(a, mixed, seed=0), paired_f1_difference(a, mixed, seed=0, unit=UTTERANCES)
    assert blocked["lo"] < blocked["diff"] < blocked["hi"] and utt["lo"] < utt["diff"] < utt["hi"]
    assert blocked["hi"] - blocked["lo"] > 1.3 * (utt["hi"] - utt["lo"])    # the speaker effect widens it


def test_one_speaker_falls_back_to_utterances_and_says_so() -> None:
    a = {f"all-u{i}": (i % 3, 10) for i in range(30)}
    b = {k: (e + (i % 2), n) for i, (k, (e, n)) in enumerate(a.items())}
    r = paired_difference(a, b)
    assert r["unit"] == "utterances" and r["n_spk"] == 1 and r["lo"] < r["diff"] < r["hi"]


def test_resample_rejects_an_unknown_unit() -> None:
    with pytest.raises(ValueError, match="resampling unit"):
        resample(np.ones((3, 1)), ["a", "b", "c"], lambda s: s[:, 0], unit="frames")


def test_one_utterance_gives_no_interval() -> None:
    from espnet_l2dual.scoring.paired_bootstrap import interval_record

    r = paired_difference({"s-u": (1, 5)}, {"s-u": (3, 5)})
    assert r["diff"] == pytest.approx(40.0) and r["lo"] is None and "too few" in r["no_ci"]
    rec = interval_record(r)
    assert rec["ci95"] is None and rec["diff"] == 40.0 and "too few" in rec["no_ci"]
    assert interval_record(None)["no_ci"] == "the two systems share no utterance"


def test_different_references_are_refused() -> None:
    with pytest.raises(ValueError, match="same reference"):
        paired_difference({"s-u": (1, 5)}, {"s-u": (1, 6)})
    assert paired_difference({"s-u": (1, 5)}, {"s-v": (1, 5)}) is None
