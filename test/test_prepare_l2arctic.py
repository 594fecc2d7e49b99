"""The l2arctic adapter: phone-label policy, data dirs, speaker split, errors at file:line."""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path
from typing import List

import pytest

from corpus_fixtures import even_intervals, long_textgrid, write_wav
from espnet_l2dual.bin.prepare_l2arctic import main
from espnet_l2dual.corpus.l2arctic import parse_phone_label
from espnet_l2dual.corpus.l2arctic_dirs import prepare_l2arctic
from espnet_l2dual.data.validate import validate_data_dir
from espnet_l2dual.errors import DataError
from espnet_l2dual.utils.fileio import read_table

# "this is", said as D IH S IH Z with an extra AH, and "is" with a deleted Z in the 2nd utterance
PHONES_A = ["sil", "DH,D,s", "IH1", "S", "sp", "IH0", "Z", "sil,AH,a", "sil"]
PHONES_B = ["DH", "IH1", "S", "IH0", "Z,sil,d", ""]


def add_utt(root: Path, spk: str, stem: str, phones: List[str], prompt: str = "This is.") -> Path:
    write_wav(root / spk / "wav" / f"{stem}.wav", 0.5)
    (root / spk / "transcript").mkdir(parents=True, exist_ok=True)
    (root / spk / "transcript" / f"{stem}.txt").write_text(prompt, encoding="utf-8")
    tg = root / spk / "annotation" / f"{stem}.TextGrid"
    tg.parent.mkdir(parents=True, exist_ok=True)
    tiers = {"words": even_intervals(["", "this", "is", ""]), "phones": even_intervals(phones)}
    tg.write_text(long_textgrid(tiers), encoding="utf-8")
    return tg


def make_corpus(root: Path) -> Path:
    for spk in ("ABA", "HJK", "TNI", "SVBI", "LXC"):
        add_utt(root, spk, "arctic_a0001", PHONES_A)
        add_utt(root, spk, "arctic_a0002", PHONES_B)
    write_wav(root / "ABA" / "wav" / "arctic_a0003.wav")  # not annotated: not used
    (root / "suitcase_corpus" / "annotation").mkdir(parents=True)  # other layout: skipped
    return root


@pytest.mark.parametrize(
    "label, expected",
    [
        ("AH0", ("AH", "AH")),
        ("DH,D,s", ("DH", "D")),
        ("T,sil,d", ("T", None)),
        ("T,,d", ("T", None)),
        ("sil,AH,a", (None, "AH")),
        (",AH1,a", (None, "AH")),
        ("sil", (None, None)),
        ("spn", (None, None)),
        ("", (None, None)),
        ("IY1,err,s", ("IY", "IY")),
        ("Z,S*,s", ("Z", "S")),
        ("ER)", ("ER", "ER")),
        ("AX", ("AH", "AH")),
        (" dh , d , s ", ("DH", "D")),
    ],
)
def test_phone_labels(label: str, expected) -> None:
    assert parse_phone_label(label, "x.TextGrid", 3, Counter()) == expected


def test_unclear_labels_are_counted() -> None:
    counts: Counter = Counter()
    parse_phone_label("IY1,err,s", "x", 1, counts)
    parse_phone_label("Z,S*,s", "x", 1, counts)
    parse_phone_label("sil,err,a", "x", 1, counts)
    assert counts["err_labels"] == 2 and counts["distortion_labels"] == 1 and counts["substitutions"] == 2


@pytest.mark.parametrize("label", ["DH,D", "DH,D,x", "DH,D,s,1", "1,D,s", "DH,sp,s", "DH,err"])
def test_bad_labels(label: str) -> None:
    with pytest.raises(DataError) as e:
        parse_phone_label(label, "x.TextGrid", 7, Counter())
    assert str(e.value).startswith("x.TextGrid:7: ")


def test_prepare_writes_valid_speaker_disjoint_sets(tmp_path: Path, capsys) -> None:
    root = make_corpus(tmp_path / "l2arctic")
    out = tmp_path / "data"
    assert main(["--root", str(root), "--out", str(out), "--dev_speakers", "SVBI", "--test_speakers", "TNI LXC"]) == 0
    speakers = {}
    for name in ("train", "dev", "test"):
        summary = validate_data_dir(out / name)
        speakers[name] = set(read_table(out / name / "utt2spk").values())
        assert summary.num_utterances == 2 * len(speakers[name])
    assert speakers == {"train": {"ABA", "HJK"}, "dev": {"SVBI"}, "test": {"LXC", "TNI"}}
    train = out / "train"
    assert read_table(train / "text_surface")["ABA-arctic_a0001"] == "D IH S IH Z AH"
    assert read_table(train / "text_canonical")["ABA-arctic_a0001"] == "DH IH S IH Z"
    assert read_table(train / "text_surface")["ABA-arctic_a0002"] == "DH IH S IH"
    assert read_table(train / "text_canonical")["ABA-arctic_a0002"] == "DH IH S IH Z"
    assert read_table(train / "text_meaning")["ABA-arctic_a0001"] == "THIS IS"
    assert read_table(train / "utt2l1") == {"ABA-arctic_a0001": "arabic", "ABA-arctic_a0002": "arabic",
                                            "HJK-arctic_a0001": "korean", "HJK-arctic_a0002": "korean"}
    assert set(read_table(train / "utt2lang").values()) == {"en"}
    printed = capsys.readouterr().out
    assert "total" in printed and "substitutions: 5" in printed and "deletions: 5" in printed


def test_missing_transcript_falls_back_to_words_tier(tmp_path: Path) -> None:
    root = make_corpus(tmp_path / "l2arctic")
    (root / "ABA" / "transcript" / "arctic_a0001.txt").unlink()
    prepare_l2arctic(root, tmp_path / "data", ["SVBI"], ["TNI"])
    assert read_table(tmp_path / "data" / "train" / "text_meaning")["ABA-arctic_a0001"] == "THIS IS"


def test_unknown_split_speaker_fails(tmp_path: Path) -> None:
    root = make_corpus(tmp_path / "l2arctic")
    with pytest.raises(ValueError, match="NOPE"):
        prepare_l2arctic(root, tmp_path / "data", ["SVBI"], ["NOPE"])


def test_malformed_textgrid_fails_with_file_line_or_is_skipped(tmp_path: Path, capsys) -> None:
    root = make_corpus(tmp_path / "l2arctic")
    bad = add_utt(root, "HJK", "arctic_a0009", ["DH", "IH1", "S,Z", "sil"])
    text = bad.read_text()
    line = next(i for i, l in enumerate(text.splitlines(), 1) if '"S,Z"' in l)
    out = tmp_path / "data"
    assert main(["--root", str(root), "--out", str(out), "--dev_speakers", "SVBI", "--test_speakers", "TNI"]) == 1
    assert f"{bad}:{line}: " in capsys.readouterr().err
    assert not out.exists()
    assert main(["--root", str(root), "--out", str(out), "--dev_speakers", "SVBI", "--test_speakers", "TNI",
                 "--skip_bad"]) == 0
    assert "skipped_utterances: 1" in capsys.readouterr().out
    assert "HJK-arctic_a0009" not in read_table(out / "train" / "utt2spk")


def test_truncated_textgrid_and_missing_audio(tmp_path: Path) -> None:
    root = make_corpus(tmp_path / "l2arctic")
    tg = root / "ABA" / "annotation" / "arctic_a0001.TextGrid"
    lines = tg.read_text().splitlines()
    tg.write_text("\n".join(lines[:-6]) + "\n")
    with pytest.raises(DataError) as e:
        prepare_l2arctic(root, tmp_path / "data", ["SVBI"], ["TNI"])
    assert e.value.path == str(tg) and e.value.line is not None
    tg.write_text("\n".join(lines) + "\n")
    (root / "HJK" / "wav" / "arctic_a0002.wav").unlink()
    with pytest.raises(DataError, match="missing audio"):
        prepare_l2arctic(root, tmp_path / "data", ["SVBI"], ["TNI"])


def test_local_data_sh_l2arctic(tmp_path: Path) -> None:
    from test_prepare_manifest import make_recipe

    root = make_corpus(tmp_path / "l2arctic")
    recipe = make_recipe(tmp_path, "l2en")
    cmd = ["local/data.sh", "--corpus", "l2arctic", "--corpus_dir", str(root), "--nj", "2",
           "--dev_speakers", "SVBI", "--test_speakers", "TNI LXC"]
    proc = subprocess.run(cmd, cwd=recipe, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert set(read_table(recipe / "data" / "test" / "utt2spk").values()) == {"TNI", "LXC"}
    validate_data_dir(recipe / "data" / "train")
