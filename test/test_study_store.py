"""The study store: records round-trip to a fresh tree, keys, atomic writes, --status, RESULTS.md.

Models are stage 9's own output on made-up hypotheses (test_make_report's fixtures); the
report made from exp/ and the one made from a copy of the store alone must agree number for number.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import List, Optional

import pytest
import yaml

from test_make_report import ALTERNATING, ALTERNATING_2, _analysis, _data, _ids, _model, _write_analysis

from espnet_l2dual.bin import grid_report, make_report
from espnet_l2dual.bin import study as study_cli
from espnet_l2dual.study import record
from espnet_l2dual.study.store import Store

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ("stl_surface", "stl_meaning", "mtl")
TASKS = {"stl_surface": {"surface": None}, "stl_meaning": {"meaning": None}, "mtl": {"surface": None, "meaning": None}}


def _data_dirs(r: Path, eval_set: str = "test") -> None:
    """Stage 1's data dirs (what a key digests) and stage 4's speaker/divergence of the eval set."""
    _data(r)
    for s in ("train", "dev", eval_set):
        d = r / "data" / s
        d.mkdir(parents=True, exist_ok=True)
        ids = _ids() if s == eval_set else [f"{s}{i}" for i in range(3)]
        (d / "wav.scp").write_text("".join(f"{u} /audio/{u}.wav\n" for u in ids))
        (d / "text_surface").write_text("".join(f"{u} abcdefghij\n" for u in ids))
        (d / "text_meaning").write_text("".join(f"{u} abcdefghij\n" for u in ids))
        (d / "utt2spk").write_text("".join(f"{u} spk{i % 4}\n" for i, u in enumerate(ids)))
    dump = r / "dump" / "raw" / eval_set
    dump.mkdir(parents=True, exist_ok=True)
    (dump / "utt2spk").write_text("".join(f"{u} spk{i % 4}\n" for i, u in enumerate(_ids())))
    (dump / "utt2divergence").write_text("".join(f"{u} {0.1 * (i % 3):.1f}\n" for i, u in enumerate(_ids())))
    (r / "conf" / "tuning").mkdir(parents=True, exist_ok=True)
    for c in CONFIGS:
        tasks = list(TASKS[c])
        (r / "conf" / "tuning" / f"train_{c}_tiny.yaml").write_text(
            yaml.safe_dump({"seed": 7, "max_epoch": 3, "model_conf": {"tasks": tasks}}))
    (r / "run.sh").write_text("#!/bin/sh\n")


def _recipe(root: Path, lang: str, stl: tuple, mtl: tuple, seed: Optional[int] = None) -> Path:
    r = root / "egs2" / f"l2{lang}" / "asr1"
    _data_dirs(r)
    sfx = "_tiny" + ("" if seed is None else f"_seed{seed}")
    _model(r, f"asr_stl_surface{sfx}", {"surface": stl[0]})
    _model(r, f"asr_stl_meaning{sfx}", {"meaning": stl[1]})
    _model(r, f"asr_mtl{sfx}", {"surface": mtl[0], "meaning": mtl[1]})
    return r


def _opts(store: Path, r: Path, lang: str, config: str, seed: Optional[int] = None, *extra: str) -> List[str]:
    return ["--study", str(store), "--recipe", str(r), "--lang", lang, "--config", config,
            "--config_file", str(r / "conf" / "tuning" / f"train_{config}_tiny.yaml"),
            "--seed", "none" if seed is None else str(seed), *extra]


def _save_all(store: Path, r: Path, lang: str, seed: Optional[int] = None) -> None:
    for c in CONFIGS:
        assert study_cli.main(["save", *_opts(store, r, lang, c, seed)]) == 0


def _key(store: Path, r: Path, lang: str, *extra: str, seed: Optional[int] = None) -> str:
    """``study key`` as run_all.sh calls it (its printed key)."""
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert study_cli.main(["key", *_opts(store, r, lang, "mtl", seed, *extra)]) == 0
    return buf.getvalue().strip()


def _numbers(report: dict) -> dict:
    """report.json without where it was read from (paths differ between exp/ and the store)."""
    langs = {lang: {k: v for k, v in d.items() if k != "recipe"} for lang, d in report["languages"].items()}
    return {**report, "languages": langs}


def _deletions_and_insertions(ref: str, n_err: int, phones: bool) -> str:
    """``n_err`` leading units deleted, ``n_err // 2`` inserted at the end: sclite counts D and I."""
    return ref[n_err:] + "Z" * (n_err // 2)


def test_record_round_trip_rebuilds_the_same_report_on_a_fresh_tree(tmp_path: Path, monkeypatch) -> None:
    import test_make_report

    ko = _recipe(tmp_path / "run", "ko", (1, 2), (2, 1))
    monkeypatch.setattr(test_make_report, "_hyp", _deletions_and_insertions)
    en = _recipe(tmp_path / "run", "en", (ALTERNATING, 1), (ALTERNATING_2, 1))
    for r in (ko, en):
        a = _analysis([0.5, 0.3], [0.2, 0.4], 0.1, -0.05, 0.1)
        a["groups"]["tiny"].update(stl_surface="asr_stl_surface_tiny", stl_meaning="asr_stl_meaning_tiny")
        _write_analysis(r, a)
    from_exp = tmp_path / "from_exp"
    assert make_report.main(["--recipes", str(ko), str(en), "--out_dir", str(from_exp)]) == 0

    store = tmp_path / "run" / "studies" / "s1"
    for lang, r in (("ko", ko), ("en", en)):
        _save_all(store, r, lang)
        assert study_cli.main(["save_groups", *_opts(store, r, lang, "stl_surface"), "--configs", *CONFIGS]) == 0
    # the stored per-utterance counts are sclite's: they add up to its error rate
    rec = next(x for x in Store(store).models("en") if x.meta["config"] == "mtl")
    counts = [line.split("\t") for line in (rec.dir / "surface" / "counts_cer.tsv").read_text().splitlines()[1:]]
    c, sub, dele, ins = (sum(int(x[k]) for x in counts) for k in (1, 2, 3, 4))
    assert dele > 0 and ins > 0
    cer = json.loads((rec.dir / "results.json").read_text())["test"]["surface"]["cer"]
    assert 100.0 * (sub + dele + ins) / (c + sub + dele) == pytest.approx(cer)
    fresh = tmp_path / "clone" / "studies" / "s1"  # a fresh tree: the store alone, no exp/, no data
    shutil.copytree(store, fresh)
    shutil.rmtree(tmp_path / "run")
    from_store = tmp_path / "from_store"
    assert make_report.main(["--study", str(fresh), "--out_dir", str(from_store)]) == 0
    a = json.loads((from_exp / "report.json").read_text())
    b = json.loads((from_store / "report.json").read_text())
    assert _numbers(b) == _numbers(a)
    assert b["languages"]["ko"]["outputs"]["surface"]["rows"][0]["mtl_minus_stl"]["abs"] == 10.0
    assert b["with_analysis"] and "entanglement" in b["languages"]["en"]
    md = (from_store / "REPORT.md").read_text()
    assert ("| ko | surface | CER | 10.00 | 20.00 | +10.00 | [+10.00, +10.00] | [+10.00, +10.00] (98.8%) p=0.0002 "
            "p_Holm=0.0008 | +100.0% |") in md
    # RESULTS.md of a recipe, generated from the store: the command first, then the tables
    out = tmp_path / "RESULTS.md"
    assert study_cli.main(["results_md", "--study", str(fresh), "--lang", "ko", "--out", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("<!-- Generated by `python -m espnet_l2dual.bin.study results_md --study")
    assert "|asr_mtl_tiny|mtl|7|surface|20|CER 20.00|20.00|" in text and "## Environment" in text
    # size per record: a few kB
    sizes = [r.data["bytes"] for r in Store(fresh).records if r.kind == "model"]
    assert len(sizes) == 6 and max(sizes) < 64_000


def test_round_trip_over_seeds(tmp_path: Path) -> None:
    """Seed groups come from the records' metadata: the report over seeds is the same from the store."""
    r = tmp_path / "egs2" / "l2en" / "asr1"
    for seed, mtl in ((1, ALTERNATING), (2, 2)):
        _recipe(tmp_path, "en", (1, 1), (mtl, 1), seed=seed)
        _save_all(tmp_path / "studies" / "s", r, "en", seed=seed)
    a, b = tmp_path / "a", tmp_path / "b"
    assert make_report.main(["--recipes", str(r), "--seeds", "1", "2", "--without_analysis", "--out_dir", str(a)]) == 0
    assert make_report.main(["--study", str(tmp_path / "studies" / "s"), "--out_dir", str(b)]) == 0
    ra, rb = (json.loads((x / "report.json").read_text()) for x in (a, b))
    assert rb["seeds"] == [1, 2] and _numbers(rb)["languages"] == _numbers(ra)["languages"]
    assert rb["languages"]["en"]["outputs"]["surface"]["rows"][0]["mtl_minus_stl"]["per_seed"] == [0.0, 10.0]


def _stored_level(store: Path, level: Path, divergence: float, mtl_surface: int, *grid: str) -> None:
    """A level's three models (MTL−STL surface = ``mtl_surface`` − 1 errors per utterance), its
    divergence, and their records (``grid``: ``--error_scale F --epochs E``; none: the main study)."""
    _data_dirs(level)
    (level / "dump" / "raw" / "test" / "utt2divergence").write_text("".join(f"{u} {divergence}\n" for u in _ids()))
    for c, errs in (("stl_surface", {"surface": 1}), ("stl_meaning", {"meaning": 1}),
                    ("mtl", {"surface": mtl_surface, "meaning": 1})):
        _model(level, f"asr_{c}_tiny", errs, lang="en")
        assert study_cli.main(["save", *_opts(store, level, "en", c, None, *grid)]) == 0


def test_grid_report_from_the_store_matches_exp(tmp_path: Path) -> None:
    base = tmp_path / "egs2" / "l2en" / "asr1"
    store = tmp_path / "studies" / "g"
    for name, es, ep, mtl_surface in (("es0_ep4", "0", "4", 1), ("es2_ep4", "2", "4", 2)):
        _stored_level(store, base / "grid" / name, 0.15 * float(es), mtl_surface, "--error_scale", es, "--epochs", ep)
    assert grid_report.main(["--recipes", str(base), "--out_dir", str(tmp_path / "a")]) == 0
    assert grid_report.main(["--study", str(store), "--out_dir", str(tmp_path / "b")]) == 0
    a, b = (json.loads((tmp_path / x / "grid.json").read_text()) for x in "ab")
    assert b == a and b["languages"]["en"][1]["outputs"]["surface"]["mtl_minus_stl"]["diff"] == 10.0
    # --langs: a stored language only; one the store lacks is named, and nothing is written
    assert grid_report.main(["--study", str(store), "--langs", "en", "--out_dir", str(tmp_path / "c")]) == 0
    assert json.loads((tmp_path / "c" / "grid.json").read_text()) == a
    assert grid_report.main(["--study", str(store), "--langs", "en", "ko", "--out_dir", str(tmp_path / "d")]) == 1
    assert not (tmp_path / "d").exists()


def test_key_follows_config_data_seed_and_eval_set_not_the_commit(tmp_path: Path) -> None:
    r = _recipe(tmp_path, "en", (1, 1), (2, 1))
    store = tmp_path / "studies" / "k"
    k0 = _key(store, r, "en")
    assert _key(store, r, "en") == k0                                  # deterministic
    assert _key(store, r, "en", seed=2) != k0                          # seed
    assert _key(store, r, "en", "--eval_set", "dev") != k0              # evaluation set
    assert _key(store, r, "en", "--train_args=--max_epoch 6") != k0  # training options
    cfg = r / "conf" / "tuning" / "train_mtl_tiny.yaml"
    body = cfg.read_text()
    cfg.write_text(body.replace("max_epoch: 3", "max_epoch: 4"))       # config
    assert _key(store, r, "en") != k0
    cfg.write_text(body)
    text = r / "data" / "train" / "text_surface"
    saved = text.read_text()
    text.write_text(saved.replace("abcdefghij", "abcdefghiX", 1))      # training data
    assert _key(store, r, "en") != k0
    text.write_text(saved)
    ev = r / "data" / "test" / "text_meaning"
    ev_saved = ev.read_text()
    ev.write_text(ev_saved.replace("abcdefghij", "abcdefghiX", 1))     # evaluation data
    assert _key(store, r, "en") != k0
    ev.write_text(ev_saved)
    # the commit: a record made at another toolkit commit has the same key; saving again keeps it
    assert study_cli.main(["save", *_opts(store, r, "en", "mtl")]) == 0
    (rec,) = Store(store).records
    assert rec.key == k0
    res = r / "exp" / "asr_mtl_tiny" / "results.json"
    body_res = json.loads(res.read_text())
    body_res["provenance"]["commit"] = "0" * 40
    res.write_text(json.dumps(body_res))
    before = (rec.dir / "results.json").read_text()
    assert _key(store, r, "en") == k0
    assert study_cli.main(["has", *_opts(store, r, "en", "mtl")]) == 0  # run_all.sh skips the model
    assert study_cli.main(["save", *_opts(store, r, "en", "mtl")]) == 0
    assert (rec.dir / "results.json").read_text() == before             # never overwritten
    assert study_cli.main(["has", *_opts(store, r, "en", "mtl", 5)]) == 1  # another seed: not stored


def test_a_killed_write_leaves_no_half_record(tmp_path: Path, monkeypatch) -> None:
    r = _recipe(tmp_path, "en", (1, 1), (2, 1))
    store = tmp_path / "studies" / "x"
    calls = []

    def dies_on_second(path, counts):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt("killed")
        original(path, counts)

    original = record.write_counts
    monkeypatch.setattr(record, "write_counts", dies_on_second)
    with pytest.raises(KeyboardInterrupt):
        study_cli.main(["save", *_opts(store, r, "en", "mtl")])
    assert len(calls) == 2
    assert Store(store).records == []
    assert [p for p in store.rglob("*") if p.is_dir() and p.name.startswith(".tmp")] == []
    assert study_cli.main(["has", *_opts(store, r, "en", "mtl")]) == 1
    # a write killed by a signal leaves its temp dir: readers ignore it, the next write removes it
    stale = store / "en" / "main" / f"{record.TMP_PREFIX}asr_mtl_tiny.x.999999999"
    (stale / "mtl").mkdir(parents=True)
    (stale / record.RECORD).write_text("{}")
    assert Store(store).records == []
    monkeypatch.setattr(record, "write_counts", original)
    assert study_cli.main(["save", *_opts(store, r, "en", "mtl")]) == 0
    assert len(Store(store).records) == 1 and not stale.exists()


def test_status_prints_done_and_missing_per_model_and_seed_group(tmp_path: Path) -> None:
    r = _recipe(tmp_path, "en", (1, 1), (2, 1), seed=1)
    store = tmp_path / "studies" / "st"
    _save_all(store, r, "en", seed=1)
    _write_analysis(r, {"groups": {"tiny_seed1": _analysis([0.5], [0.2], 0.1, None, 0.1)["groups"]["tiny"]
                                   | {"stl_surface": "asr_stl_surface_tiny_seed1",
                                      "stl_meaning": "asr_stl_meaning_tiny_seed1", "mtl": ["asr_mtl_tiny_seed1"]}}})
    assert study_cli.main(["save_groups", *_opts(store, r, "en", "mtl", None), "--configs", *CONFIGS,
                           "--seeds", "1"]) == 0
    out = subprocess.run(["bash", str(ROOT / "run_all.sh"), "--study", str(store), "--status", "--langs", "ko en",
                          "--seeds", "1 2", "--eval_set", "test"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert any(x.startswith("done     model en main asr_mtl_tiny_seed1: ") for x in lines)
    assert "missing  model en main asr_mtl_tiny_seed2" in lines
    assert "missing  model ko main asr_stl_surface_tiny_seed1" in lines
    assert any(x.startswith("done     group en main tiny_seed1: ") for x in lines)
    assert any(x.startswith("missing  group en main tiny_seed2: stage-10 analysis (models missing: ") for x in lines)
    assert lines[-1] == f"3 of 12 models and 1 of 4 seed groups in {store}"


# ------------------------------------------------------------------ run_all.sh --study, with a stub recipe

STUB = r'''
"""A recipe's run.sh stand-in: stages 1-6 write data dirs, 7-9 a scored model, 10 an analysis."""
import argparse, json, sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
import stub_lib

p = argparse.ArgumentParser()
for o in ("stage", "stop_stage", "seed"):
    p.add_argument("--" + o, type=int, default=None)
for o in ("train_config", "train_args", "analysis_args", "corpus", "local_data_opts", "ngpu", "nj", "inference_nj"):
    p.add_argument("--" + o, default="")
a = p.parse_args()
here = Path.cwd()
stages = range(a.stage, a.stop_stage + 1)
if 1 in stages:
    stub_lib.data(here)
if 7 in stages:
    config = Path(a.train_config).stem[len("train_"):]
    tag = f"asr_{config}" + ("" if a.seed is None else f"_seed{a.seed}")
    stub_lib.model(here, tag, config)
    with open(here / "trained.log", "a") as f:
        f.write(tag + "\n")
if 10 in stages:
    stub_lib.analysis(here)
'''


def _stub_tree(tmp_path: Path) -> Path:
    """run_all.sh in a tree whose one recipe (en) is a stub: no training, same files as stages 1-10 write."""
    (tmp_path / "tools").symlink_to(ROOT / "tools")
    (tmp_path / "espnet_l2dual").symlink_to(ROOT / "espnet_l2dual")
    (tmp_path / "setup.py").symlink_to(ROOT / "setup.py")
    (tmp_path / "egs2").mkdir()
    (tmp_path / "egs2" / "TEMPLATE").symlink_to(ROOT / "egs2" / "TEMPLATE")
    shutil.copy2(ROOT / "run_all.sh", tmp_path / "run_all.sh")
    r = tmp_path / "egs2" / "l2en" / "asr1"
    r.mkdir(parents=True)
    _data_dirs(r)
    shutil.rmtree(r / "data")  # stage 1 makes them
    shutil.rmtree(r / "dump")
    (r / "stub.py").write_text(STUB)
    (r / "l2dual.sh").symlink_to(ROOT / "egs2" / "TEMPLATE" / "asr1" / "l2dual.sh")  # run_all.sh keys by it
    shutil.copy2(Path(__file__).resolve().parent / "test_make_report.py", r / "test_make_report.py")
    a = _analysis([0.5, 0.3], [0.2, 0.4], 0.1, -0.05, 0.1)
    a["groups"]["tiny"].update(stl_surface="asr_stl_surface_tiny", stl_meaning="asr_stl_meaning_tiny")
    (r / "analysis.json").write_text(json.dumps(a))
    (r / "stub_lib.py").write_text(r'''
import json, shutil
from pathlib import Path
import test_make_report as t

def data(r):
    for s in ("train", "dev", "test"):
        d = r / "data" / s
        d.mkdir(parents=True, exist_ok=True)
        ids = t._ids() if s == "test" else [f"{s}{i}" for i in range(3)]
        (d / "wav.scp").write_text("".join(f"{u} /a/{u}.wav\n" for u in ids))
        (d / "text_surface").write_text("".join(f"{u} abcdefghij\n" for u in ids))
        (d / "text_meaning").write_text("".join(f"{u} abcdefghij\n" for u in ids))
        (d / "utt2spk").write_text("".join(f"{u} spk{i % 4}\n" for i, u in enumerate(ids)))
    t._data(r)
    dump = r / "dump" / "raw" / "test"
    shutil.copy(r / "data" / "test" / "utt2spk", dump / "utt2spk")
    (dump / "utt2divergence").write_text("".join(f"{u} 0.1\n" for u in t._ids()))

def model(r, tag, config):
    errors = {"stl_surface_tiny": {"surface": 1}, "stl_meaning_tiny": {"meaning": 1},
              "mtl_tiny": {"surface": 2, "meaning": 1}}[config]
    t._model(r, tag, errors, lang="en")

def analysis(r):
    (r / "exp" / "analysis").mkdir(parents=True, exist_ok=True)
    shutil.copy(r / "analysis.json", r / "exp" / "analysis" / "analysis.json")
''')
    (r / "run.sh").write_text('#!/usr/bin/env bash\nset -euo pipefail\nexec "${python}" "$(dirname "$0")/stub.py" "$@"\n')
    (r / "run.sh").chmod(0o755)
    return tmp_path


def _run_all(tree: Path, *opts: str) -> subprocess.CompletedProcess:
    cmd = ["./run_all.sh", "--langs", "en", "--parallel", "false", "--nj", "1", "--stop_stage", "10",
           "--eval_set", "test", *opts]  # the stub recipe scores test only
    env = {k: v for k, v in os.environ.items() if k != "python"}
    env["PATH"] = "/usr/lib/sctk/bin:" + env.get("PATH", "")
    return subprocess.run(cmd, cwd=tree, capture_output=True, text=True, timeout=600, env=env)


@pytest.mark.slow  # three run_all.sh runs (a stub recipe: no training), ~2-3 min on 2 loaded cores
def test_run_all_study_records_models_and_skips_them_on_a_fresh_clone(tmp_path: Path) -> None:
    tree = _stub_tree(tmp_path)
    r = tree / "egs2" / "l2en" / "asr1"
    first = _run_all(tree, "--study", "s1")
    assert first.returncode == 0, first.stderr[-3000:]
    store = Store(tree / "studies" / "s1")
    assert sorted(x.meta["tag"] for x in store.models()) == ["asr_mtl_tiny", "asr_stl_meaning_tiny",
                                                             "asr_stl_surface_tiny"]
    assert [g.meta["group"] for g in store.groups()] == ["tiny"]
    assert (r / "RESULTS.md").read_text().startswith("<!-- Generated by `python -m espnet_l2dual.bin.study results_md")
    report = json.loads((tree / "exp" / "report" / "report.json").read_text())
    assert report["languages"]["en"]["outputs"]["surface"]["rows"][0]["mtl_minus_stl"]["abs"] == 10.0
    assert len((r / "trained.log").read_text().splitlines()) == 3
    # a fresh clone: no exp/ (no models); the same keys are found in the store, nothing is trained
    shutil.rmtree(r / "exp")
    shutil.rmtree(tree / "exp")
    again = _run_all(tree, "--study", "s1")
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stderr.count("is in the study store") == 3
    assert "stages 10-11 skipped: some models came from the study store" in again.stderr
    assert len((r / "trained.log").read_text().splitlines()) == 3
    assert json.loads((tree / "exp" / "report" / "report.json").read_text())["languages"] == report["languages"]
    status = _run_all(tree, "--study", "s1", "--status")
    assert status.stdout.splitlines()[-1] == "3 of 3 models and 1 of 1 seed groups in studies/s1"
    # models stored, their group's analysis not (a run cut short before stage 10): the analysis needs
    # the models, so they are trained again (same keys: the model records stay as they were)
    (group,) = store.groups()
    shutil.rmtree(group.dir)
    shutil.rmtree(r / "exp")
    third = _run_all(tree, "--study", "s1")
    assert third.returncode == 0, third.stderr[-3000:]
    assert third.stderr.count("trained again (same key, same seed) for the analysis") == 3
    assert len((r / "trained.log").read_text().splitlines()) == 6
    assert [g.meta["group"] for g in Store(tree / "studies" / "s1").groups()] == ["tiny"]


def test_committed_results_md_are_generated_from_the_committed_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """A recipe's RESULTS.md is never typed: it is byte for byte what the store renders (regenerate with
    the command on its first line after committing new records)."""
    from espnet_l2dual.study import results_md

    root = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(root)  # the command runs from the repository root, with the store's relative path
    checked = 0
    for results in sorted(root.glob("egs2/l2*/asr1/RESULTS.md")):
        first = results.read_text(encoding="utf-8").splitlines()[0]
        study = first.split("--study ", 1)[1].split()[0]
        lang = results.parents[1].name[len("l2"):]
        expected = results_md.render(Store(Path(study)), lang)
        assert results.read_text(encoding="utf-8") == expected, f"{results}: regenerate it: {first}"
        checked += 1
    assert checked >= 1


def test_the_main_study_is_the_grids_default_level(tmp_path: Path) -> None:
    """A grid beside a seed study: the main records (default corpus, the configs' budget) are level
    es1_epconfig, so only the other error scales are trained; an explicit es1 level would win."""
    base = tmp_path / "egs2" / "l2en" / "asr1"
    store = tmp_path / "studies" / "g"
    for name, es, mtl_surface in (("es0_epconfig", "0", 1), (None, "1", 2), ("es2_epconfig", "2", 3)):
        grid = [] if name is None else ["--error_scale", es, "--epochs", "config"]
        _stored_level(store, base if name is None else base / "grid" / name, 0.1 * float(es), mtl_surface, *grid)
    assert grid_report.main(["--study", str(store), "--out_dir", str(tmp_path / "b")]) == 0
    data = json.loads((tmp_path / "b" / "grid.json").read_text())
    rows = data["languages"]["en"]
    assert [r["name"] for r in rows] == ["es0_epconfig", "es1_epconfig", "es2_epconfig"]
    assert [r["outputs"]["surface"]["mtl_minus_stl"]["diff"] for r in rows] == [0.0, 10.0, 20.0]
    (trend,) = [t for t in data["trends"]["en"] if t["output"] == "surface"]
    assert trend["n_levels"] == 3 and trend["slope"] == pytest.approx(100.0)
