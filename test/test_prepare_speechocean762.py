"""The speechocean762 adapter on a fixture in the official release layout (WAVE/ train/ test/ resource/)."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from corpus_fixtures import write_wav
from espnet_l2dual.bin.prepare_speechocean762 import main
from espnet_l2dual.corpus.speechocean762 import ScoredWord, perceived_phones, strip_phone
from espnet_l2dual.corpus.speechocean762_dirs import dev_speakers, prepare_speechocean762
from espnet_l2dual.data.validate import validate_data_dir
from espnet_l2dual.errors import DataError
from espnet_l2dual.utils.fileio import read_table

# word -> canonical phones as resource/text-phone writes them (stress digits, position marks)
LEXICON = {
    "WE": ["W_B", "IY0_E"],
    "CALL": ["K_B", "AO0_I", "L_E"],
    "IT": ["IH0_B", "T_E"],
    "BEAR": ["B_B", "EH0_I", "R_E"],
    "THREE": ["TH_B", "R_I", "IY0_E"],
}
SENTENCES = ["WE CALL IT BEAR", "THREE BEAR", "IT CALL WE"]
# (utterance, word index) -> mispronunciations of that word in scores.json
MISPRONOUNCED = {
    ("000010001", 1): [{"canonical-phone": "L", "index": 2, "pronounced-phone": "<DEL>"}],
    ("000010001", 3): [{"canonical-phone": "R", "index": 2, "pronounced-phone": "R*"}],
    ("000010002", 0): [{"canonical-phone": "TH", "index": 0, "pronounced-phone": "S"},
                       {"canonical-phone": "R", "index": 1, "pronounced-phone": "<unk>"}],
}
TRAIN_SPEAKERS = [f"{i:04d}" for i in range(1, 11)]
TEST_SPEAKERS = [f"{i:04d}" for i in range(11, 14)]


def _utt(spk: str, k: int) -> str:
    return f"{int(spk):05d}{k:04d}"


def _write(path: Path, rows: List[Tuple[str, str]], sep: str = "\t") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{a}{sep}{b}\n" for a, b in rows), encoding="utf-8")


def make_release(root: Path, with_scores: bool = True) -> Path:
    text_phone: List[Tuple[str, str]] = []
    scores: Dict[str, dict] = {}
    for name, speakers in (("train", TRAIN_SPEAKERS), ("test", TEST_SPEAKERS)):
        wav, text, utt2spk = [], [], []
        for spk in speakers:
            for k, sentence in enumerate(SENTENCES, 1):
                utt = _utt(spk, k)
                rel = f"WAVE/SPEAKER{spk}/{utt}.WAV"
                write_wav(root / rel, 0.4)
                wav.append((utt, rel))
                text.append((utt, sentence))
                utt2spk.append((utt, spk))
                words = []
                for i, w in enumerate(sentence.split()):
                    text_phone.append((f"{utt}.{i}", " ".join(LEXICON[w])))
                    phones = [p.split("_")[0] for p in LEXICON[w]]
                    words.append({"text": w, "phones": phones, "accuracy": 10,
                                  "mispronunciations": MISPRONOUNCED.get((utt, i), [])})
                scores[utt] = {"text": sentence, "accuracy": 8, "words": words}
        _write(root / name / "wav.scp", wav)
        _write(root / name / "text", text)
        _write(root / name / "utt2spk", utt2spk, " ")
        _write(root / name / "spk2age", [(s, str(6 + int(s))) for s in speakers])
        _write(root / name / "spk2gender", [(s, "m" if int(s) % 2 else "f") for s in speakers])
    _write(root / "resource" / "text-phone", sorted(text_phone))
    if with_scores:
        (root / "resource" / "scores.json").write_text(json.dumps(scores, indent=4), encoding="utf-8")
    return root


@pytest.mark.parametrize("label, phone", [("IY0_E", "IY"), ("K_B", "K"), ("AO1", "AO"), ("r_s", "R")])
def test_strip_phone(label: str, phone: str) -> None:
    assert strip_phone(label) == phone


def test_perceived_phone_policy() -> None:
    counts: Counter = Counter()
    word = ScoredWord("CALL", ["K", "AO", "L"], {0: "G", 1: "AO*", 2: "<DEL>"})
    assert perceived_phones(word, counts) == ["G", "AO"]
    assert perceived_phones(ScoredWord("IT", ["IH", "T"], {1: "<unk>"}), counts) == ["IH", "T"]
    assert counts == Counter(substitutions=1, distortion_labels=1, same_as_canonical=1, deletions=1, unk_labels=1)


def test_dev_speakers_are_a_seeded_share_of_train() -> None:
    spks = [f"{i:04d}" for i in range(1, 126)]
    dev = dev_speakers(reversed(spks), 0.1, 1)
    assert len(dev) == 12 and dev == dev_speakers(spks, 0.1, 1)  # order of the input does not matter
    assert dev != dev_speakers(spks, 0.1, 2)
    with pytest.raises(ValueError, match="between 0 and 1"):
        dev_speakers(spks, 1.0, 1)


def test_release_with_scores(tmp_path: Path, capsys) -> None:
    root = make_release(tmp_path / "so762")
    out = tmp_path / "data"
    assert main(["--root", str(root), "--out", str(out), "--dev_fraction", "0.2", "--seed", "3"]) == 0
    spk = {name: set(read_table(out / name / "utt2spk").values()) for name in ("train", "dev", "test")}
    for name in spk:
        validate_data_dir(out / name)
    assert spk["test"] == set(TEST_SPEAKERS)  # the official test set, untouched
    assert len(spk["dev"]) == 2 and spk["dev"] | spk["train"] == set(TRAIN_SPEAKERS)
    assert spk["dev"] == set(dev_speakers(TRAIN_SPEAKERS, 0.2, 3)) and not spk["dev"] & spk["train"]
    d = out / ("train" if "0001" in spk["train"] else "dev")
    u1, u2 = "0001-000010001", "0001-000010002"
    # CALL lost its L; BEAR's R* is an R; THREE: TH -> S, <unk> keeps R
    assert read_table(d / "text_surface")[u1] == "W IY K AO IH T B EH R"
    assert read_table(d / "text_canonical")[u1] == "W IY K AO L IH T B EH R"
    assert read_table(d / "text_meaning")[u1] == "WE CALL IT BEAR"
    assert read_table(d / "text_surface")[u2] == "S R IY B EH R"
    assert read_table(d / "utt2age")[u1] == "7" and read_table(d / "utt2gender")[u1] == "m"
    assert set(read_table(d / "utt2l1").values()) == {"mandarin"}
    printed = capsys.readouterr()
    assert "perceived phones from" in printed.out
    # only speaker 0001's utterance ids carry mispronunciations in the fixture
    assert "deletions: 1" in printed.out and "unk_labels: 1" in printed.out and "substitutions: 1" in printed.out


def test_release_without_scores_is_phone_recognition(tmp_path: Path, capsys) -> None:
    root = make_release(tmp_path / "so762", with_scores=False)
    prepare_speechocean762(root, tmp_path / "data")
    test = tmp_path / "data" / "test"
    assert read_table(test / "text_surface") == read_table(test / "text_canonical")
    assert "surface = canonical phones" in capsys.readouterr().err


def test_scores_at_the_root_are_found(tmp_path: Path) -> None:
    root = make_release(tmp_path / "so762")
    (root / "resource" / "scores.json").rename(root / "scores.json")
    prepare_speechocean762(root, tmp_path / "data", 0.2)
    train_or_dev = {**read_table(tmp_path / "data" / "train" / "text_surface"),
                    **read_table(tmp_path / "data" / "dev" / "text_surface")}
    assert train_or_dev["0001-000010002"] == "S R IY B EH R"


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, l in enumerate(path.read_text().splitlines(), 1) if needle in l)


def test_bad_release_files_name_the_place(tmp_path: Path, capsys) -> None:
    root = make_release(tmp_path / "so762")
    tp = root / "resource" / "text-phone"
    tp.write_text(tp.read_text().replace("000010001.1\tK_B AO0_I L_E", "000010001.1\tK_B 4O_I L_E"))
    out = tmp_path / "data"
    assert main(["--root", str(root), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{tp}:{_line_of(tp, '000010001.1')}: '4O_I' is not one of the 39 ARPAbet phones" in err
    assert not out.exists()


def test_scores_that_contradict_the_canonical_phones(tmp_path: Path) -> None:
    root = make_release(tmp_path / "so762")
    scores_file = root / "resource" / "scores.json"
    scores = json.loads(scores_file.read_text())
    scores["000010002"]["words"][0]["mispronunciations"][0]["canonical-phone"] = "DH"
    scores_file.write_text(json.dumps(scores, indent=4))
    with pytest.raises(DataError) as e:
        prepare_speechocean762(root, tmp_path / "data")
    assert e.value.path == str(scores_file) and e.value.line == _line_of(scores_file, '"000010002"')
    assert "utterance '000010002' word 0: mispronunciation at 0 names canonical 'DH', the word has 'TH'" in str(e.value)
    scores_file.write_text("{\n  \"000010001\": {\"words\": [}\n}")
    with pytest.raises(DataError, match=r"scores.json:2:\d+: not JSON"):
        prepare_speechocean762(root, tmp_path / "data")


def test_word_count_mismatch_and_missing_audio(tmp_path: Path) -> None:
    root = make_release(tmp_path / "so762", with_scores=False)
    text = root / "train" / "text"
    text.write_text(text.read_text().replace("000010003\tIT CALL WE", "000010003\tIT CALL WE TOO"))
    with pytest.raises(DataError, match=r"train/text:3: utterance '000010003' has 4 words but resource/text-phone gives 3"):
        prepare_speechocean762(root, tmp_path / "data")
    text.write_text(text.read_text().replace("IT CALL WE TOO", "IT CALL WE"))
    (root / "WAVE" / "SPEAKER0002" / "000020001.WAV").unlink()
    with pytest.raises(DataError, match=r"train/wav.scp:4: missing audio"):
        prepare_speechocean762(root, tmp_path / "data")


def test_local_data_sh_speechocean762(tmp_path: Path) -> None:
    from test_prepare_manifest import make_recipe

    root = make_release(tmp_path / "so762")
    recipe = make_recipe(tmp_path, "l2en")
    cmd = ["local/data.sh", "--corpus", "speechocean762", "--corpus_dir", str(root), "--dev_fraction", "0.2"]
    proc = subprocess.run(cmd, cwd=recipe, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert set(read_table(recipe / "data" / "test" / "utt2spk").values()) == set(TEST_SPEAKERS)
    assert (recipe / "data" / "dev" / "text_canonical").is_file()
