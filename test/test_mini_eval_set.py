"""The mini corpus's held-out ``eval`` set: new sentences, unseen voices, nothing else changed."""

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from espnet_l2dual.bin.make_mini_corpus import main
from espnet_l2dual.corpus.eval_set import (EVAL_SPEAKERS, EVAL_UTTS_PER_SPEAKER, report_set_of_results,
                                           resolve_report_set)
from espnet_l2dual.corpus.mini import make_eval_utterances, make_utterances
from espnet_l2dual.corpus.speakers import make_held_out_speakers, make_speakers
from espnet_l2dual.data.validate import validate_data_dir
from espnet_l2dual.utils.fileio import read_table

SETS = ("train", "dev", "test")
DEFAULT_UTTS = {"train": 1200, "dev": 150, "test": 150}
DEFAULT_SPK = {"train": 40, "dev": 5, "test": 5}
# sha256 (first 16 hex digits) of every field that makes a train/dev/test utterance's tables and
# audio (texts, rules, speaker, voice, pitch, speed), default options, seed 1, computed with the
# corpus code as it was before the eval set existed: eval must leave them exactly as they were.
BEFORE_EVAL = {
    "en": {"train": "5870947745baf635", "dev": "2ae97c9efe3637e4", "test": "7d3244b23a8b2d43"},
    "ko": {"train": "c5ce7440c96b390b", "dev": "1a4b6a604c720422", "test": "b8d9a341edcd83b4"},
}
needs_espeak = pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("sox")),
                                  reason="needs espeak-ng and sox")


def _digest(utts) -> str:
    h = hashlib.sha256()
    for u in utts:
        sp = u.speaker
        h.update(repr((u.utt_id, u.meaning, u.surface, u.canonical, u.rules, sp.spk_id, sp.l1, sp.voice,
                       sp.pitch, sp.speed, sp.severity, sorted(sp.rates.items()))).encode())
    return h.hexdigest()[:16]


def _default_corpus(lang: str):
    """The default corpus's utterances per set, eval included, as make_mini_corpus builds them (no audio)."""
    speakers = make_speakers(lang, DEFAULT_SPK, 1)
    speakers["eval"] = make_held_out_speakers(lang, "eval", EVAL_SPEAKERS, speakers, 1)
    utts = make_utterances(lang, 1, DEFAULT_UTTS, speakers)
    utts["eval"] = make_eval_utterances(lang, 1, speakers["eval"], EVAL_UTTS_PER_SPEAKER, utts)
    return speakers, utts


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_default_eval_is_new_and_leaves_the_other_sets_unchanged(lang):
    speakers, utts = _default_corpus(lang)
    assert {s: _digest(utts[s]) for s in SETS} == BEFORE_EVAL[lang]
    ev = utts["eval"]
    assert EVAL_SPEAKERS >= 20 and EVAL_UTTS_PER_SPEAKER >= 15
    assert len(ev) == EVAL_SPEAKERS * EVAL_UTTS_PER_SPEAKER
    per_spk = {}
    for u in ev:
        per_spk[u.speaker.spk_id] = per_spk.get(u.speaker.spk_id, 0) + 1
        assert u.utt_id.startswith(u.speaker.spk_id + "-")
    assert len(per_spk) == EVAL_SPEAKERS and set(per_spk.values()) == {EVAL_UTTS_PER_SPEAKER}
    assert [u.utt_id for u in ev] == sorted(u.utt_id for u in ev)
    # unseen voices and speakers; new sentences, none repeated inside eval either
    other_spk = {sp.spk_id for s in SETS for sp in speakers[s]}
    other_voices = {sp.voice for s in SETS for sp in speakers[s]}
    assert not {sp.spk_id for sp in speakers["eval"]} & other_spk
    assert not {sp.voice for sp in speakers["eval"]} & other_voices
    assert len({sp.voice for sp in speakers["eval"]}) == EVAL_SPEAKERS
    other_sentences = {tuple(u.meaning) for s in SETS for u in utts[s]}
    eval_sentences = [tuple(u.meaning) for u in ev]
    assert not set(eval_sentences) & other_sentences
    assert len(set(eval_sentences)) == len(eval_sentences)
    # learner errors fire in eval as elsewhere, and some speakers are near-native
    assert any(u.surface != u.canonical for u in ev)
    assert any(sp.severity == 0.0 for sp in speakers["eval"])


def test_eval_avoids_sentences_it_would_otherwise_draw():
    """A sentence an earlier set holds is drawn again: the same draw without it differs."""
    speakers = make_speakers("en", {"train": 1, "dev": 1, "test": 1}, 1)
    ev_spk = make_held_out_speakers("en", "eval", 2, speakers, 1)
    free = make_eval_utterances("en", 1, ev_spk, 3, {})
    taken = {"train": [free[0]]}
    again = make_eval_utterances("en", 1, ev_spk, 3, taken)
    assert free[0].meaning not in [u.meaning for u in again]
    assert [u.meaning for u in again[1:]] == [u.meaning for u in free[1:]]


def test_too_many_eval_speakers_is_one_clear_error():
    speakers = make_speakers("ko", DEFAULT_SPK, 1)
    make_held_out_speakers("ko", "eval", 20, speakers, 1)
    with pytest.raises(ValueError, match="21 eval speakers requested but only 20 of the 70 voice variants"):
        make_held_out_speakers("ko", "eval", 21, speakers, 1)


def test_cli_refuses_an_empty_eval_set(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--lang", "en", "--out", str(tmp_path / "c"), "--eval_speakers", "0"])
    assert "--eval_speakers" in capsys.readouterr().err


def test_report_set(tmp_path):
    both, only_test = tmp_path / "a.json", tmp_path / "b.json"
    both.write_text('{"test": {}, "eval": {}, "provenance": {}}')
    only_test.write_text('{"test": {}, "provenance": {}}')
    assert report_set_of_results([both, both]) == ("eval", [])
    assert report_set_of_results([both, only_test]) == ("test", [only_test])
    assert report_set_of_results([tmp_path / "missing.json"])[0] == "test"
    assert resolve_report_set("auto", [both]) == ("eval", None)
    assert resolve_report_set("test", [both]) == ("test", None)
    assert resolve_report_set("auto", [only_test]) == ("test", None)  # no eval anywhere: nothing to say
    chosen, note = resolve_report_set("auto", [both, only_test])
    assert chosen == "test" and f"1 of 2 results.json lack an 'eval' set (e.g. {only_test})" in note


@needs_espeak
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_eval_size_changes_no_other_file_or_wav(lang, tmp_path):
    """Real files: a corpus with a 1x1 eval and one with a 3x2 eval hold the same train/dev/test."""
    dirs = {}
    for name, (n_spk, n_utt) in {"small": (1, 1), "large": (3, 2)}.items():
        out = tmp_path / name
        assert main(["--lang", lang, "--out", str(out), "--num_train", "4", "--num_dev", "1", "--num_test", "1",
                     "--eval_speakers", str(n_spk), "--eval_utts_per_speaker", str(n_utt), "--nj", "2"]) == 0
        dirs[name] = out
    for s in SETS:
        for f in sorted((dirs["small"] / s).iterdir()):
            other = dirs["large"] / s / f.name
            if f.name == "wav.scp":  # absolute paths into each corpus dir: compare the audio bytes
                a, b = read_table(f), read_table(other)
                assert list(a) == list(b)
                assert all(Path(a[k]).read_bytes() == Path(b[k]).read_bytes() for k in a)
            else:
                assert f.read_bytes() == other.read_bytes(), f
    ev = dirs["large"] / "eval"
    summary = validate_data_dir(ev, required=("text_surface", "text_meaning", "text_canonical"))
    assert (summary.num_utterances, summary.num_speakers) == (6, 3)
    spk = set(read_table(ev / "utt2spk").values())
    for s in SETS:
        assert not spk & set(read_table(dirs["large"] / s / "utt2spk").values())


def _add_eval(recipe: Path, lang: str) -> None:
    """Give every model of a made-up recipe (test_make_report's) an eval set: test's copy, rescored."""
    from espnet_l2dual.bin import score as score_cli

    shutil.copytree(recipe / "dump" / "raw" / "test", recipe / "dump" / "raw" / "eval")
    for exp in sorted((recipe / "exp").iterdir()):
        dec = exp / "decode_beam5"
        outputs = sorted(p.name for p in (dec / "test").iterdir())
        for o in outputs:
            (dec / "eval" / o).mkdir(parents=True)
            shutil.copy(dec / "test" / o / "text", dec / "eval" / o / "text")
        assert score_cli.main(["--lang", lang, "--decode_dir", str(dec), "--data_root", str(recipe / "dump" / "raw"),
                               "--sets", "test eval", "--outputs", " ".join(outputs),
                               "--results_md", str(exp / "RESULTS.md"), "--results_json", str(exp / "results.json")]) == 0


def test_reports_use_eval_where_every_model_has_it(tmp_path, capsys):
    """make_report and html_report: eval when every model scored it; a recipe without it puts all on test."""
    from test_make_report import _recipe

    from espnet_l2dual.bin import html_report, make_report

    ko = _recipe(tmp_path, "ko", (1, 2), (2, 1))
    en = _recipe(tmp_path, "en", (1, 1), (1, 1))
    _add_eval(ko, "ko")
    out = tmp_path / "ko_only"
    assert make_report.main(["--recipes", str(ko), "--out_dir", str(out), "--without_analysis"]) == 0
    assert json.loads((out / "report.json").read_text())["test_set"] == "eval"
    assert "test set: `eval`" in (out / "REPORT.md").read_text()
    page = tmp_path / "page.html"
    assert html_report.main(["--recipes", str(ko), "--configs", "mtl", "--out", str(page)]) == 0
    assert "test sets: eval" in page.read_text()
    capsys.readouterr()
    out = tmp_path / "both"
    assert make_report.main(["--recipes", str(ko), str(en), "--out_dir", str(out), "--without_analysis"]) == 0
    assert json.loads((out / "report.json").read_text())["test_set"] == "test"
    assert "reporting on 'test' (the tuning set): 3 of 6 results.json lack an 'eval' set" in capsys.readouterr().err
    out = tmp_path / "asked"
    assert make_report.main(["--recipes", str(ko), "--out_dir", str(out), "--without_analysis",
                             "--test_set", "test"]) == 0
    assert json.loads((out / "report.json").read_text())["test_set"] == "test"


@pytest.mark.parametrize("corpus, sets, analysed", [("mini", "test eval", "eval"), ("manifest", "test", "test"),
                                                    ("l2arctic", "test", "test")])
def test_recipe_decodes_eval_for_the_mini_corpus_only(corpus, sets, analysed):
    """l2dual.sh: --test_sets defaults to "test eval" for mini (stage 10 on eval), "test" for other corpora."""
    import subprocess

    recipe = Path(__file__).resolve().parents[1] / "egs2" / "l2en" / "asr1"
    out = subprocess.run(["./run.sh", "--corpus", corpus, "--help"], cwd=recipe, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert f'--test_sets ("{sets}": decoded and scored;' in out.stdout
    assert f"stage 10 analyses {analysed}:" in out.stdout
    out = subprocess.run(["./run.sh", "--test_sets", "test other eval", "--help"], cwd=recipe,
                         capture_output=True, text=True)
    assert '--test_sets ("test other eval"' in out.stdout and "stage 10 analyses eval:" in out.stdout


def test_an_unreadable_results_json_is_left_to_the_report(tmp_path):
    bad = tmp_path / "results.json"
    bad.write_text("{not json")
    assert report_set_of_results([bad]) == ("test", [bad])
