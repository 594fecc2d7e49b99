"""The transcribe CLI and its surface/meaning difference marking."""

from __future__ import annotations

import html as html_lib

from tiny_dual_model import make_tiny_model, write_wav

from espnet_l2dual.bin.transcribe import main
from espnet_l2dual.inference.transcription import alignment_note, format_result, mispronunciations
from espnet_l2dual.inference.packing import pack
from espnet_l2dual.text.word_differences import mark_differences


def test_substitution_is_marked_on_both_sides():
    assert mark_differences("I THINK SO", "I TINK SO") == ("I [THINK] SO", "I [TINK] SO")


def test_identical_transcriptions_have_no_marks():
    assert mark_differences("먹어요 감사", "먹어요 감사") == ("먹어요 감사", "먹어요 감사")


def test_deletion_and_insertion_show_a_gap():
    assert mark_differences("I DO THINK SO", "I THINK SO") == ("I [DO] THINK SO", "I [*] THINK SO")
    assert mark_differences("I SO", "I TINK SO") == ("I [*] SO", "I [TINK] SO")


def test_multi_word_replacement_is_aligned_as_one_block():
    meaning, surface = mark_differences("THIS IS A TEST", "DIS IZ A TEST")
    assert meaning == "[THIS] [IS] A TEST" and surface == "[DIS] [IZ] A TEST"


def test_empty_outputs():
    assert mark_differences("", "") == ("", "")
    assert mark_differences("YES", "") == ("[YES]", "[*]")


def test_format_result_single_output_model():
    assert format_result("a.wav", {"surface": "D IH S"}) == "a.wav\n  surface: D IH S"


def test_cli_prints_both_outputs_per_file(tmp_path, capsys):
    files = make_tiny_model(tmp_path / "model")
    zip_path = pack(files["config"], files["model"], tmp_path / "packed.zip")
    a = write_wav(tmp_path / "a.wav", 0.5, seed=3)
    b = write_wav(tmp_path / "b.wav", 0.5, silent=True)
    rc = main(["--model", str(zip_path), "--cache_dir", str(tmp_path / "cache"), "--beam_size", "2",
               str(a), str(b), str(tmp_path / "missing.wav")])
    out, err = capsys.readouterr()
    assert rc == 1  # the missing file is reported, the others are still transcribed
    assert "missing.wav" in err
    lines = out.splitlines()
    assert lines[0] == str(a) and lines[1].startswith("  meaning: ") and lines[2].startswith("  surface: ")
    assert lines[3].startswith("  mispronounced (prompt-free): ")
    assert lines[4:] == [str(b), "  meaning: ", "  surface: ", "  mispronounced (prompt-free): none"]


def test_mispronounced_words_prompted_and_prompt_free():
    from espnet_l2dual.inference.transcription import mispronunciations

    texts = {"meaning": "I THINK SO", "surface": "I TINK SO"}
    errors, mode = mispronunciations(texts, "en", None)
    assert mode == "prompt-free" and errors == [{"word": "THINK", "expected": "THINK", "said": "TINK"}]
    errors, mode = mispronunciations(texts, "en", "i think so")  # the prompt, normalised
    assert mode == "prompted" and [e["said"] for e in errors] == ["TINK"]
    assert "mispronounced (prompted): THINK: expected THINK, said TINK" in format_result("a", texts, errors, mode)
    # Korean: the expected form is the standard pronunciation, so a regular rule is no error
    ko = {"meaning": "먹어요 학교", "surface": "머거요 학교"}
    errors, _ = mispronunciations(ko, "ko", None)
    assert errors == [{"word": "학교", "expected": "학꾜", "said": "학교"}]
    assert mispronunciations({"meaning": "X"}, "en", None) == (None, "")


# ---------------------------------------------------------------- outputs in different units


def test_outputs_in_the_same_units_are_aligned():
    for types in ({"surface": "bpe", "meaning": "char"}, {"surface": "jamo", "meaning": "jamo"},
                  {"surface": None, "meaning": "char"}, {"surface": "word", "meaning": "phn"}):
        assert alignment_note(types) is None, types


def test_outputs_in_different_units_are_printed_unaligned():
    types = {"surface": "word", "meaning": "char"}  # L2-ARCTIC: perceived phones vs prompt words
    note = alignment_note(types)
    assert note is not None and "different units" in note and "word tokens" in note
    texts = {"meaning": "THIS IS IT", "surface": "DH IH S IH Z IH T"}
    block = format_result("a.wav", texts, aligned=False)
    assert block == "a.wav\n  meaning: THIS IS IT\n  surface: DH IH S IH Z IH T"
    assert "[" in format_result("a.wav", texts)  # aligned, everything would be bracketed


def test_no_mispronounced_words_for_a_phone_surface():
    texts = {"meaning": "THIS IS IT", "surface": "DH IH S IH Z IH T"}
    # not an empty list ("none found") and not every word: the expected phones are unknown
    assert mispronunciations(texts, "en", None, "token") == (None, "")
    assert mispronunciations(texts, "en", "this is it", "token") == (None, "")
    assert "mispronounced" not in format_result("a.wav", texts, None, "", aligned=False)


def test_cli_with_a_phone_surface_prints_plainly_and_says_why_once(tmp_path, capsys):
    files = make_tiny_model(tmp_path / "model", surface_phones=True)
    zip_path = pack(files["config"], files["model"], tmp_path / "packed.zip")
    a = write_wav(tmp_path / "a.wav", 0.5, seed=3)
    b = write_wav(tmp_path / "b.wav", 0.5, seed=4)
    rc = main(["--model", str(zip_path), "--cache_dir", str(tmp_path / "cache"), "--beam_size", "2",
               str(a), str(b)])
    out, err = capsys.readouterr()
    assert rc == 0
    lines = out.splitlines()
    assert [lines[0], lines[3]] == [str(a), str(b)] and len(lines) == 6
    for line in lines[1:3] + lines[4:6]:
        assert line.startswith(("  meaning: ", "  surface: ")) and "[" not in line, line
    assert err.count("transcribe: note: ") == 2  # once each, not once per file
    assert err.count("different units") == 1 and err.count("no mispronounced words") == 1


def test_difference_segments_mark_the_words_the_other_output_lacks():
    from espnet_l2dual.text.word_differences import difference_segments

    segs = difference_segments("I TINK SO", "I THINK SO")
    assert [(s["op"], s["text"].strip(), s["ref"]) for s in segs] == [("C", "I", ""), ("S", "TINK", "THINK"),
                                                                      ("C", "SO", "")]
    assert [s["op"] for s in difference_segments("I DO SO", "I SO")] == ["C", "I", "C"]
    assert {s["op"] for s in difference_segments("A B", None)} == {"C"}


def test_cli_html_page_of_the_recordings(tmp_path, capsys):
    files = make_tiny_model(tmp_path / "model")
    zip_path = pack(files["config"], files["model"], tmp_path / "packed.zip")
    a = write_wav(tmp_path / "a.wav", 0.5, seed=3)
    b = write_wav(tmp_path / "b.wav", 0.5, seed=4)
    page = tmp_path / "out" / "page.html"
    rc = main(["--model", str(zip_path), "--cache_dir", str(tmp_path / "cache"), "--beam_size", "2",
               "--html", str(page), str(a), str(b)])
    out, err = capsys.readouterr()
    assert rc == 0 and f"wrote {page}" in err
    html = page.read_text(encoding="utf-8")
    assert html.count('<tr class="utt"') == 2 and html.count("<audio ") == 2
    assert 'src="../a.wav"' in html  # relative to the page, so it plays from file://
    # the printed outputs are on the page, escaped
    for line in out.splitlines():
        if line.startswith("  meaning: "):
            words = line.split(": ", 1)[1].replace("[", "").replace("]", "").replace("*", "").split()
            assert all(html_lib.escape(w, quote=False) in html for w in words)
    assert "mispronunciations" in html


def test_cli_batch_size_does_not_change_the_output(tmp_path, capsys):
    files = make_tiny_model(tmp_path / "model")
    zip_path = pack(files["config"], files["model"], tmp_path / "packed.zip")
    wavs = [str(write_wav(tmp_path / f"{i}.wav", 0.3 + 0.2 * i, seed=i)) for i in range(4)]
    outs = []
    for size in ("1", "3"):
        assert main(["--model", str(zip_path), "--cache_dir", str(tmp_path / "cache"), "--beam_size", "2",
                     "--batch_size", size, *wavs]) == 0
        outs.append(capsys.readouterr().out)
    assert outs[0] == outs[1] and all(w in outs[0] for w in wavs)
