"""Dumping audio (stage 3): formats, resampling, pipes, resuming, merging the jobs."""

from __future__ import annotations

from pathlib import Path

import kaldiio
import numpy as np
import pytest
import soundfile

from espnet_l2dual.audio import format_jobs, format_scp
from espnet_l2dual.audio.resample import resample
from espnet_l2dual.bin import format_wav_scp, merge_format_jobs
from espnet_l2dual.errors import DataError
from espnet_l2dual.utils.fileio import read_table

FS = 16000
FREQ = 440.0


def _tone(path: Path, fs: int, channels: int = 1, seconds: float = 0.5) -> None:
    t = np.arange(int(fs * seconds)) / fs
    x = 0.3 * np.sin(2 * np.pi * FREQ * t)
    soundfile.write(str(path), np.stack([x] * channels, axis=1) if channels > 1 else x, fs)


@pytest.fixture
def in_scp(tmp_path) -> Path:
    """Three 0.5 s tones: 8 kHz wav, 22.05 kHz stereo flac, and a pipe."""
    _tone(tmp_path / "a.wav", 8000)
    _tone(tmp_path / "b.flac", 22050, channels=2)
    _tone(tmp_path / "c.wav", 8000)
    scp = tmp_path / "wav.scp"
    scp.write_text(
        f"a {tmp_path / 'a.wav'}\nb {tmp_path / 'b.flac'}\nc cat {tmp_path / 'c.wav'} |\n", encoding="utf-8"
    )
    return scp


def _load(value: str):
    """Read an output scp value the way ESPnet would (soundfile for files, kaldiio for arks)."""
    if ".ark:" in value:
        rate, data = kaldiio.load_mat(value)
        return np.asarray(data, dtype=np.float64) / (32768.0 if np.issubdtype(data.dtype, np.integer) else 1.0), rate
    return soundfile.read(value)


def _peak_hz(x: np.ndarray, fs: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * fs / len(x))


@pytest.mark.parametrize("audio_format", ["wav", "flac", "wav.ark", "flac.ark"])
def test_every_format_is_resampled_and_readable(tmp_path, in_scp, audio_format):
    out = tmp_path / "dump" / "format.1"
    assert format_wav_scp.main(["--fs", str(FS), "--audio_format", audio_format, str(in_scp), str(out)]) == 0
    scp = read_table(out / "wav.scp")
    assert list(scp) == ["a", "b", "c"]
    assert read_table(out / "utt2num_samples") == {"a": "8000", "b": "8000", "c": "8000"}
    assert (out / "audio_format").read_text().strip() == audio_format
    for utt, value in scp.items():
        data, rate = _load(value)
        assert rate == FS
        assert data.ndim == 1 and len(data) == 8000, utt
        assert abs(_peak_hz(data, rate) - FREQ) < 5, utt
    if audio_format.endswith(".ark"):
        assert [p.name for p in (out / "data").iterdir()] == [f"{audio_format.split('.')[0]}.ark"]
        loaded = dict(kaldiio.load_scp(str(out / "wav.scp")))
        assert set(loaded) == {"a", "b", "c"}
    else:
        assert scp["a"] == str(out / "data" / f"a.{audio_format}")


@pytest.mark.parametrize("backend", ["scipy", "torchaudio"])
def test_resamplers_give_the_expected_length(backend):
    if backend == "torchaudio":
        pytest.importorskip("torchaudio")
    x = np.sin(np.arange(11025) / 10).astype(np.float32)
    assert len(resample(x, 22050, 16000, backend=backend)) == 8000
    assert len(resample(x, 8000, 16000, backend=backend)) == 22050
    assert len(resample(x, 16000, 16000, backend=backend)) == 11025


def _snapshot(out: Path) -> dict:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


@pytest.mark.parametrize("audio_format", ["wav", "flac.ark"])
def test_rerun_after_a_kill_completes_identically(tmp_path, in_scp, audio_format):
    out = tmp_path / "format.1"
    format_scp.format_scp(in_scp, out, FS, audio_format, progress=False)
    expected = _snapshot(out)

    # Simulate a kill: no final scp/utt2num_samples, one output missing, a stale temp file.
    (out / "wav.scp").unlink()
    (out / "utt2num_samples").unlink()
    stale = out / "data" / (".b.wav.tmp" if audio_format == "wav" else ".flac.ark.tmp")
    stale.write_bytes(b"half written")
    if audio_format == "wav":
        (out / "data" / "b.wav").unlink()
        kept = out / "data" / "a.wav"
        kept_stat = kept.stat()

    format_scp.format_scp(in_scp, out, FS, audio_format, progress=False)
    assert _snapshot(out) == expected
    assert not stale.exists()
    if audio_format == "wav":
        assert kept.stat().st_mtime_ns == kept_stat.st_mtime_ns  # reused, not rewritten


def test_changed_source_audio_is_dumped_again(tmp_path, in_scp):
    """Same utt id, same rate, new content: the old dump must not be reused (issue 14)."""
    out = tmp_path / "format.1"
    format_scp.format_scp(in_scp, out, FS, "wav", progress=False)
    before = {u: (out / "data" / f"{u}.wav").read_bytes() for u in "abc"}
    t = np.arange(4000) / 8000
    soundfile.write(str(tmp_path / "a.wav"), 0.3 * np.sin(2 * np.pi * 1000.0 * t), 8000)  # other tone
    soundfile.write(str(tmp_path / "c.wav"), 0.3 * np.sin(2 * np.pi * 1000.0 * t), 8000)  # read by a pipe
    format_scp.format_scp(in_scp, out, FS, "wav", progress=False)
    for utt in "ac":
        data, rate = soundfile.read(str(out / "data" / f"{utt}.wav"))
        assert abs(_peak_hz(data, rate) - 1000.0) < 5, utt
    assert (out / "data" / "b.wav").read_bytes() == before["b"]  # unchanged source: reused
    assert sorted(read_table(out / "source_keys")) == ["a", "b", "c"]


def test_levels_are_written_and_silence_is_reported(tmp_path, in_scp, capsys):
    soundfile.write(str(tmp_path / "z.wav"), np.zeros(8000), 16000)
    with open(in_scp, "a", encoding="utf-8") as f:
        f.write(f"z {tmp_path / 'z.wav'}\n")
    out = tmp_path / "dump" / "format.1"
    format_scp.format_scp(in_scp, out, FS, "wav", progress=False)
    levels = {u: float(v) for u, v in read_table(out / "utt2level_db").items()}
    assert -15 < levels["a"] < -9  # a 0.3-amplitude sine: 20 log10(0.3 / sqrt 2) = -13.5 dBFS
    assert levels["z"] == float("-inf")
    format_jobs.merge_format_jobs(out.parent, 1)
    assert "1/4 recordings are silent or near-silent" in capsys.readouterr().err
    assert read_table(out.parent / "utt2level_db")["z"] == "-inf"


def test_unreadable_entry_names_the_scp_line_and_writes_no_scp(tmp_path, in_scp, capsys):
    with open(in_scp, "a", encoding="utf-8") as f:
        f.write(f"d {tmp_path / 'missing.wav'}\n")
    out = tmp_path / "format.1"
    with pytest.raises(DataError, match=r"wav.scp:4: 'd': cannot read audio"):
        format_scp.format_scp(in_scp, out, FS, "wav", progress=False)
    assert format_wav_scp.main(["--fs", "16000", str(in_scp), str(out)]) == 1
    assert "wav.scp:4" in capsys.readouterr().err
    assert not (out / "wav.scp").exists()
    assert not list((out / "data").glob(".*.tmp"))


def test_failing_pipe_is_an_error(tmp_path):
    scp = tmp_path / "wav.scp"
    scp.write_text(f"x cat {tmp_path / 'nope.wav'} |\n", encoding="utf-8")
    with pytest.raises(DataError, match="command exited with"):
        format_scp.format_scp(scp, tmp_path / "out", FS, "wav", progress=False)


def test_progress_reaches_100_percent(tmp_path, in_scp, capsys):
    format_scp.format_scp(in_scp, tmp_path / "out", FS, "wav")
    err = capsys.readouterr().err
    assert "100% (3/3)" in err and "30% (1/3)" in err


def test_merge_jobs_into_a_complete_dump_dir(tmp_path, in_scp):
    src = tmp_path / "data" / "train"
    src.mkdir(parents=True)
    lines = in_scp.read_text().splitlines()
    (src / "wav.scp").write_text("\n".join(lines) + "\n")
    (src / "utt2spk").write_text("a a\nb b\nc c\n")
    (src / "spk2utt").write_text("a a\nb b\nc c\n")
    (src / "text_surface").write_text("a x\nb y\nc z\n")
    dump = tmp_path / "dump" / "raw" / "train"
    for k, part in ((1, lines[:2]), (2, lines[2:])):
        (tmp_path / f"part.{k}").write_text("\n".join(part) + "\n")
        format_scp.format_scp(tmp_path / f"part.{k}", dump / f"format.{k}", FS, "wav", progress=False)

    with pytest.raises(DataError, match="format.3"):
        format_jobs.merge_format_jobs(dump, 3)
    assert merge_format_jobs.main(["--nj", "2", "--src_data", str(src), str(dump)]) == 0
    scp = read_table(dump / "wav.scp")
    assert list(scp) == ["a", "b", "c"] and scp["c"] == str(dump / "format.2" / "data" / "c.wav")
    assert read_table(dump / "utt2num_samples") == {"a": "8000", "b": "8000", "c": "8000"}
    assert read_table(dump / "text_surface") == {"a": "x", "b": "y", "c": "z"}
    assert (dump / "spk2utt").is_file() and (dump / "feats_type").read_text() == "raw\n"
    assert (dump / "audio_format").read_text() == "wav\n"

    (src / "wav.scp").write_text("\n".join(lines) + f"\nd {tmp_path / 'a.wav'}\n")
    with pytest.raises(DataError, match="'d' not dumped"):
        format_jobs.merge_format_jobs(dump, 2, src_data=src)
