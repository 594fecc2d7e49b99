"""Faults a user meets (an unfinished stage, a full disk, Ctrl-C, no GPU, odd files, unclear
refusals): each says in one line what and where, and nothing half-made is taken as done.

Driven through ./run.sh (one stage, tiny inputs) or the Python entry points, in seconds.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile
from recipe_helpers import ROOT, make_recipe, run_recipe

from corpus_fixtures import dual_trn_rows, write_wav

TAG, DECODE = "asr_mtl_tiny", "decode_beam5_ctc0.5"  # egs2/l2en/asr1/run.sh defaults


def lines_with(text: str, needle: str) -> list:
    return [line for line in text.splitlines() if needle in line]


# ---------------------------------------------------------------- a later stage on an unfinished input


@pytest.mark.parametrize("stage, made_by, out", [
    (4, 3, "dump/raw/org/train"),
    (5, 4, "dump/raw/dev"),
    (8, 7, f"exp/{TAG}"),
    (9, 8, f"exp/{TAG}/{DECODE}/test"),
    (11, 9, f"exp/{TAG}"),
])
def test_a_stage_refuses_what_its_input_stage_left_unfinished(tmp_path, stage, made_by, out):
    """E.g. stage 8 failed on a corrupt model: stage 9 must not score the texts an earlier decode left."""
    recipe = make_recipe(tmp_path, "l2en")
    d = recipe / out
    d.mkdir(parents=True)
    (d / f".stage{made_by}.pending.json").write_text("{}")
    for o in ("surface", "meaning"):  # what a finished decode of other inputs would have left
        (d / o).mkdir()
        (d / o / "text").write_text("u1 A\n")
    proc = run_recipe(["./run.sh", "--stage", str(stage), "--stop_stage", str(stage)], cwd=recipe, timeout=60)
    assert proc.returncode != 0
    line = [x for x in lines_with(proc.stderr, "is not usable") if f"{out} " in x]  # (mini: eval is not made either)
    assert len(line) == 1 and f"stage {made_by} started it and did not finish" in line[0]
    assert f"run stage {made_by} first" in line[0], proc.stderr[-2000:]
    assert "Successfully finished" not in proc.stderr and "Traceback" not in proc.stderr
    assert not (recipe / "exp" / TAG / "RESULTS.md").exists() and not (recipe / "exp" / TAG / "packed.zip").exists()


def test_stage9_refuses_a_decode_that_never_ran(tmp_path):
    recipe = make_recipe(tmp_path, "l2en")
    (recipe / "exp" / TAG).mkdir(parents=True)
    proc = run_recipe(["./run.sh", "--stage", "9", "--stop_stage", "9"], cwd=recipe, timeout=60)
    assert proc.returncode != 0
    assert f"exp/{TAG}/{DECODE}/test is not usable: stage 8 has not made it" in proc.stderr, proc.stderr[-2000:]


# ---------------------------------------------------------------- options


@pytest.mark.parametrize("args, reason", [
    (["--stage", "12", "--stop_stage", "12"], "--stage must be a stage from 1 to 11, got '12'"),
    (["--stop_stage", "100"], "--stop_stage must be a stage from 1 to 11, got '100'"),
    (["--local_data_opts", "--manifest '/a b/m.tsv"],
     "--local_data_opts \"--manifest '/a b/m.tsv\": no closing quotation"),
])
def test_bad_options_are_refused_in_one_line(tmp_path, args, reason):
    recipe = make_recipe(tmp_path, "l2en")
    proc = run_recipe(["./run.sh", *args], cwd=recipe, timeout=60)
    assert proc.returncode != 0
    assert len(lines_with(proc.stderr, reason)) == 1, proc.stderr[-2000:]
    assert "Successfully finished" not in proc.stderr and not (recipe / "data").exists()


@pytest.mark.skipif(shutil.which("nvidia-smi") is not None, reason="a GPU may be here")
def test_ngpu_without_a_gpu_is_refused_before_any_stage(tmp_path):
    recipe = make_recipe(tmp_path, "l2en")
    proc = run_recipe(["./run.sh", "--ngpu", "1"], cwd=recipe, timeout=60)
    assert proc.returncode != 0
    line = lines_with(proc.stderr, "--ngpu 1 asks for 1 GPU(s)")
    assert len(line) == 1 and "pass --ngpu 0" in line[0], proc.stderr[-2000:]
    assert not (recipe / "data").exists()


# ---------------------------------------------------------------- stage 1 refusals and options


HEADER = "utt_id\twav\tspeaker\tsurface\tmeaning"


def _manifest(root: Path, splits=None, audio: Path = None) -> Path:
    lines = [HEADER + ("\tsplit" if splits else "")]
    for n, spk in enumerate(("s1", "s2", "s3", "s4")):
        wav = write_wav((audio or root / "audio") / f"{spk}.wav", 0.5)
        lines.append(f"{spk}-0\t{wav}\t{spk}\tDIS IS\tTHIS IS" + (f"\t{splits[n]}" if splits else ""))
    root.mkdir(parents=True, exist_ok=True)
    path = root / "corpus.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _stage1(recipe: Path, opts: str, corpus: str = "manifest") -> subprocess.CompletedProcess:
    return run_recipe(["./run.sh", "--stage", "1", "--stop_stage", "1", "--corpus", corpus,
                       "--local_data_opts", opts], cwd=recipe, timeout=120)


def test_a_manifest_path_with_spaces_in_local_data_opts(tmp_path):
    tsv = _manifest(tmp_path / "dir with space", audio=tmp_path / "audio")  # wav.scp cannot hold spaces
    recipe = make_recipe(tmp_path / "r", "l2en")
    proc = _stage1(recipe, f"--manifest '{tsv}' --dev_speakers 1 --test_speakers 1")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len((recipe / "data/test/wav.scp").read_text().splitlines()) == 1


def test_a_manifest_without_test_rows_names_the_manifest_and_the_fix(tmp_path):
    tsv = _manifest(tmp_path, splits=["train", "train", "dev", "train"])
    recipe = make_recipe(tmp_path / "r", "l2en")
    proc = _stage1(recipe, f"--manifest {tsv}")
    assert proc.returncode != 0
    line = lines_with(proc.stderr, "error")
    assert len(line) == 1 and f"{tsv}: the split column puts no utterance in test" in line[0], proc.stderr[-2000:]
    assert "--test_speakers N" in line[0]
    assert not (recipe / "data" / "train").exists()


def test_unknown_tags_drop_passes_through_local_data_opts(tmp_path):
    audio = tmp_path / "corpus"
    rows = dual_trn_rows(audio)
    rows[1] = "A01_1.wav :: 그 x/ 사람"
    (audio / "list.trn").write_text("\n".join(rows) + "\n", encoding="utf-8")
    recipe = make_recipe(tmp_path / "r", "l2ko")
    opts = f"--corpus_dir {audio} --speaker_pattern ^([A-Z][0-9]+)_"
    refused = _stage1(recipe, opts, corpus="dual")
    assert refused.returncode != 0 and "unknown tag 'x/'" in refused.stderr
    proc = _stage1(recipe, opts + " --unknown_tags drop", corpus="dual")
    assert proc.returncode == 0, proc.stderr[-2000:]
    texts = "".join((recipe / "data" / s / "text_meaning").read_text(encoding="utf-8")
                    for s in ("train", "dev", "test"))
    assert "그 사람" in texts and "x/" not in texts


def test_filter_message_names_the_option(tmp_path, capsys):
    from espnet_l2dual.bin.filter_data_dir import main

    src = tmp_path / "src"
    src.mkdir()
    (src / "utt2num_samples").write_text("a 16000\nb 32000\n")
    (src / "wav.scp").write_text("a a.wav\nb b.wav\n")
    rc = main(["--fs", "16000", "--min_wav_duration", "0.1", "--max_wav_duration", "0.2",
               "--max_tokens", "500", str(src), str(tmp_path / "dst")])
    err = capsys.readouterr().err
    assert rc != 0 and "kept 0/2" in err and "removed by --max_wav_duration 0.2: change that option" in err, err


# ---------------------------------------------------------------- sclite wraps long alignments


def test_sclite_alignment_of_a_long_utterance_is_read_whole(tmp_path):
    """A 60 s recording gives ~900 characters: sclite wraps its REF/HYP rows into '>> REF:' rows."""
    from espnet_l2dual.scoring.sclite import find_sclite, run_sclite
    from espnet_l2dual.scoring.sclite_alignment import read_alignments

    try:
        find_sclite()
    except RuntimeError:
        pytest.skip("sclite is not installed")
    rng = random.Random(1)
    ref = [rng.choice("abcdefghij") for _ in range(900)]
    hyp = [c if rng.random() > 0.1 else rng.choice("abcdefghij") for c in ref]
    del hyp[100:105]
    hyp[300:300] = list("xyz")
    counts = run_sclite(tmp_path, {"t4": ref, "u1": list("abc")}, {"t4": hyp, "u1": list("abd")},
                        {"t4": "s3", "u1": "s1"})
    assert ">> REF:" in (tmp_path / "result.txt").read_text(encoding="utf-8")  # sclite did wrap it
    cols = read_alignments(tmp_path)
    assert [c.ref for c in cols["s3-t4"] if c.ref is not None] == ref
    assert [c.hyp for c in cols["s3-t4"] if c.hyp is not None] == hyp
    edits = sum(c.op != "C" for v in cols.values() for c in v)
    assert edits == counts.sub + counts.dele + counts.ins and len(cols["s1-u1"]) == 3


# ---------------------------------------------------------------- temp files of a killed run


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> dict:
    from tiny_dual_model import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


def test_a_killed_packs_temp_file_is_removed_by_the_next_pack(tiny_model, tmp_path):
    from espnet_l2dual.inference.packing import pack
    from espnet_l2dual.utils import fileio

    out = tmp_path / "exp" / "packed.zip"
    out.parent.mkdir()
    stale = out.parent / ".packed.zip.k3j2x9.tmp"  # what a SIGKILL during the zip write leaves
    stale.write_bytes(b"\0" * 4096)
    earlier = fileio._STARTED - 60  # written by a process that ended before this one started
    os.utime(stale, (earlier, earlier))
    mine = out.parent / ".packed.zip.running.tmp"  # one this process is writing: left alone
    mine.write_bytes(b"")
    pack(tiny_model["config"], tiny_model["model"], out)
    assert sorted(p.name for p in out.parent.iterdir()) == [mine.name, "packed.zip"]


# ---------------------------------------------------------------- a full disk


def test_full_disk_in_stage3_names_the_file(tmp_path, monkeypatch, capsys):
    """libsndfile's own error on a device with no space (/dev/full); the file system reads full."""
    import espnet_l2dual.bin.format_wav_scp as fws
    from espnet_l2dual.utils import fileio

    wav = write_wav(tmp_path / "a.wav", 0.3)
    (tmp_path / "wav.scp").write_text(f"u1 {wav}\n")
    real_write = soundfile.write
    monkeypatch.setattr(soundfile, "write", lambda path, *a, **k: real_write("/dev/full", *a, **k))
    monkeypatch.setattr(fileio, "free_bytes", lambda directory: 0, raising=False)
    rc = fws.main(["--fs", "16000", str(tmp_path / "wav.scp"), str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1
    assert err[-1] == f"format_wav_scp: error: no space left on device while writing {tmp_path}/out/data/u1.wav"
    assert list((tmp_path / "out" / "data").iterdir()) == [] and not (tmp_path / "out" / "wav.scp").exists()


def test_a_library_error_on_a_disk_with_space_is_not_called_full(tmp_path, monkeypatch):
    from espnet_l2dual.utils import fileio

    assert fileio.no_space_error(RuntimeError("unexpected pos 704 vs 598"), tmp_path / "x") is None
    monkeypatch.setattr(fileio, "free_bytes", lambda directory: 0, raising=False)
    assert str(fileio.no_space_error(RuntimeError("unexpected pos 704 vs 598"), tmp_path / "x")) == \
        f"no space left on device while writing {tmp_path}/x"
    assert fileio.no_space_error(ValueError("bad value"), tmp_path / "x") is None
    assert fileio.no_space_error(PermissionError(13, "Permission denied"), tmp_path / "x") is None
    assert fileio.no_space_error(OSError(28, "No space left on device"), tmp_path / "x") is not None


def test_full_disk_while_a_checkpoint_is_saved(tmp_path, monkeypatch):
    """torch's own error on a full device says "unexpected pos", not ENOSPC."""
    import torch

    from espnet_l2dual.train.atomic_save import save_atomically
    from espnet_l2dual.utils import fileio

    real_save = torch.save
    monkeypatch.setattr(torch, "save", lambda obj, f, *a, **k: real_save(obj, "/dev/full", *a, **k))
    monkeypatch.setattr(fileio, "free_bytes", lambda directory: 0, raising=False)
    target = tmp_path / "checkpoint.pth"
    with pytest.raises(OSError) as e:
        save_atomically({"w": torch.zeros(100000)}, target)
    assert str(e.value) == f"no space left on device while writing {target}"
    assert list(tmp_path.iterdir()) == []


def test_stage7_launcher_says_a_full_disk_in_one_line(tmp_path):
    """The trainer's traceback stays in its log; the console gets the one line, not 1000 log lines."""
    trainer = ("import sys; print('Trace' + 'back (most recent call last):'); "
               "print('espnet_l2dual.utils.fileio.NoSpaceError: no space left on device while writing "
               "exp/x/checkpoint.pth'); sys.exit(1)")
    env = dict(os.environ, PATH=f"{ROOT}/egs2/TEMPLATE/asr1/utils:{os.environ['PATH']}",
               PYTHONPATH=f"{ROOT}:{os.environ.get('PYTHONPATH', '')}")
    proc = subprocess.run([sys.executable, "-m", "espnet_l2dual.bin.launch", "--cmd", "run_local.sh",
                           "--log", "exp/x/logs/train.log", "--ngpu", "0", "--", sys.executable, "-c", trainer],
                          cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 1
    assert "error: no space left on device while writing exp/x/checkpoint.pth (full log: exp/x/logs/train.log)" \
        in proc.stderr, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and "RuntimeError" not in proc.stderr and "#####" not in proc.stderr


def test_a_broken_checkpoint_is_said_before_training_resumes(tmp_path):
    import torch

    from espnet_l2dual.tasks.preflight import resume_note

    checkpoint = tmp_path / "checkpoint.pth"
    torch.save({"epoch": 1}, checkpoint)
    assert resume_note(["--output_dir", str(tmp_path)]) is None
    checkpoint.write_bytes(checkpoint.read_bytes()[:300])  # a kill or a full disk from elsewhere
    note = resume_note(["--config", "x.yaml", "--output_dir", str(tmp_path)])
    assert note.startswith(f"{checkpoint} is truncated or not a torch checkpoint")
    assert "checkpoint.pth.corrupt" in note and "training starts again from epoch 1" in note


# ---------------------------------------------------------------- Ctrl-C


def _python_past_startup(pgid: int, module: str, timeout: float = 60) -> None:
    """Wait until a process of group ``pgid`` running ``module`` has numpy loaded: past Python's start-up.

    A Ctrl-C during the interpreter's own start-up (``import site``) makes CPython print a fatal
    error that no program can catch; a user's Ctrl-C lands there rarely, a test's on a loaded machine often.
    """
    t0 = time.time()
    while time.time() - t0 < timeout:
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                if int(stat.read_text().rsplit(")", 1)[1].split()[2]) != pgid:
                    continue
                proc_dir = stat.parent
                if module in (proc_dir / "cmdline").read_text() and "numpy" in (proc_dir / "maps").read_text():
                    return
            except (OSError, ValueError, IndexError):
                continue
        time.sleep(0.1)
    raise AssertionError(f"no process running {module} got past its start-up within {timeout} s")


def _interrupt_when(cmd: list, cwd: Path, marker: str, timeout: float = 120,
                    env=None, python_running: str = "") -> subprocess.CompletedProcess:
    """Run ``cmd`` in its own process group; SIGINT the group (as Ctrl-C does) once stderr shows ``marker``
    (and, with ``python_running``, once that Python module is past its start-up)."""
    # Ctrl-C reaches a foreground run: SIGINT at its default even where pytest was started with it
    # ignored (a background job of a script), which the child would inherit and bash could not trap
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    err = []
    t0 = time.time()
    for line in proc.stderr:
        err.append(line)
        if marker in line:
            if python_running:
                _python_past_startup(proc.pid, python_running)
            else:
                time.sleep(0.5)
            os.killpg(proc.pid, signal.SIGINT)
            break
        assert time.time() - t0 < timeout, "".join(err)
    out, rest = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, "".join(err) + rest)


def test_ctrl_c_in_a_stage_says_where_in_one_line(tmp_path):
    tsv = _manifest(tmp_path)
    recipe = make_recipe(tmp_path / "r", "l2en")
    assert _stage1(recipe, f"--manifest {tsv} --dev_speakers 1 --test_speakers 1").returncode == 0
    proc = _interrupt_when(["./run.sh", "--stage", "3", "--stop_stage", "3", "--nj", "1"], recipe,
                           "Stage 3: format audio", python_running="format_wav_scp")
    assert proc.returncode == 130
    assert len(lines_with(proc.stderr, "interrupted at stage 3; re-run to resume")) == 1, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and "KeyboardInterrupt" not in proc.stderr


def test_ctrl_c_in_a_python_step_prints_no_traceback_under_the_recipe(tmp_path):
    env = dict(os.environ, L2DUAL_QUIET_INTERRUPT="1", PYTHONPATH=f"{ROOT}:{os.environ.get('PYTHONPATH', '')}")
    code = "import espnet_l2dual, sys, time; print('ready', file=sys.stderr, flush=True); time.sleep(60)"
    quiet = _interrupt_when([sys.executable, "-c", code], tmp_path, "ready", env=env)
    assert quiet.returncode == -signal.SIGINT and "Traceback" not in quiet.stderr, quiet.stderr
    env.pop("L2DUAL_QUIET_INTERRUPT")  # outside a recipe: Python's own behaviour
    loud = _interrupt_when([sys.executable, "-c", code], tmp_path, "ready", env=env)
    assert loud.returncode == -signal.SIGINT and "KeyboardInterrupt" in loud.stderr


# ---------------------------------------------------------------- transcribe


@pytest.fixture(scope="module")
def packed(tiny_model, tmp_path_factory) -> Path:
    from espnet_l2dual.inference.packing import pack

    return pack(tiny_model["config"], tiny_model["model"], tmp_path_factory.mktemp("packed") / "packed.zip")


def test_transcribe_names_a_missing_and_a_sample_less_file(packed, tmp_path, capsys):
    from tiny_dual_model import write_wav as tiny_wav

    from espnet_l2dual.bin.transcribe import main

    good = tiny_wav(tmp_path / "good.wav", 0.5, seed=3)
    header_only = tmp_path / "header.wav"
    soundfile.write(str(header_only), np.zeros(0, dtype=np.int16), 8000, subtype="PCM_16")
    assert header_only.stat().st_size == 44
    rc = main(["--model", str(packed), "--cache_dir", str(tmp_path / "cache"), "--beam_size", "1",
               str(good), str(header_only), str(tmp_path / "missing.wav")])
    out, err = capsys.readouterr()
    assert rc == 1
    assert f"transcribe: error: {tmp_path}/missing.wav: does not exist" in err.splitlines()
    assert len(lines_with(err, f"{header_only}: holds no samples")) == 1, err
    assert out.splitlines()[0] == str(good) and str(header_only) not in out


@pytest.mark.skipif(shutil.which("nvidia-smi") is not None, reason="a GPU may be here")
def test_transcribe_on_cuda_without_a_gpu_is_refused_up_front(packed, tmp_path, capsys):
    from espnet_l2dual.bin.transcribe import main

    rc = main(["--model", str(packed), "--device", "cuda", "--cache_dir", str(tmp_path / "cache"),
               str(tmp_path / "a.wav")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and err[0].startswith("transcribe: error: --device cuda needs a CUDA GPU")
    assert not (tmp_path / "cache").exists()  # refused before the model was unpacked
