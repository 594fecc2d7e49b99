"""The dual adapter: .trn lines -> data dirs, .pcm via sox, splits, errors at file:line."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import soundfile

from corpus_fixtures import write_pcm, write_wav
from espnet_l2dual.bin.prepare_dual import main
from espnet_l2dual.corpus.dual_dirs import prepare_dual
from espnet_l2dual.data.validate import validate_data_dir
from espnet_l2dual.errors import DataError
from espnet_l2dual.utils.fileio import read_table

LINES = {
    "KsponSpeech_01/KsponSpeech_0001/KsponSpeech_000001.pcm": "나 (먹어요)/(머거요) b/",
    "KsponSpeech_01/KsponSpeech_0001/KsponSpeech_000002.pcm": "(3시)/(세 시)에 봐+",
    "KsponSpeech_01/KsponSpeech_0002/KsponSpeech_001001.pcm": "좋아요",
    "KsponSpeech_01/KsponSpeech_0003/KsponSpeech_002001.pcm": "안녕하세요",
    "KsponSpeech_01/KsponSpeech_0004/KsponSpeech_003001.wav": "(같이)/(가치) 가요",
    "KsponSpeech_01/KsponSpeech_0005/KsponSpeech_004001.flac": "네",
}


def make_corpus(tmp_path: Path, lines=LINES) -> tuple:
    root = tmp_path / "kspon"
    for rel in lines:
        if rel.endswith(".pcm"):
            write_pcm(root / rel, 0.5)
        elif rel.endswith(".flac"):
            p = root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            soundfile.write(str(p), [0.0] * 8000, 16000, format="FLAC")
        else:
            write_wav(root / rel, 0.5)
    trn = tmp_path / "train.trn"
    trn.write_text("".join(f"{rel} :: {text}\n" for rel, text in lines.items()), encoding="utf-8")
    return root, trn


def test_texts_wav_scp_and_speaker_disjoint_split(tmp_path: Path, capsys) -> None:
    root, trn = make_corpus(tmp_path)
    out = tmp_path / "data"
    args = ["--lang", "ko", "--trn", str(trn), "--audio_root", str(root), "--out", str(out),
            "--dev_speakers", "1", "--test_speakers", "2", "--seed", "3"]
    assert main(args) == 0
    speakers = {}
    surface, meaning, wav = {}, {}, {}
    for name in ("train", "dev", "test"):
        validate_data_dir(out / name)
        speakers[name] = set(read_table(out / name / "utt2spk").values())
        surface.update(read_table(out / name / "text_surface"))
        meaning.update(read_table(out / name / "text_meaning"))
        wav.update(read_table(out / name / "wav.scp"))
    assert [len(s) for s in speakers.values()] == [2, 1, 2]
    assert not (speakers["train"] & speakers["dev"] or speakers["train"] & speakers["test"]
                or speakers["dev"] & speakers["test"])
    utt = "KsponSpeech_0001-KsponSpeech_000001"
    assert (surface[utt], meaning[utt]) == ("나 머거요", "나 먹어요")
    assert (surface["KsponSpeech_0001-KsponSpeech_000002"], meaning["KsponSpeech_0001-KsponSpeech_000002"]) == (
        "세 시에 봐", "3시에 봐")
    pcm = root / "KsponSpeech_01/KsponSpeech_0001/KsponSpeech_000001.pcm"
    assert wav[utt] == f"sox -t raw -r 16000 -b 16 -e signed-integer -c 1 {pcm.resolve()} -t wav - |"
    assert wav["KsponSpeech_0004-KsponSpeech_003001"].endswith("KsponSpeech_003001.wav")
    printed = capsys.readouterr().out
    assert "total" in printed and "0.001" in printed  # 6 x 0.5 s = 0.000833 h
    # same seed -> same split; the sox command really produces the audio
    decoded = subprocess.run(wav[utt][:-1], shell=True, capture_output=True, check=True).stdout
    assert decoded[:4] == b"RIFF" and len(decoded) == 44 + 16000


def test_seeded_split_is_reproducible(tmp_path: Path) -> None:
    root, trn = make_corpus(tmp_path)
    for out in ("a", "b"):
        prepare_dual("ko", [trn], root, tmp_path / out, num_dev=1, num_test=1, seed=7)
    for name in ("train", "dev", "test"):
        assert (tmp_path / "a" / name / "utt2spk").read_text() == (tmp_path / "b" / name / "utt2spk").read_text()


def test_split_lists_by_path_or_id_and_trn_as_list(tmp_path: Path) -> None:
    root, trn = make_corpus(tmp_path)
    rels = list(LINES)
    (tmp_path / "dev.lst").write_text(f"{rels[2]}\n\nKsponSpeech_0003-KsponSpeech_002001\n")
    test_trn = tmp_path / "test.trn"
    test_trn.write_text(f"{rels[4]} :: whatever\n")
    (tmp_path / "train.lst").write_text(f"{rels[0]}\n{rels[1]}\n")
    out = tmp_path / "data"
    text = prepare_dual("ko", [trn], root, out,
                        split_lists=f"train={tmp_path / 'train.lst'},dev={tmp_path / 'dev.lst'},test={test_trn}")
    assert sorted(read_table(out / "dev" / "utt2spk")) == ["KsponSpeech_0002-KsponSpeech_001001",
                                                           "KsponSpeech_0003-KsponSpeech_002001"]
    assert list(read_table(out / "test" / "utt2spk")) == ["KsponSpeech_0004-KsponSpeech_003001"]
    assert len(read_table(out / "train" / "utt2spk")) == 2
    assert "no split list (unused): 1" in text
    (tmp_path / "dev.lst").write_text("KsponSpeech_01/nope.pcm\n")
    with pytest.raises(DataError) as e:
        prepare_dual("ko", [trn], root, out,
                     split_lists=f"train={tmp_path / 'train.lst'},dev={tmp_path / 'dev.lst'},test={test_trn}")
    assert str(e.value).startswith(f"{tmp_path / 'dev.lst'}:1: ")


def test_custom_speaker_pattern(tmp_path: Path) -> None:
    lines = {f"spk{s}_utt{u}.wav": "hello world" for s in range(4) for u in range(2)}
    root, trn = make_corpus(tmp_path, lines)
    out = tmp_path / "data"
    prepare_dual("en", [trn], root, out, speaker_pattern=r"^(spk\d+)_")
    spk = {**read_table(out / "train" / "utt2spk"), **read_table(out / "dev" / "utt2spk")}
    assert spk["spk0-spk0_utt1"] == "spk0"
    assert set(read_table(out / "train" / "text_meaning").values()) == {"HELLO WORLD"}
    with pytest.raises(ValueError, match="exactly one group"):
        prepare_dual("en", [trn], root, out, speaker_pattern=r"spk\d+")


@pytest.mark.parametrize(
    "bad_line, reason",
    [
        ("KsponSpeech_01/KsponSpeech_0009/x.pcm 안녕", "no '::' found"),
        ("KsponSpeech_01/KsponSpeech_0009/missing.pcm :: 안녕", "missing audio"),
        ("KsponSpeech_01/KsponSpeech_0009/extra.pcm :: (먹어요)/(머거요", "unbalanced"),
        ("KsponSpeech_01/KsponSpeech_0009/extra.pcm :: b/", "empty"),
        ("top_level.pcm :: 안녕", "does not match"),
    ],
)
def test_bad_lines_fail_with_file_and_line(tmp_path: Path, bad_line: str, reason: str) -> None:
    root, trn = make_corpus(tmp_path)
    write_pcm(root / "top_level.pcm")
    write_pcm(root / "KsponSpeech_01/KsponSpeech_0009/extra.pcm")
    trn.write_text(trn.read_text(encoding="utf-8") + bad_line + "\n", encoding="utf-8")
    with pytest.raises(DataError) as e:
        prepare_dual("ko", [trn], root, tmp_path / "data")
    assert e.value.path == str(trn) and e.value.line == len(LINES) + 1
    assert reason in e.value.reason
    assert not (tmp_path / "data").exists()


def test_duplicate_across_files_and_non_utf8(tmp_path: Path, capsys) -> None:
    root, trn = make_corpus(tmp_path)
    second = tmp_path / "more.trn"
    second.write_text(f"{list(LINES)[3]} :: 또\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"more\.trn:1: duplicate utterance id .* \(first at .*train\.trn:4\)"):
        prepare_dual("ko", [trn, second], root, tmp_path / "data")
    second.write_bytes(f"{list(LINES)[3]} :: ".encode() + "안녕".encode("cp949") + b"\n")
    assert main(["--lang", "ko", "--trn", str(trn), "--trn", str(second), "--audio_root", str(root)]) == 1
    assert "more.trn:1: not UTF-8" in capsys.readouterr().err


def test_local_data_sh_dual(tmp_path: Path) -> None:
    from test_prepare_manifest import make_recipe

    root, trn = make_corpus(tmp_path)
    recipe = make_recipe(tmp_path, "l2ko")
    cmd = ["local/data.sh", "--corpus", "dual", "--corpus_dir", str(root), "--trn", f"{trn} {trn}",
           "--nj", "2", "--dev_speakers", "2", "--test_speakers", "1"]
    proc = subprocess.run(cmd, cwd=recipe, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "duplicate utterance id" in proc.stderr  # the same list twice
    cmd[6] = str(trn)
    proc = subprocess.run(cmd, cwd=recipe, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(set(read_table(recipe / "data" / "dev" / "utt2spk").values())) == 2
