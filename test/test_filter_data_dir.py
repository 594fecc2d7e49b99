"""Filtering a dumped data dir by duration and transcription length (stage 4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from espnet_l2dual.bin import filter_data_dir
from espnet_l2dual.data import filter_dir
from espnet_l2dual.errors import DataError
from espnet_l2dual.utils.fileio import read_table


def _write(path: Path, rows) -> None:
    path.write_text("".join(f"{k} {v}\n" for k, v in rows), encoding="utf-8")


@pytest.fixture
def src(tmp_path) -> Path:
    """Five utterances at 16 kHz: ok, too short, too long, long surface, long meaning (+1 ok)."""
    d = tmp_path / "org"
    d.mkdir()
    utts = {  # utt: (num samples, surface, meaning)
        "s1-ok": (16000, "머거요", "먹어요"),
        "s1-short": (800, "a", "a"),
        "s2-long": (16000 * 21, "a", "a"),
        "s2-surf": (16000, "x" * 11, "x"),
        "s3-mean": (16000, "x", "y y y y y y"),  # 11 characters with spaces
        "s3-ok": (16000 * 20, "abcde fghi", "abcde fghi"),  # 10 chars, exactly 20 s: kept
    }
    _write(d / "wav.scp", [(u, f"/audio/{u}.wav") for u in utts])
    _write(d / "utt2num_samples", [(u, n) for u, (n, _, _) in utts.items()])
    _write(d / "text_surface", [(u, s) for u, (_, s, _) in utts.items()])
    _write(d / "text_meaning", [(u, m) for u, (_, _, m) in utts.items()])
    _write(d / "utt2spk", [(u, u.split("-")[0]) for u in utts])
    _write(d / "spk2utt", [("s1", "s1-ok s1-short"), ("s2", "s2-long s2-surf"), ("s3", "s3-mean s3-ok")])
    _write(d / "spk2gender", [("s1", "f"), ("s2", "m"), ("s3", "f")])
    _write(d / "utt2l1", [(u, "zh") for u in utts])
    (d / "feats_type").write_text("raw\n")
    return d


ARGS = ["--fs", "16000", "--min_wav_duration", "0.1", "--max_wav_duration", "20", "--max_tokens", "10"]


def test_filter_keeps_only_utterances_within_bounds(tmp_path, src, capsys):
    dst = tmp_path / "raw"
    assert filter_data_dir.main(ARGS + [str(src), str(dst)]) == 0
    assert "kept 2/6 (removed: 1 too short, 1 too long, 2 too many tokens, 0 silent)" in capsys.readouterr().err
    kept = ["s1-ok", "s3-ok"]
    for name in ("wav.scp", "utt2num_samples", "text_surface", "text_meaning", "utt2spk", "utt2l1"):
        assert list(read_table(dst / name)) == kept, name
    assert read_table(dst / "spk2utt") == {"s1": "s1-ok", "s3": "s3-ok"}
    assert read_table(dst / "spk2gender") == {"s1": "f", "s3": "f"}
    assert (dst / "feats_type").read_text() == "raw\n"
    assert read_table(dst / "text_surface")["s3-ok"] == "abcde fghi"


def test_filter_in_place(src):
    report = filter_dir.filter_data_dir(src, src, 16000, 0.1, 20.0, 10)
    assert report.kept == ["s1-ok", "s3-ok"]
    assert list(read_table(src / "text_meaning")) == ["s1-ok", "s3-ok"]


def test_missing_utt2num_samples_is_a_data_error(tmp_path, src, capsys):
    (src / "utt2num_samples").unlink()
    with pytest.raises(DataError, match="utt2num_samples: missing"):
        filter_dir.filter_data_dir(src, tmp_path / "raw", 16000, 0.1, 20.0, 10)
    assert filter_data_dir.main(ARGS + [str(src), str(tmp_path / "raw")]) == 1
    assert "utt2num_samples" in capsys.readouterr().err
    assert not (tmp_path / "raw").exists()


def test_nothing_left_is_an_error(tmp_path, src):
    with pytest.raises(DataError, match="no utterance left"):
        filter_dir.filter_data_dir(src, tmp_path / "raw", 16000, 100.0, 200.0, 10)


def test_bad_sample_count_names_the_line(tmp_path, src):
    (src / "utt2num_samples").write_text("s1-ok 16000\ns1-short many\n")
    with pytest.raises(DataError, match=r"utt2num_samples:2: 's1-short'"):
        filter_dir.filter_data_dir(src, tmp_path / "raw", 16000, 0.1, 20.0, 10)


def test_silent_recordings_are_dropped_below_the_level(tmp_path, src, capsys):
    levels = {u: "-25.0" for u in read_table(src / "utt2num_samples")}
    levels["s1-ok"] = "-inf"  # digital silence
    (src / "utt2level_db").write_text("".join(f"{u} {v}\n" for u, v in sorted(levels.items())))
    dst = tmp_path / "raw"
    assert filter_data_dir.main(ARGS + ["--min_level_db", "-60", str(src), str(dst)]) == 0
    assert "1 silent, e.g. s1-ok)" in capsys.readouterr().err
    assert list(read_table(dst / "wav.scp")) == ["s3-ok"]
    assert filter_data_dir.main(ARGS + [str(src), str(tmp_path / "all")]) == 0  # default: keep
    assert list(read_table(tmp_path / "all" / "wav.scp")) == ["s1-ok", "s3-ok"]
    (src / "utt2level_db").write_text("s1-ok loud\n")
    assert filter_data_dir.main(ARGS + [str(src), str(tmp_path / "x")]) == 1
    assert "utt2level_db:1: 's1-ok': 'loud' is not a level in dB" in capsys.readouterr().err
