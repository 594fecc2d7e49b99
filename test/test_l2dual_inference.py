"""Decoding both outputs (Speech2DualText), its CLI, and packed models."""

from __future__ import annotations

import unicodedata
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch
import yaml

from tiny_dual_model import FS, make_tiny_model, write_wav

from espnet_l2dual.bin import l2dual_inference as inf
from espnet_l2dual.errors import DataError
from espnet_l2dual.inference.detokenize import jamo_tokens_to_text
from espnet_l2dual.inference.model_loading import load_dual_model
from espnet_l2dual.inference.packing import pack, unpack
from espnet_l2dual.inference.speech2dualtext import Speech2DualText, TooShortUttError


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_model(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    path = write_wav(tmp_path_factory.mktemp("wav") / "a.wav", 0.6, seed=1)
    return soundfile.read(str(path), dtype="float32")[0]


# ------------------------------------------------------------------ tokens -> text


def test_jamo_tokens_recompose_into_syllables():
    tokens = list(unicodedata.normalize("NFD", "먹어요")) + ["<space>"] + list(unicodedata.normalize("NFD", "감사"))
    assert all(0x1100 <= ord(t) <= 0x11FF for t in tokens if t != "<space>")
    assert jamo_tokens_to_text(tokens) == "먹어요 감사"


def test_jamo_tokens_without_vowel_stay_jamo():
    assert jamo_tokens_to_text(["ᄀ", "<space>"]) == "ᄀ"


# ------------------------------------------------------------------ decoding


def test_decode_returns_both_outputs_with_nbest(tiny, speech):
    s2t = Speech2DualText(tiny["config"], tiny["model"], beam_size=4, nbest=3)
    result = s2t(speech)
    assert set(result) == {"surface", "meaning"}
    for o, hyps in result.items():
        assert 1 <= len(hyps) <= 3
        scores = [score for _, _, score in hyps]
        assert scores == sorted(scores, reverse=True)
        assert len({tuple(tokens) for _, tokens, _ in hyps}) == len(hyps)  # distinct hypotheses
    text, tokens, _ = result["meaning"][0]
    assert text == unicodedata.normalize("NFC", "".join(" " if t == "<space>" else t for t in tokens)).strip()
    text, tokens, _ = result["surface"][0]
    assert text == "".join(tokens).replace("▁", " ").strip()


def test_hyps_cut_at_maxlen_carry_no_special_tokens(tiny, speech):
    s2t = Speech2DualText(tiny["config"], tiny["model"], beam_size=2, maxlenratio=0.2)
    for o, hyps in s2t(speech).items():
        for _, tokens, _ in hyps:
            assert tokens and not {"<sos/eos>", "<blank>"} & set(tokens)


def test_one_encoder_pass_for_both_outputs(tiny, speech):
    s2t = Speech2DualText(tiny["config"], tiny["model"], beam_size=2)
    calls = []
    original = s2t.model.encode
    s2t.model.encode = lambda *a, **k: calls.append(1) or original(*a, **k)
    s2t(speech)
    assert len(calls) == 1


def test_greedy_ctc_is_collapsed_argmax(tiny, speech):
    s2t = Speech2DualText(tiny["config"], tiny["model"], ctc_weight=1.0)
    assert all(search is None for search in s2t.searches.values())
    result = s2t(speech)
    x = torch.from_numpy(speech).unsqueeze(0)
    with torch.no_grad():
        enc, _ = s2t.model.encode(x, torch.tensor([x.size(1)]))
        for o in ("surface", "meaning"):
            ids = s2t.model.ctcs[o].argmax(enc)[0].tolist()
            expected = [i for k, i in enumerate(ids) if i != 0 and (k == 0 or ids[k - 1] != i)]
            assert result[o] == [(result[o][0][0], s2t.converters[o].ids2tokens(expected), result[o][0][2])]
            assert len(result[o]) == 1


def test_per_output_overrides(tiny, speech):
    s2t = Speech2DualText(tiny["config"], tiny["model"], beam_size=3,
                          output_overrides={"meaning": {"ctc_weight": 1.0}})
    assert s2t.options["surface"].beam_size == 3 and s2t.searches["surface"] is not None
    assert s2t.options["meaning"].greedy and s2t.searches["meaning"] is None
    with pytest.raises(ValueError, match="cannot override"):
        Speech2DualText(tiny["config"], tiny["model"], output_overrides={"meaning": {"lm_weight": 1}})


def test_outputs_subset_and_unknown_output(tiny, speech):
    s2t = Speech2DualText(tiny["config"], tiny["model"], outputs=["meaning"], beam_size=2)
    assert set(s2t(speech)) == {"meaning"}


def test_stl_model_decodes_only_its_output(tmp_path, speech):
    files = make_tiny_model(tmp_path / "stl", tasks=["surface"])
    s2t = Speech2DualText(files["config"], files["model"], beam_size=2)
    assert set(s2t(speech)) == {"surface"}
    with pytest.raises(ValueError, match="not in this model"):
        Speech2DualText(files["config"], files["model"], outputs=["meaning"])


@pytest.mark.parametrize("samples", [
    np.zeros(0, dtype=np.float32),                       # no audio at all
    np.zeros(FS * 2, dtype=np.float32),                  # digital silence
    0.3 * np.ones(150, dtype=np.float32),                # 19 ms: below the 25 ms minimum
    0.3 * np.sin(np.arange(400, dtype=np.float32)),      # 50 ms: too short for conv2d subsampling
])
def test_empty_silent_and_short_audio_give_empty_text(tiny, samples):
    s2t = Speech2DualText(tiny["config"], tiny["model"], beam_size=2)
    result = s2t(samples)
    assert result == {"surface": [("", [], 0.0)], "meaning": [("", [], 0.0)]}


def test_short_audio_hits_too_short_error_path(tiny):
    s2t = Speech2DualText(tiny["config"], tiny["model"], beam_size=2)
    x = 0.3 * torch.sin(torch.arange(400.0)).unsqueeze(0)
    with pytest.raises(TooShortUttError):  # the model itself refuses; __call__ must catch it
        s2t.model.encode(x, torch.tensor([400]))


def test_missing_model_file_names_the_file(tiny, tmp_path):
    missing = tmp_path / "nope.pth"
    with pytest.raises(DataError, match=str(missing)):
        Speech2DualText(tiny["config"], missing)
    with pytest.raises(DataError, match="config.*not found"):
        Speech2DualText(tmp_path / "config.yaml", tiny["model"])


def test_corrupt_model_file_names_the_file(tiny, tmp_path):
    corrupt = tmp_path / "corrupt.pth"
    corrupt.write_bytes(Path(tiny["model"]).read_bytes()[:500])
    with pytest.raises(DataError, match=f"{corrupt}: cannot load model"):
        Speech2DualText(tiny["config"], corrupt)
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a model at all")
    with pytest.raises(DataError, match=str(garbage)):
        Speech2DualText(tiny["config"], garbage)


# ------------------------------------------------------------------ CLI


def _data_dir(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, kind in enumerate(["speech", "speech", "silent"]):
        wav = write_wav(root / f"u{i}.wav", 0.8, seed=i, silent=kind == "silent")
        lines.append(f"utt{i} {wav}\n")
    (root / "wav.scp").write_text("".join(lines))
    (root / "keys").write_text("utt2 x\nutt0 x\n")  # unsorted on purpose: outputs must be sorted
    return root


def test_cli_writes_sorted_tables_per_output(tiny, tmp_path):
    data = _data_dir(tmp_path / "data")
    out = tmp_path / "decode"
    rc = inf.main(["--data_path_and_name_and_type", f"{data}/wav.scp,speech,sound",
                   "--key_file", str(data / "keys"), "--train_config", str(tiny["config"]),
                   "--model_file", str(tiny["model"]), "--output_dir", str(out),
                   "--beam_size", "2", "--meaning_ctc_weight", "1.0"])
    assert rc == 0
    s2t = Speech2DualText(tiny["config"], tiny["model"], beam_size=2,
                          output_overrides={"meaning": {"ctc_weight": 1.0}})
    expected = s2t(soundfile.read(str(data / "u0.wav"), dtype="float32")[0])
    for o in ("surface", "meaning"):
        for name in ("text", "token", "score"):
            lines = (out / o / name).read_text(encoding="utf-8").splitlines()
            assert [line.split(" ", 1)[0] for line in lines] == ["utt0", "utt2"]
        text = (out / o / "text").read_text(encoding="utf-8").splitlines()
        assert text[0] == f"utt0 {expected[o][0][0]}" and text[1].rstrip() == "utt2"
        score = float((out / o / "score").read_text().splitlines()[0].split()[1])
        assert score == pytest.approx(expected[o][0][2], abs=1e-3)
    assert not list(out.rglob("*.tmp"))


def test_cli_bad_model_exits_nonzero(tiny, tmp_path, capsys):
    data = _data_dir(tmp_path / "data")
    rc = inf.main(["--data_path_and_name_and_type", f"{data}/wav.scp,speech,sound",
                   "--train_config", str(tiny["config"]), "--model_file", str(tmp_path / "x.pth"),
                   "--output_dir", str(tmp_path / "out")])
    assert rc == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("problem", ["missing", "not_audio"])
def test_cli_bad_audio_names_the_scp_line_before_decoding(tiny, tmp_path, capsys, caplog, problem):
    data = _data_dir(tmp_path / "data")
    bad = data / "u1.wav"
    if problem == "missing":
        bad.unlink()
    else:
        bad.write_text("not audio\n")
    rc = inf.main(["--data_path_and_name_and_type", f"{data}/wav.scp,speech,sound",
                   "--train_config", str(tiny["config"]), "--model_file", str(tiny["model"]),
                   "--output_dir", str(tmp_path / "out")])
    assert rc == 1
    err = capsys.readouterr().err + caplog.text
    assert f"{data}/wav.scp:2: 'utt1': " in err
    assert ("missing audio" if problem == "missing" else "cannot read audio") in err
    assert "System error" not in err
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ packing


def test_pack_contents_and_rewritten_paths(tiny, tmp_path):
    zip_path = pack(tiny["config"], tiny["model"], tmp_path / "packed.zip")
    with zipfile.ZipFile(zip_path) as zf:
        names = set(zf.namelist())
        conf = yaml.safe_load(zf.read("config.yaml"))
        meta = yaml.safe_load(zf.read("meta.yaml"))
    assert {"config.yaml", "model.pth", "meta.yaml", "token_list/surface.txt", "token_list/meaning.txt"} <= names
    assert conf["surface_bpemodel"] in names and not Path(conf["surface_bpemodel"]).is_absolute()
    assert conf["normalize_conf"]["stats_file"] in names
    assert meta["rewritten"] == {"surface_bpemodel": conf["surface_bpemodel"],
                                 "normalize_conf.stats_file": conf["normalize_conf"]["stats_file"]}
    assert meta["version"]["espnet_l2dual"] and meta["date"]


def test_packed_decode_identical_to_unpacked(tiny, speech, tmp_path, monkeypatch):
    zip_path = pack(tiny["config"], tiny["model"], tmp_path / "packed.zip")
    plain = Speech2DualText(tiny["config"], tiny["model"], beam_size=3, nbest=2)(speech)
    monkeypatch.chdir(tmp_path)  # the packed model must not depend on the cwd
    packed = Speech2DualText.from_packed(zip_path, cache_dir=tmp_path / "cache", beam_size=3, nbest=2)
    assert str(packed.train_args.normalize_conf["stats_file"]).startswith(str(tmp_path / "cache"))
    assert packed(speech) == plain
    # a second unpack reuses the cache
    assert unpack(zip_path, tmp_path / "cache") == unpack(zip_path, tmp_path / "cache")
    assert len(list((tmp_path / "cache").iterdir())) == 1


def test_corrupt_packed_zip_names_the_file(tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(DataError, match=f"{bad}: not a packed"):
        Speech2DualText.from_packed(bad, cache_dir=tmp_path / "cache")
    with pytest.raises(DataError, match="packed model not found"):
        Speech2DualText.from_packed(tmp_path / "none.zip", cache_dir=tmp_path / "cache")


def test_model_file_of_another_config_is_refused(tiny, tmp_path):
    other = make_tiny_model(tmp_path / "stl", tasks=["meaning"])
    with pytest.raises(DataError, match=f"(?s){other['model']}: cannot load model.*Missing key"):
        Speech2DualText(tiny["config"], other["model"])


def test_from_model_matches_file_loading(tiny, speech):
    model, args = load_dual_model(tiny["config"], tiny["model"])
    wrapped = Speech2DualText.from_model(model, vars(args), beam_size=2)
    assert wrapped(speech) == Speech2DualText(tiny["config"], tiny["model"], beam_size=2)(speech)
