"""Speed perturbation of a data dir (stage 2) and combining data dirs."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile

from espnet_l2dual.audio.read import read_audio
from espnet_l2dual.bin import combine_data_dirs, perturb_speed
from espnet_l2dual.data import combine, speed_perturb
from espnet_l2dual.errors import DataError
from espnet_l2dual.utils.fileio import read_table

needs_sox = pytest.mark.skipif(shutil.which("sox") is None, reason="sox not installed")


def _tone(path: Path, fs: int = 8000, seconds: float = 0.5) -> int:
    n = int(fs * seconds)
    soundfile.write(str(path), 0.3 * np.sin(2 * np.pi * 440 * np.arange(n) / fs), fs)
    return n


def _write(path: Path, lines) -> None:
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")


def _make_dir(root: Path) -> Path:
    d = root / "data" / "train"
    d.mkdir(parents=True)
    _tone(root / "a.wav")
    _tone(root / "b.wav")
    _write(d / "wav.scp", [f"s1-u1 {root / 'a.wav'}", f"s2-u2 cat {root / 'b.wav'} |"])
    _write(d / "utt2spk", ["s1-u1 s1", "s2-u2 s2"])
    _write(d / "spk2utt", ["s1 s1-u1", "s2 s2-u2"])
    _write(d / "spk2gender", ["s1 f", "s2 m"])
    _write(d / "text_surface", ["s1-u1 머거요", "s2-u2 D IH S"])
    _write(d / "text_meaning", ["s1-u1 먹어요", "s2-u2 THIS"])
    _write(d / "utt2lang", ["s1-u1 ko", "s2-u2 en"])
    _write(d / "utt2dur", ["s1-u1 0.5", "s2-u2 0.5"])
    _write(d / "utt2num_samples", ["s1-u1 4000", "s2-u2 4000"])
    return d


def test_sox_command_for_path_and_pipe():
    assert speed_perturb.sox_speed_command("/x/a.wav", 0.9) == "sox -D -t wav /x/a.wav -t wav - speed 0.9 |"
    assert speed_perturb.sox_speed_command("/x/a b.flac", 1.1) == "sox -D -t flac '/x/a b.flac' -t wav - speed 1.1 |"
    assert (
        speed_perturb.sox_speed_command("cat a.wav |", 0.9) == "cat a.wav | sox -D -t wav - -t wav - speed 0.9 |"
    )
    assert speed_perturb.speed_prefix(0.9) == "sp0.9-"
    assert speed_perturb.speed_prefix(1.0) == ""


def test_perturbed_dir_has_prefixed_ids_and_all_files(tmp_path):
    src = _make_dir(tmp_path)
    dst = tmp_path / "data" / "train_sp0.9"
    assert perturb_speed.main(["--factor", "0.9", str(src), str(dst)]) == 0

    assert read_table(dst / "utt2spk") == {"sp0.9-s1-u1": "sp0.9-s1", "sp0.9-s2-u2": "sp0.9-s2"}
    assert read_table(dst / "spk2utt") == {"sp0.9-s1": "sp0.9-s1-u1", "sp0.9-s2": "sp0.9-s2-u2"}
    assert read_table(dst / "spk2gender") == {"sp0.9-s1": "f", "sp0.9-s2": "m"}
    assert read_table(dst / "text_surface") == {"sp0.9-s1-u1": "머거요", "sp0.9-s2-u2": "D IH S"}
    assert read_table(dst / "text_meaning")["sp0.9-s1-u1"] == "먹어요"
    assert read_table(dst / "utt2lang") == {"sp0.9-s1-u1": "ko", "sp0.9-s2-u2": "en"}
    assert float(read_table(dst / "utt2dur")["sp0.9-s1-u1"]) == pytest.approx(0.5 / 0.9, abs=1e-4)
    assert not (dst / "utt2num_samples").exists()  # stale after perturbation; stage 3 rewrites it
    wav = read_table(dst / "wav.scp")
    assert wav["sp0.9-s1-u1"] == f"sox -D -t wav {tmp_path / 'a.wav'} -t wav - speed 0.9 |"
    assert wav["sp0.9-s2-u2"] == f"cat {tmp_path / 'b.wav'} | sox -D -t wav - -t wav - speed 0.9 |"


@needs_sox
def test_perturbed_audio_is_longer_by_the_factor(tmp_path):
    src = _make_dir(tmp_path)
    dst = tmp_path / "sp"
    speed_perturb.perturb_data_dir(src, dst, 0.9)
    for entry in read_table(dst / "wav.scp").values():
        data, rate = read_audio(entry)
        assert rate == 8000
        assert abs(len(data) - 4000 / 0.9) <= 2


def test_factor_one_keeps_ids_and_audio(tmp_path):
    src = _make_dir(tmp_path)
    dst = tmp_path / "sp1"
    speed_perturb.perturb_data_dir(src, dst, 1.0)
    assert read_table(dst / "wav.scp") == read_table(src / "wav.scp")
    assert read_table(dst / "utt2spk") == read_table(src / "utt2spk")


def test_ark_entries_cannot_be_perturbed(tmp_path):
    src = _make_dir(tmp_path)
    _write(src / "wav.scp", ["s1-u1 dump/x.ark:12", "s2-u2 dump/x.ark:99"])
    with pytest.raises(DataError, match="ark offset"):
        speed_perturb.perturb_data_dir(src, tmp_path / "sp", 0.9)


def test_combine_merges_sorts_and_regenerates_spk2utt(tmp_path):
    src = _make_dir(tmp_path)
    sp = tmp_path / "sp0.9"
    speed_perturb.perturb_data_dir(src, sp, 0.9)
    (sp / "utt2lang").unlink()  # present in only one source: skipped
    dst = tmp_path / "combined"
    assert combine_data_dirs.main([str(dst), str(sp), str(src)]) == 0

    utts = list(read_table(dst / "utt2spk"))
    assert utts == sorted(utts) and len(utts) == 4
    assert list(read_table(dst / "wav.scp")) == utts
    assert read_table(dst / "text_meaning")["sp0.9-s2-u2"] == "THIS"
    spk2utt = read_table(dst / "spk2utt")
    assert spk2utt == {"s1": "s1-u1", "s2": "s2-u2", "sp0.9-s1": "sp0.9-s1-u1", "sp0.9-s2": "sp0.9-s2-u2"}
    assert len(read_table(dst / "spk2gender")) == 4
    assert not (dst / "utt2lang").exists()


def test_combine_fails_on_duplicate_ids_naming_the_dir(tmp_path):
    src = _make_dir(tmp_path)
    copy = tmp_path / "copy"
    shutil.copytree(src, copy)
    with pytest.raises(DataError, match="duplicate id 's1-u1'") as err:
        combine.combine_data_dirs(tmp_path / "out", [src, copy])
    assert "copy" in str(err.value) and str(src) in str(err.value)
    assert combine_data_dirs.main([str(tmp_path / "out2"), str(src), str(copy)]) == 1
