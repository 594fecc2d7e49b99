"""The synthetic mini corpus: a tiny one per language, built once and inspected."""

import shutil
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from espnet_l2dual.bin.make_mini_corpus import main
from espnet_l2dual.corpus.speakers import make_speakers
from espnet_l2dual.corpus.synthesize import synthesize
from espnet_l2dual.text.divergence import divergence
from espnet_l2dual.text.dual_transcript import parse_dual_transcript
from espnet_l2dual.utils.fileio import read_table

pytestmark = pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("sox")),
                                reason="needs espeak-ng and sox")
SETS = ("train", "dev", "test", "eval")
FILES = ("wav.scp", "utt2spk", "spk2utt", "text_surface", "text_meaning", "utt2lang", "utt2l1",
         "utt2rules", "transcript.dual")
UNIT = {"ko": "jamo", "en": "char"}


def _make(out: Path, lang: str, seed: int = 1) -> None:
    rc = main(["--lang", lang, "--out", str(out), "--seed", str(seed), "--num_train", "6",
               "--num_dev", "2", "--num_test", "2", "--eval_speakers", "2", "--eval_utts_per_speaker", "1",
               "--nj", "2"])
    assert rc == 0


@pytest.fixture(scope="module", params=["ko", "en"])
def corpus(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"mini_{request.param}")
    _make(out, request.param)
    return request.param, out


def _read_wav(path):
    with wave.open(str(path)) as w:
        assert (w.getframerate(), w.getsampwidth(), w.getnchannels()) == (16000, 2, 1)
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float64) / 32768
    return data, len(data) / 16000


def test_files_exist_sorted_and_consistent(corpus):
    lang, out = corpus
    for s, n in zip(SETS, (6, 2, 2, 2)):
        ids = None
        for name in FILES:
            path = out / s / name
            keys = [line.split()[0] for line in path.read_text(encoding="utf-8").splitlines()]
            assert keys == sorted(keys), path
            table = read_table(path)
            if name != "spk2utt":
                assert ids is None or list(table) == ids, path
                ids = list(table)
        assert len(ids) == n
        utt2spk = read_table(out / s / "utt2spk")
        assert all(u.startswith(spk + "-") for u, spk in utt2spk.items())
        assert set(read_table(out / s / "utt2lang").values()) == {lang}
        for path in read_table(out / s / "wav.scp").values():
            assert Path(path).is_absolute() and Path(path).stat().st_size > 0
        assert all(v == "-" or all(v.split(",")) for v in read_table(out / s / "utt2rules").values())


def test_texts_parse_back_from_transcript_dual(corpus):
    lang, out = corpus
    divs = []
    for s in SETS:
        dual = read_table(out / s / "transcript.dual")
        surface = read_table(out / s / "text_surface")
        meaning = read_table(out / s / "text_meaning")
        for utt, text in dual.items():
            parsed = parse_dual_transcript(text, lang)
            assert (parsed.surface, parsed.meaning) == (surface[utt], meaning[utt])
            assert len(surface[utt].split()) == len(meaning[utt].split())
            divs.append(divergence(surface[utt], meaning[utt], UNIT[lang]))
    assert max(divs) > 0
    assert all(0 <= d <= 1 for d in divs)


def test_speakers_disjoint(corpus):
    _, out = corpus
    spks = [set(read_table(out / s / "utt2spk").values()) for s in SETS]
    assert all(not (spks[i] & spks[j]) for i in range(len(SETS)) for j in range(i + 1, len(SETS)))
    voices = make_speakers("ko", {"train": 40, "dev": 5, "test": 5}, 1)
    by_set = [{sp.voice for sp in voices[s]} for s in SETS[:3]]
    assert sum(map(len, by_set)) == len(set.union(*by_set)) == 50


def test_audio_is_speech(corpus, tmp_path):
    lang, out = corpus
    utt, text = next(iter(read_table(out / "test" / "text_surface").items()))
    _, dur = _read_wav(read_table(out / "test" / "wav.scp")[utt])
    assert 0.3 <= dur <= 15
    # listening check: the same surface text, re-synthesised, is audible speech of a sane length
    wav = tmp_path / "again.wav"
    synthesize(text.lower() if lang == "en" else text, "ko+m3" if lang == "ko" else "en-us+f2", 50, 160, wav)
    data, dur = _read_wav(wav)
    assert 0.3 <= dur <= 15
    assert np.sqrt(np.mean(data ** 2)) > 0.01


def test_deterministic_resumable_and_guarded(corpus, tmp_path):
    lang, out = corpus
    wav = Path(read_table(out / "train" / "wav.scp").popitem()[1])
    stamp = wav.stat().st_mtime_ns
    _make(out, lang)  # resume: nothing is re-synthesised
    assert wav.stat().st_mtime_ns == stamp
    other = tmp_path / "again"
    _make(other, lang)
    for s in SETS:
        for name in ("transcript.dual", "utt2rules", "utt2l1", "spk2utt"):
            assert (other / s / name).read_text() == (out / s / name).read_text()
    with pytest.raises(SystemExit):
        _make(other, lang, seed=2)  # a corpus dir made with another seed is refused


def test_cli_defaults_are_the_librarys(monkeypatch, tmp_path):
    from espnet_l2dual.bin import make_mini_corpus as cli
    from espnet_l2dual.corpus import mini

    got = {}
    monkeypatch.setattr(cli, "make_mini_corpus", lambda *a: got.update(args=a))
    assert main(["--lang", "en", "--out", str(tmp_path)]) == 0
    _, _, seed, num_utts, num_spk, _, error_scale = got["args"][:7]
    assert (seed, num_utts, num_spk, error_scale) == (mini.SEED, mini.NUM_UTTS, mini.NUM_SPK, mini.ERROR_SCALE)


def test_cli_help():
    proc = subprocess.run([sys.executable, "-m", "espnet_l2dual.bin.make_mini_corpus", "--help"],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "--num_train" in proc.stdout


def test_error_scale_keeps_sentences_and_voices_and_scales_divergence():
    """The grid's knob: the same sentences and speakers; more scale, more surface-meaning divergence."""
    from espnet_l2dual.corpus.mini import make_utterances
    from espnet_l2dual.corpus.speakers import make_speakers, scale_rates
    from espnet_l2dual.text.divergence import divergence

    counts = {"train": 8, "dev": 1, "test": 1}
    base = make_speakers("en", counts, 1)
    mean_div = {}
    for scale in (0.0, 1.0, 2.0):
        spk = scale_rates(base, scale)
        assert [(s.voice, s.pitch, s.speed) for s in spk["train"]] == [(s.voice, s.pitch, s.speed) for s in base["train"]]
        utts = make_utterances("en", 1, {"train": 80, "dev": 1, "test": 1}, spk)["train"]
        if scale == 0.0:
            assert all(u.surface == u.canonical for u in utts)  # no learner error at all
        mean_div[scale] = sum(divergence(" ".join(u.surface), " ".join(u.canonical), "char") for u in utts) / len(utts)
        sentences = [u.meaning for u in utts]
        if scale == 0.0:
            first = sentences
        assert sentences == first
    assert 0.0 == mean_div[0.0] < mean_div[1.0] < mean_div[2.0]
    with pytest.raises(ValueError, match=">= 0"):
        scale_rates(base, -1.0)
