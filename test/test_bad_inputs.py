"""Every bad input gets one clear line (issue 19): driven through ./run.sh or the CLIs.

Each case asserts the exit code, the one line (file, line, reason) and that nothing
half-written is left where a later stage would read it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile
import yaml
from corpus_fixtures import dual_trn_rows, write_wav
from recipe_helpers import TINY_TAG, clone_recipe, make_recipe, run_recipe, template_beside

from espnet_l2dual.tasks.preflight import problems as preflight_problems
from espnet_l2dual.utils.config_file import load_config

HEADER = "utt_id\twav\tspeaker\tsurface\tmeaning"


def manifest(root: Path, rows: list, header: bool = True, bom: bool = False) -> Path:
    """A manifest of 8 good utterances (4 speakers) plus ``rows`` (utt, wav, spk, surface, meaning)."""
    lines = [HEADER] if header else []
    for spk in ("s1", "s2", "s3", "s4"):
        for k in range(2):
            wav = root / "audio" / f"{spk}_{k}.wav"
            write_wav(wav, 0.6)
            lines.append(f"{spk}-{k}\t{wav}\t{spk}\tDIS IS\tTHIS IS")
    lines += ["\t".join(map(str, r)) for r in rows]
    path = root / "corpus.tsv"
    text = "\n".join(lines) + "\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def stage1(recipe: Path, tsv: Path, *extra: str) -> subprocess.CompletedProcess:
    return run_recipe(["./run.sh", "--stage", "1", "--stop_stage", "1", "--corpus", "manifest",
                       "--local_data_opts", f"--manifest {tsv} --dev_speakers 1 --test_speakers 1", *extra],
                      cwd=recipe, timeout=120)


def error_lines(stderr: str) -> list:
    return [line for line in stderr.splitlines() if "error" in line.lower()]


@pytest.mark.parametrize("kind, reason", [
    ("empty", "is empty (0 bytes)"),
    ("text", "cannot be decoded"),
    ("header", "cannot be decoded"),
    ("no_samples", "holds no samples"),
    ("truncated", "is truncated: its header promises 19200 bytes of audio"),
])
def test_unusable_audio_is_named_with_the_manifest_line(tmp_path, kind, reason):
    bad = tmp_path / "audio" / "bad.wav"
    bad.parent.mkdir(parents=True)
    if kind == "empty":
        bad.write_bytes(b"")
    elif kind == "text":
        bad.write_text("this is not audio\n")
    elif kind == "header":
        bad.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 20)
    elif kind == "truncated":
        write_wav(bad, 0.6)
        bad.write_bytes(bad.read_bytes()[:5000])
    else:
        soundfile.write(str(bad), np.zeros(0), 16000)
    tsv = manifest(tmp_path, [("s1-9", bad, "s1", "DIS", "THIS")])
    recipe = make_recipe(tmp_path / "r", "l2en")
    proc = stage1(recipe, tsv)
    assert proc.returncode != 0
    assert f"{tsv}:10: audio '{bad}' {reason}" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (recipe / "data" / "train").exists()
    assert not list((recipe / "data").glob(".*.tmp")) if (recipe / "data").exists() else True


def test_bom_and_header_line_are_understood(tmp_path):
    tsv = manifest(tmp_path, [], bom=True)
    recipe = make_recipe(tmp_path / "r", "l2en")
    proc = stage1(recipe, tsv)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "removed the UTF-8 byte-order mark" in proc.stderr
    ids = [line.split()[0] for d in ("train", "dev", "test")
           for line in (recipe / "data" / d / "wav.scp").read_text(encoding="utf-8").splitlines()]
    assert sorted(ids) == sorted(f"s{s}-{k}" for s in range(1, 5) for k in range(2))


def test_unknown_tag_and_unclosed_span_in_a_trn(tmp_path):
    audio = tmp_path / "corpus"
    rows = dual_trn_rows(audio)
    for line, reason in (("A01_1.wav :: 그 x/ 사람", "unknown tag 'x/' (known: b/ l/ o/ n/ u/)"),
                         ("A01_1.wav :: (this/(dis) 사람", "unclosed '(': the next '(' comes before its ')'")):
        trn = audio / "list.trn"
        trn.write_text("\n".join(rows[:1] + [line] + rows[2:]) + "\n", encoding="utf-8")
        recipe = make_recipe(tmp_path / f"r{len(reason)}", "l2ko")
        proc = run_recipe(["./run.sh", "--stage", "1", "--stop_stage", "1", "--corpus", "dual",
                           "--local_data_opts", f"--corpus_dir {audio} --speaker_pattern ^([A-Z][0-9]+)_"],
                          cwd=recipe, timeout=120)
        assert proc.returncode != 0
        assert f"{trn}:2:" in proc.stderr and reason in proc.stderr, proc.stderr[-1500:]
        assert not (recipe / "data" / "train").exists()


@pytest.mark.parametrize("option, value, reason", [
    ("--fs", "16k", "--fs must be an integer >= 1, got '16k'"),
    ("--nj", "0", "--nj must be an integer >= 1, got '0'"),
    ("--ctc_weight", "1.5", "--ctc_weight must be in [0, 1], got '1.5'"),
    ("--beam_size", "x", "--beam_size must be an integer >= 1, got 'x'"),
    ("--seed", "one", "--seed must be an integer >= 0, got 'one'"),
    ("--divergence_reference", "words", "--divergence_reference must be one of: auto meaning canonical none, got 'words'"),
    ("--audio_format", "mp3", "--audio_format must be one of: wav flac wav.ark flac.ark, got 'mp3'"),
    ("--surface_token_type", "phone", "--surface_token_type must be one of: bpe char jamo word, got 'phone'"),
    ("--min_level_db", "quiet", "--min_level_db must be a number, got 'quiet'"),
    ("--train_config", "conf/none.yaml", "--train_config must be an existing YAML file"),
])
def test_options_are_checked_where_they_are_parsed(tmp_path, option, value, reason):
    recipe = make_recipe(tmp_path, "l2en")
    proc = run_recipe(["./run.sh", option, value], cwd=recipe, timeout=60)
    assert proc.returncode != 0
    assert reason in proc.stderr
    assert not (recipe / "data").exists()


@pytest.fixture(scope="module")
def prepared(tiny_recipe, tmp_path_factory) -> Path:
    """The session's tiny recipe as it was after stage 6 (for the stage 7 pre-flight cases): a copy
    without its trained model."""
    recipe = clone_recipe(tiny_recipe, tmp_path_factory.mktemp("pre"))
    shutil.rmtree(recipe / "exp" / TINY_TAG)
    return recipe


TINY_MTL = Path(__file__).resolve().parents[1] / "egs2/l2en/asr1/conf/tuning/train_mtl_tiny.yaml"
CONFIG_MISTAKES = [
    ("broken_yaml", "not valid YAML"),
    ("c['unknown_key'] = 1", "unrecognized arguments: unknown_key"),
    ("c['model_conf']['bogus'] = 2", "model_conf: unknown key 'bogus'"),
    ("c['encoder_conf']['num_blocks'] = 'four'", "num_blocks"),
    ("c['encoder'] = 'conformr'", "--encoder must be one of"),
    ("c['model_conf']['tasks'] = ['surface', 'foo']", "unknown output 'foo'"),
    ("c['surface_decoder_conf']['bogus_heads'] = 3", "bogus_heads"),
]


def _bad_config(base: Path, out_dir: Path, change: str) -> Path:
    """``base`` (a training YAML) with one mistake, written to ``out_dir``."""
    conf = load_config(base)
    path = out_dir / f"bad_{abs(hash(change)) % 10**6}.yaml"
    if change == "broken_yaml":
        path.write_text("encoder: conformer\nencoder_conf:\n  output_size: [32\n")
        return path
    exec(change, {"c": conf})  # noqa: S102  (the test's own config edits)
    path.write_text(yaml.safe_dump(conf))
    return path


@pytest.mark.parametrize("change, reason", CONFIG_MISTAKES)
def test_the_pre_flight_check_names_each_config_mistake_in_one_line(tmp_path, change, reason):
    """Stage 7's pre-flight (check_train_config) on the recipe's own tiny MTL config with one mistake."""
    config = _bad_config(TINY_MTL, tmp_path, change)
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("<blank>\n<unk>\na\nb\n<sos/eos>\n")
    stats = tmp_path / "feats_stats.npz"
    np.savez(stats, count=np.array(10.0), sum=np.zeros(80), sum_square=np.full(80, 10.0))
    args = ["--config", str(config), "--surface_token_list", str(tokens), "--meaning_token_list", str(tokens),
            "--normalize_conf", f"stats_file={stats}"]
    (line,) = preflight_problems(args)
    assert line.startswith(str(config)) and reason in line
    config.write_text(yaml.safe_dump(load_config(TINY_MTL)))
    assert preflight_problems(args) == []  # the same config without the mistake passes


@pytest.mark.slow
@pytest.mark.parametrize("change, reason", [CONFIG_MISTAKES[0], CONFIG_MISTAKES[2]])
def test_config_mistakes_fail_before_the_launcher_in_one_line(prepared, change, reason):
    """Through ./run.sh: one error line naming the YAML, and nothing launched (every mistake: above)."""
    config = _bad_config(prepared / "conf/train_mtl_test.yaml", prepared / "conf", change)
    tag = f"asr_{config.stem}"
    proc = run_recipe(["./run.sh", "--stage", "7", "--stop_stage", "7", "--nj", "1",
                       "--train_config", str(config.relative_to(prepared))], cwd=prepared, timeout=120)
    assert proc.returncode != 0
    lines = error_lines(proc.stderr)
    assert len(lines) == 1 and reason in lines[0] and config.name in lines[0], proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert not (prepared / "exp" / tag / "logs").exists()  # nothing launched, nothing half-written


@pytest.mark.slow
def test_stage7_without_stats_names_the_missing_file(prepared, tmp_path):
    recipe = tmp_path / "egs2" / "l2en" / "asr1"
    shutil.copytree(prepared, recipe, symlinks=True)
    template_beside(recipe)
    shutil.rmtree(recipe / "exp" / "stats_raw_char_char")
    proc = run_recipe(["./run.sh", "--stage", "7", "--stop_stage", "7", "--nj", "1",
                       "--train_config", "conf/train_mtl_test.yaml"], cwd=recipe, timeout=120)
    assert proc.returncode != 0
    assert "exp/stats_raw_char_char/train/feats_stats.npz" in proc.stderr and "does not exist" in proc.stderr


@pytest.mark.slow
def test_latin_letters_in_a_jamo_recipe_are_refused_at_stage5(tmp_path):
    tsv = manifest(tmp_path, [("s2-9", tmp_path / "audio" / "s2_0.wav", "s2", "나 OK", "나 OK")])
    recipe = make_recipe(tmp_path / "r", "l2ko")
    proc = run_recipe(["./run.sh", "--stage", "1", "--stop_stage", "5", "--nj", "1", "--corpus", "manifest",
                       "--local_data_opts", f"--manifest {tsv} --dev_speakers 1 --test_speakers 1"],
                      cwd=recipe, timeout=300)
    assert proc.returncode != 0
    line = [x for x in proc.stderr.splitlines() if "make_tokenizer: error" in x]
    assert line and "the jamo tokenizer drops characters" in line[0] and "'K'" in line[0], proc.stderr[-2000:]
    assert not (recipe / "data/token_list/setup.json").exists()


@pytest.mark.slow
def test_silent_recordings_are_counted_and_dropped_from_training(tmp_path):
    silent = tmp_path / "audio" / "silent.wav"
    silent.parent.mkdir(parents=True)
    soundfile.write(str(silent), np.zeros(9600), 16000)
    tsv = manifest(tmp_path, [(f"s{s}-9", silent, f"s{s}", "DIS", "THIS") for s in range(1, 5)])
    recipe = make_recipe(tmp_path / "r", "l2en")
    proc = run_recipe(["./run.sh", "--stage", "1", "--stop_stage", "4", "--nj", "1", "--corpus", "manifest",
                       "--local_data_opts", f"--manifest {tsv} --dev_speakers 1 --test_speakers 1"],
                      cwd=recipe, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "recordings are silent or near-silent" in proc.stderr
    for dset in ("train", "dev"):
        ids = (recipe / "dump/raw" / dset / "wav.scp").read_text().split()
        assert not any(u.endswith("-9") for u in ids[::2]), dset
    test_ids = (recipe / "dump/raw/test/wav.scp").read_text().split()[::2]
    assert any(u.endswith("-9") for u in test_ids)  # test sets are never filtered, only reported
