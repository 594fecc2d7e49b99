"""Learner-error twins of the mini corpus's eval set, their utt2twin map and its validation."""

import shutil
from pathlib import Path

import pytest
from test_mini_eval_set import _default_corpus, _digest

from espnet_l2dual.corpus.audio import audio_duration
from espnet_l2dual.corpus.mini import make_mini_corpus
from espnet_l2dual.corpus.twins import make_twin_set, make_twins, replay
from espnet_l2dual.data.twin_map import TwinError, parse_twin_value
from espnet_l2dual.data.validate import validate_data_dir
from espnet_l2dual.errors import DataError
from espnet_l2dual.utils.fileio import read_table

# _digest of the default eval set (seed 1) as it was before twins existed: twins change nothing there
EVAL_BEFORE_TWINS = {"en": "4ae1b4693ae2b3d1", "ko": "9bcd459262cca416"}
needs_espeak = pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("sox")),
                                  reason="needs espeak-ng and sox")


@pytest.fixture(scope="module", params=["en", "ko"])
def default_eval(request):
    lang = request.param
    return lang, _default_corpus(lang)[1]["eval"]


def test_default_eval_unchanged_and_replayable(default_eval):
    lang, ev = default_eval
    assert _digest(ev) == EVAL_BEFORE_TWINS[lang]
    for u in ev:  # replaying all recorded errors gives the original surface back; none gives the canonical
        assert replay(lang, u.canonical, u.error_sites)[0] == u.surface
        assert replay(lang, u.canonical, [])[0] == list(u.canonical)


def test_twins_share_text_and_voice_except_the_error(default_eval):
    lang, ev = default_eval
    n_single = n_skipped = 0
    for u in ev[:120]:
        pairs = make_twins(lang, u)
        if not u.error_sites:
            assert pairs == []
            continue
        (orig, what0), (canon, what1), *singles = pairs
        assert orig is u and (what0, what1) == ("original", "canonical")
        assert canon.surface == list(u.canonical) and canon.error_sites == []
        n_skipped += len(u.error_sites) - len(singles)
        for twin, what in [(canon, what1)] + singles:
            assert twin.meaning == u.meaning and twin.canonical == u.canonical
            assert twin.speaker == u.speaker  # same voice, pitch and rate
            assert (twin.speaker.voice, twin.speaker.pitch, twin.speaker.speed) == \
                (u.speaker.voice, u.speaker.pitch, u.speaker.speed)
            assert twin.utt_id.startswith(u.utt_id + "-")
        for twin, what in singles:
            n_single += 1
            error = TwinError.parse(what)
            (site,) = twin.error_sites
            assert site in u.error_sites and error.kind == site.kind and error.word == site.word
            differs = [i for i, (a, b) in enumerate(zip(twin.surface, u.canonical)) if a != b]
            assert differs == [site.word] and len(twin.surface) == len(u.canonical)
            assert (error.canonical, error.surface) == (u.canonical[site.word], twin.surface[site.word])
            # against the original it differs only where the original has its other errors
            other_words = {s.word for s in u.error_sites if s != site}
            assert {i for i, (a, b) in enumerate(zip(twin.surface, u.surface)) if a != b} <= other_words
            assert twin.rules == u.rules[:len(u.rules) - len(u.error_sites)] + [site.kind]
    assert n_single > 50
    assert n_skipped < n_single / 10  # errors that only exist on top of another are rare


def test_twin_set_rows_sorted_and_mapped(default_eval):
    lang, ev = default_eval
    utts, rows = make_twin_set(lang, ev[:30])
    ids = [u.utt_id for u in utts]
    assert ids == sorted(ids) and ids == [r[0] for r in rows] and len(set(ids)) == len(ids)
    originals = {u.utt_id for u in ev[:30] if u.error_sites}
    for twin, value in rows:
        orig, error, what = parse_twin_value(value)
        assert orig in originals
        assert (what == "original") == (twin == orig)


@needs_espeak
def test_twin_set_audio_and_default_corpus(tmp_path):
    """Tiny en corpus: no twin set by default; with twins, a valid eval_twins whose audio lengths
    differ from the canonical twin's by about the changed words' share."""
    sizes = dict(num_utts={"train": 1, "dev": 1, "test": 1}, num_spk={"train": 1, "dev": 1, "test": 1}, nj=1,
                 eval_speakers=2, eval_utts_per_speaker=1)
    plain = tmp_path / "plain"
    make_mini_corpus("en", plain, **sizes)
    assert not (plain / "eval_twins").exists()
    out = tmp_path / "twins"
    make_mini_corpus("en", out, twins=True, **sizes)
    for name in ("train", "dev", "test", "eval"):  # the default sets are byte-identical
        for f in sorted((plain / name).iterdir()):
            if f.name != "wav.scp":
                assert f.read_bytes() == (out / name / f.name).read_bytes(), f
    d = out / "eval_twins"
    validate_data_dir(d)
    twin_map = read_table(d / "utt2twin")
    surface, wav, spk = read_table(d / "text_surface"), read_table(d / "wav.scp"), read_table(d / "utt2spk")
    assert sum(v.endswith(" canonical") for v in twin_map.values()) >= 1
    for twin, value in twin_map.items():
        orig, error, what = parse_twin_value(value)
        assert spk[twin] == spk[orig]
        canon = f"{orig}-c"
        changed = sum(len(a) + 1 for a, b in zip(surface[canon].split(), surface[twin].split()) if a != b)
        share = changed / (len(surface[canon]) + 1)
        d_canon, d_twin = audio_duration(wav[canon]), audio_duration(wav[twin])
        assert abs(d_twin - d_canon) <= share * d_canon + 0.05, (twin, d_twin, d_canon, share)
        if what == "canonical":
            assert d_twin == d_canon


# --- the validator on utt2twin ----------------------------------------------------------

TWIN_DIR = {  # utt -> (surface, utt2twin value)
    "s1-u1": ("I DO NOT COME PLOM DIS KITCHEN", "s1-u1 original"),
    "s1-u1-c": ("I DO NOT COME FROM THIS KITCHEN", "s1-u1 canonical"),
    "s1-u1-e01": ("I DO NOT COME PROM THIS KITCHEN", "s1-u1 f_to_p@4:FROM>PROM"),
    "s1-u1-e02": ("I DO NOT COME FROM DIS KITCHEN", "s1-u1 th_stopping@5:THIS>DIS"),
}


def _write(path: Path, rows) -> None:
    path.write_text("".join(f"{k} {v}\n" for k, v in rows), encoding="utf-8")


@pytest.fixture
def twin_dir(tmp_path):
    d = tmp_path / "eval_twins"
    d.mkdir()
    _write(d / "wav.scp", [(u, f"/nowhere/{u}.wav") for u in TWIN_DIR])
    _write(d / "utt2spk", [(u, "s1") for u in TWIN_DIR])
    _write(d / "spk2utt", [("s1", " ".join(TWIN_DIR))])
    _write(d / "text_surface", [(u, s) for u, (s, _) in TWIN_DIR.items()])
    _write(d / "text_meaning", [(u, "I DO NOT COME FROM THIS KITCHEN") for u in TWIN_DIR])
    _write(d / "utt2twin", [(u, t) for u, (_, t) in TWIN_DIR.items()])
    return d


def _twin_lines(d: Path, line: int, value: str) -> None:
    rows = [(u, t) for u, (_, t) in TWIN_DIR.items()]
    rows[line - 1] = (rows[line - 1][0], value)
    _write(d / "utt2twin", rows)


def test_good_twin_map_passes(twin_dir):
    assert "utt2twin" in validate_data_dir(twin_dir, check_audio=False).files


@pytest.mark.parametrize("line,value,reason", [
    (2, "s1-u9 canonical", "names original 's1-u9', which is not an utterance here"),
    (3, "s1-u1 f_to_p@4:FROM>PLOM", "is not in its surface: word 4 of text_surface line 3 is 'PROM'"),
    (4, "s1-u1 th_stopping@9:THIS>DIS", "is not in its surface: text_surface line 4 has only 7 words"),
    (3, "s1-u1 f_to_p", "expected 'original', 'canonical' or KIND@WORD:CANONICAL>SURFACE"),
    (2, "s1-u1", "expected 'original_utt_id"),
    (1, "s1-u1-c original", "is marked original but names 's1-u1-c'"),
])
def test_bad_twin_map_names_file_and_line(twin_dir, line, value, reason):
    _twin_lines(twin_dir, line, value)
    with pytest.raises(DataError) as info:
        validate_data_dir(twin_dir, check_audio=False)
    e = info.value
    assert (Path(e.path).name, e.line) == ("utt2twin", line), str(e)
    assert reason in e.reason, str(e)
    assert f"utt2twin:{line}" in str(e)
