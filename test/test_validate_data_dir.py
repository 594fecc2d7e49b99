"""The data-dir validator: a good dir passes, every kind of damage is named with file:line."""

import subprocess
import sys
from pathlib import Path

import pytest

from espnet_l2dual.data.validate import validate_data_dir
from espnet_l2dual.errors import DataError

REPO = Path(__file__).resolve().parents[1]

UTTS = {  # utt -> (speaker, surface, meaning)
    "spk1-u1": ("spk1", "머거요", "먹어요"),
    "spk1-u2": ("spk1", "D IH S", "THIS"),
    "spk2-u1": ("spk2", "가치", "같이"),
}


def write(path, lines):
    path.write_bytes("".join(line + "\n" for line in lines).encode("utf-8"))


@pytest.fixture
def good(tmp_path):
    d = tmp_path / "data" / "train"
    (tmp_path / "wav").mkdir(parents=True)
    d.mkdir(parents=True)
    wav_lines = []
    for utt in UTTS:
        (tmp_path / "wav" / f"{utt}.wav").write_bytes(b"RIFF")
        wav_lines.append(f"{utt} {tmp_path}/wav/{utt}.wav")
    write(d / "wav.scp", wav_lines)
    write(d / "utt2spk", [f"{u} {s}" for u, (s, _, _) in UTTS.items()])
    write(d / "spk2utt", ["spk1 spk1-u1 spk1-u2", "spk2 spk2-u1"])
    write(d / "text_surface", [f"{u} {t}" for u, (_, t, _) in UTTS.items()])
    write(d / "text_meaning", [f"{u} {t}" for u, (_, _, t) in UTTS.items()])
    write(d / "utt2lang", [f"{u} ko" for u in UTTS])
    write(d / "utt2divergence", [f"{u} 0.25" for u in UTTS])
    write(d / "utt2rules", ["spk1-u1 liaison", "spk1-u2", "spk2-u1 palatalization"])
    return d


def expect_error(d, file, line, reason, **kwargs):
    with pytest.raises(DataError) as info:
        validate_data_dir(d, **kwargs)
    e = info.value
    assert Path(e.path).name == file, str(e)
    assert e.line == line, str(e)
    assert reason in e.reason, str(e)
    return e


def test_good_dir_passes(good):
    summary = validate_data_dir(good)
    assert (summary.num_utterances, summary.num_speakers) == (3, 2)
    assert {"wav.scp", "text_surface", "utt2rules", "utt2divergence"} <= set(summary.files)
    assert str(summary).startswith(f"{good}: valid (3 utterances, 2 speakers, files: ")


def test_cli_success_and_failure(good):
    cmd = [sys.executable, "-m", "espnet_l2dual.bin.validate_data_dir"]
    r = subprocess.run([*cmd, str(good)], capture_output=True, text=True, cwd=REPO, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"{good}: valid (3 utterances, 2 speakers")
    write(good / "text_meaning", ["spk1-u1 먹어요", "spk1-u2 THIS", "spk2-u1 (같이"])
    r = subprocess.run([*cmd, str(good)], capture_output=True, text=True, cwd=REPO, timeout=30)
    assert r.returncode == 1
    assert f"{good}/text_meaning:3: unbalanced" in r.stderr
    r = subprocess.run([str(REPO / "egs2/TEMPLATE/asr1/utils/validate_data_dir.sh"), "--require", "text_surface",
                        str(good)], capture_output=True, text=True, env={"python": sys.executable, "PATH": "/usr/bin:/bin"},
                       cwd=good, timeout=30)
    assert r.returncode == 1 and "text_meaning:3" in r.stderr


def test_unsorted(good):
    write(good / "text_surface", ["spk1-u2 D IH S", "spk1-u1 머거요", "spk2-u1 가치"])
    expect_error(good, "text_surface", 2, "not sorted")


def test_sort_is_code_point_order(good):
    # 'Z' (0x5a) sorts before 'a' (0x61) in C order, unlike most locales.
    write(good / "utt2l1", ["spk1-u1 ko", "spk1-u2 ko", "spk2-u1 ko"])
    validate_data_dir(good)
    write(good / "spk2utt", ["spk2 spk2-u1", "spk1 spk1-u1 spk1-u2"])
    expect_error(good, "spk2utt", 2, "not sorted")


def test_duplicate_id(good):
    write(good / "text_meaning", ["spk1-u1 먹어요", "spk1-u1 먹어요", "spk1-u2 THIS", "spk2-u1 같이"])
    expect_error(good, "text_meaning", 2, "duplicate id 'spk1-u1'")


def test_missing_audio(good):
    (good.parent.parent / "wav" / "spk1-u2.wav").unlink()
    expect_error(good, "wav.scp", 2, "missing audio")
    validate_data_dir(good, check_audio=False)


def test_audio_commands_and_ark_offsets(good, tmp_path):
    (tmp_path / "feats.ark").write_bytes(b"")
    write(good / "wav.scp", [
        f"spk1-u1 {tmp_path}/feats.ark:123",
        "spk1-u2 sox in.flac -t wav - |",
        f"spk2-u1 {tmp_path}/other.ark:7",
    ])
    expect_error(good, "wav.scp", 3, "ark file")
    write(good / "wav.scp", ["spk1-u1 sox a.flac -t wav -", "spk1-u2 x |", "spk2-u1 y |"])
    expect_error(good, "wav.scp", 1, "must end with '|'", check_audio=False)


def test_empty_text(good):
    write(good / "text_surface", ["spk1-u1 머거요", "spk1-u2   ", "spk2-u1 가치"])
    expect_error(good, "text_surface", 2, "empty text")


def test_empty_value_in_other_files(good):
    write(good / "utt2spk", ["spk1-u1 spk1", "spk1-u2", "spk2-u1 spk2"])
    expect_error(good, "utt2spk", 2, "no value")


def test_unbalanced_brackets(good):
    write(good / "text_surface", ["spk1-u1 머거요", "spk1-u2 D IH S)", "spk2-u1 가치"])
    e = expect_error(good, "text_surface", 2, "unbalanced dual-transcription brackets")
    assert "character 7" in e.reason
    write(good / "text_surface", ["spk1-u1 머거요", "spk1-u2 (D IH S)", "spk2-u1 가치"])
    validate_data_dir(good)  # balanced is fine


def test_mismatched_ids(good):
    write(good / "text_meaning", ["spk1-u1 먹어요", "spk2-u1 같이"])
    e = expect_error(good, "text_meaning", None, "'spk1-u2'")
    assert "missing" in e.reason and "utt2spk" in e.reason
    write(good / "text_meaning", ["spk1-u1 먹어요", "spk1-u2 THIS", "spk2-u1 같이", "spk3-u1 x"])
    expect_error(good, "text_meaning", 4, "'spk3-u1' is not in utt2spk")


def test_not_utf8(good):
    (good / "text_meaning").write_bytes("spk1-u1 먹어요\nspk1-u2 THIS\nspk2-u1 ".encode() + b"\xff\xfe\n")
    expect_error(good, "text_meaning", 3, "not UTF-8")


def test_required_files(good):
    (good / "text_meaning").unlink()
    expect_error(good, "text_meaning", None, "required file is missing")
    validate_data_dir(good, required=["text_surface"])
    (good / "spk2utt").unlink()
    expect_error(good, "spk2utt", None, "required file is missing", required=["text_surface"])


def test_spk2utt_must_match_utt2spk(good):
    write(good / "spk2utt", ["spk1 spk1-u1", "spk2 spk1-u2 spk2-u1"])
    expect_error(good, "spk2utt", 2, "listed under speaker 'spk2'")
    write(good / "spk2utt", ["spk1 spk1-u1", "spk2 spk2-u1"])
    expect_error(good, "spk2utt", None, "'spk1-u2'")


@pytest.mark.parametrize("name, value, reason", [
    ("utt2lang", "fr", "language must be one of"),
    ("utt2divergence", "-0.1", "divergence must be finite"),
    ("utt2divergence", "abc", "must be a number"),
    ("utt2dur", "0", "duration must be finite and > 0"),
    ("utt2num_samples", "1.5", "positive integer"),
])
def test_optional_file_values(good, name, value, reason):
    write(good / name, ["spk1-u1 1", f"spk1-u2 {value}", "spk2-u1 1"] if name != "utt2lang"
          else ["spk1-u1 ko", f"spk1-u2 {value}", "spk2-u1 en"])
    expect_error(good, name, 2, reason)


def test_segments(good, tmp_path):
    (tmp_path / "rec.wav").write_bytes(b"")
    write(good / "wav.scp", [f"rec1 {tmp_path}/rec.wav"])
    write(good / "segments", ["spk1-u1 rec1 0.0 1.5", "spk1-u2 rec1 1.5 3.0", "spk2-u1 rec1 3.0 4.2"])
    assert "segments" in validate_data_dir(good).files
    write(good / "segments", ["spk1-u1 rec1 0.0 1.5", "spk1-u2 rec2 1.5 3.0", "spk2-u1 rec1 3.0 4.2"])
    expect_error(good, "segments", 2, "recording 'rec2'")
    write(good / "segments", ["spk1-u1 rec1 0.0 1.5", "spk1-u2 rec1 3.0 1.5", "spk2-u1 rec1 3.0 4.2"])
    expect_error(good, "segments", 2, "bad segment times")
