"""utt2divergence for a data dir (stage 4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from espnet_l2dual.bin import compute_divergence
from espnet_l2dual.data import utt2divergence
from espnet_l2dual.errors import DataError
from espnet_l2dual.utils.fileio import read_table


def _write(path: Path, rows) -> None:
    path.write_text("".join(f"{k} {v}\n" for k, v in rows), encoding="utf-8")


def test_korean_uses_jamo_against_meaning(tmp_path, capsys):
    _write(tmp_path / "text_surface", [("u1", "머거요"), ("u2", "학교")])
    _write(tmp_path / "text_meaning", [("u1", "먹어요"), ("u2", "학교")])
    assert compute_divergence.main(["--lang", "ko", str(tmp_path)]) == 0
    div = read_table(tmp_path / "utt2divergence")
    assert div == {"u1": f"{2 / 7:.6f}", "u2": "0.000000"}
    out = capsys.readouterr().out
    assert "text_meaning" in out and "unit jamo" in out
    assert f"mean={1 / 7:.4f}" in out and "zero=0.500" in out


def test_canonical_is_preferred_and_unit_can_be_forced(tmp_path):
    _write(tmp_path / "text_surface", [("u1", "D IH S"), ("u2", "DH AE T")])
    _write(tmp_path / "text_meaning", [("u1", "THIS"), ("u2", "THAT")])
    _write(tmp_path / "text_canonical", [("u1", "DH IH S"), ("u2", "DH AE T")])
    assert compute_divergence.main(["--lang", "en", "--unit", "token", str(tmp_path)]) == 0
    assert read_table(tmp_path / "utt2divergence") == {"u1": f"{1 / 3:.6f}", "u2": "0.000000"}


def test_missing_reference_names_the_utterance(tmp_path, capsys):
    _write(tmp_path / "text_surface", [("u1", "a"), ("u2", "b")])
    _write(tmp_path / "text_meaning", [("u1", "a")])
    with pytest.raises(DataError, match=r"text_surface:2: 'u2' has no entry in text_meaning"):
        utt2divergence.compute_divergence(tmp_path, "char")
    assert compute_divergence.main(["--lang", "en", str(tmp_path)]) == 1
    assert not (tmp_path / "utt2divergence").exists()


def test_missing_texts_are_a_data_error(tmp_path):
    _write(tmp_path / "text_surface", [("u1", "a")])
    with pytest.raises(DataError, match="text_meaning: missing"):
        utt2divergence.compute_divergence(tmp_path, "char")


def test_phones_against_words_are_refused(tmp_path, capsys):
    """A phone surface without text_canonical has no reference in its units: no meaningless values."""
    _write(tmp_path / "text_surface", [("u1", "W IY K AO L"), ("u2", "B EH R")])
    _write(tmp_path / "text_meaning", [("u1", "WE CALL"), ("u2", "BEAR")])
    with pytest.raises(DataError, match=r"text_meaning: text_surface holds phones but text_meaning holds words"):
        utt2divergence.compute_divergence(tmp_path, "auto")
    assert compute_divergence.main(["--lang", "en", str(tmp_path)]) == 1
    assert "cannot be computed" in capsys.readouterr().err
    assert not (tmp_path / "utt2divergence").exists()


def test_auto_unit_counts_phones_for_a_phone_surface(tmp_path, capsys):
    _write(tmp_path / "text_surface", [("u1", "D IH S"), ("u2", "DH AE T")])
    _write(tmp_path / "text_meaning", [("u1", "THIS"), ("u2", "THAT")])
    _write(tmp_path / "text_canonical", [("u1", "DH IH S"), ("u2", "DH AE T")])
    values, ref, unit = utt2divergence.compute_divergence(tmp_path, "auto", lang="en")
    assert (ref.name, unit) == ("text_canonical", "token")
    assert values == {"u1": pytest.approx(1 / 3), "u2": 0.0}  # one phone of three, not one letter of 8
    assert compute_divergence.main(["--lang", "en", str(tmp_path)]) == 0
    assert "unit token" in capsys.readouterr().out


def test_reference_none_removes_a_stale_file(tmp_path):
    _write(tmp_path / "text_surface", [("u1", "W IY")])
    _write(tmp_path / "text_meaning", [("u1", "WE")])
    _write(tmp_path / "utt2divergence", [("u1", "0.5")])
    assert compute_divergence.main(["--lang", "en", "--reference", "none", str(tmp_path)]) == 0
    assert not (tmp_path / "utt2divergence").exists()
