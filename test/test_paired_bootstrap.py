"""Paired bootstrap of error-rate differences over utterances."""

from pathlib import Path

import pytest

from espnet_l2dual.errors import DataError
from espnet_l2dual.scoring.paired_bootstrap import paired_difference, read_trn, utterance_errors


def _trn(path: Path, rows: dict) -> Path:
    path.write_text("".join(f"{' '.join(u)} ({k})\n".lstrip() for k, u in rows.items()), encoding="utf-8")
    return path


def test_utterance_errors_count_edits_per_utterance(tmp_path: Path) -> None:
    ref = _trn(tmp_path / "ref.trn", {"s-1": "abcd", "s-2": "xy"})
    hyp = _trn(tmp_path / "hyp.trn", {"s-1": "abed", "s-2": ""})
    assert read_trn(hyp) == {"s-1": list("abed"), "s-2": []}
    assert utterance_errors(ref, hyp) == {"s-1": (1, 4), "s-2": (2, 2)}


def test_a_hypothesis_id_not_in_the_reference_is_an_error(tmp_path: Path) -> None:
    ref = _trn(tmp_path / "ref.trn", {"s-1": "ab"})
    hyp = _trn(tmp_path / "hyp.trn", {"s-9": "ab"})
    with pytest.raises(DataError, match="hyp.trn.*not in the reference"):
        utterance_errors(ref, hyp)
    (tmp_path / "bad.trn").write_text("a b c\n")
    with pytest.raises(DataError, match=r"bad.trn:1: .*\(id\)"):
        read_trn(tmp_path / "bad.trn")


def test_a_consistent_improvement_has_an_interval_above_zero() -> None:
    a = {f"u{i}": (3, 10) for i in range(40)}
    b = {f"u{i}": (1 + i % 2, 10) for i in range(40)}     # 60 errors fewer in 400 units
    r = paired_difference(b, a)
    assert r["diff"] == pytest.approx(100.0 * (120 - 60) / 400)
    assert 0 < r["lo"] <= r["diff"] <= r["hi"]


def test_a_coin_flip_difference_straddles_zero() -> None:
    a = {f"u{i}": (2 * (i % 2), 10) for i in range(40)}
    b = {f"u{i}": (2 * ((i + 1) % 2), 10) for i in range(40)}   # same total, other utterances
    r = paired_difference(a, b, seed=1)
    assert r["diff"] == 0.0
    assert r["lo"] < 0 < r["hi"]


def test_different_references_are_refused() -> None:
    with pytest.raises(ValueError, match="same reference"):
        paired_difference({"u": (1, 5)}, {"u": (1, 6)})
    assert paired_difference({"u": (1, 5)}, {"v": (1, 5)}) is None


def test_one_utterance_gives_no_interval() -> None:
    from espnet_l2dual.scoring.paired_bootstrap import interval_record

    r = paired_difference({"u": (1, 5)}, {"u": (3, 5)})
    assert r["diff"] == pytest.approx(40.0) and r["lo"] is None and "too few" in r["no_ci"]
    rec = interval_record(r)
    assert rec["ci95"] is None and rec["diff"] == 40.0 and "too few" in rec["no_ci"]
    assert interval_record(None)["no_ci"] == "the two systems share no utterance"
