"""Stage 10 (espnet_l2dual.bin.analyze) on tiny models made here: STL-surface, STL-meaning, MTL."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch
import yaml

from figure_check import assert_drawn
from l2dual_helpers import parse_args, record_group, tiny_config

from espnet_l2dual.analysis import study
from espnet_l2dual.analysis.twin_following import NO_TWIN_SET
from espnet_l2dual.bin import analyze
from espnet_l2dual.bin import score as score_cli
from espnet_l2dual.report import cross_language
from espnet_l2dual.tasks.l2dual import L2DualTask

TAGS = {"asr_stl_surface_tiny": ["surface"], "asr_stl_meaning_tiny": ["meaning"], "asr_mtl_tiny": ["surface", "meaning"]}
INFER = "decode_beam5_ctc0.3"
SURFACE = ["ab cd", "abc", "da ba", "cab", "bad c", "dd ab", "ca", "abcd"]
MEANING = ["xyz", "xy", "zyx z", "yyx", "x zy", "zz", "xyx", "yzx"]
DIV = [0.0, 0.0, 0.05, 0.1, 0.15, 0.3, 0.5, 0.8]


def _config(tasks):
    conf = tiny_config(tasks)
    conf["encoder_conf"]["num_blocks"] = 2
    conf["surface_decoder_conf"]["num_blocks"] = 2
    conf["meaning_decoder_conf"]["num_blocks"] = 2
    return conf


def make_model(tag_dir: Path, tasks, seed: int = 0, train_seed: int = 1) -> None:
    """config.yaml, init.pth (θ0 from ``seed``) and valid.loss.ave.pth (θ0 + a seeded 'training' step)."""
    tag_dir.mkdir(parents=True, exist_ok=True)
    args = parse_args(tag_dir, _config(tasks))
    torch.manual_seed(seed)
    model = L2DualTask.build_model(args)
    torch.save(model.state_dict(), tag_dir / "init.pth")
    g = torch.Generator().manual_seed(train_seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=g))
    torch.save(model.state_dict(), tag_dir / "valid.loss.ave.pth")
    (tag_dir / "config.yaml").write_text(yaml.safe_dump(vars(args), allow_unicode=True), encoding="utf-8")
    record_group(tag_dir, "train_" + tag_dir.name[len("asr_"):])  # what stage 7 records


def _write(path: Path, rows) -> None:
    path.write_text("".join(f"{k} {v}\n" for k, v in rows), encoding="utf-8")


def make_data(root: Path) -> None:
    rng = np.random.default_rng(0)
    for set_name in ("test", "train"):
        d = root / "dump" / "raw" / set_name
        d.mkdir(parents=True)
        ids = [f"utt{i:02d}" for i in range(len(SURFACE))]
        wavs = []
        for i, utt in enumerate(ids):
            wav = d / f"{utt}.wav"
            soundfile.write(wav, 0.1 * rng.standard_normal(3200 + 400 * i).astype(np.float32), 16000)
            wavs.append((utt, str(wav)))
        _write(d / "wav.scp", wavs)
        _write(d / "text_surface", zip(ids, SURFACE))
        _write(d / "text_meaning", zip(ids, MEANING))
        _write(d / "utt2divergence", zip(ids, DIV))


def make_decodes(exp: Path) -> None:
    """Decoded texts, scored by stage 9's own code (results.json, sclite files)."""
    ids = [f"utt{i:02d}" for i in range(len(SURFACE))]
    for k, (tag, tasks) in enumerate(TAGS.items()):
        for o in tasks:
            refs = SURFACE if o == "surface" else MEANING
            # MTL gets more errors on high-divergence surface utterances
            hyps = [r[:-1] if (i + k) % 3 == 0 or (tag == "asr_mtl_tiny" and o == "surface" and DIV[i] > 0.2)
                    else r for i, r in enumerate(refs)]
            d = exp / tag / INFER / "test" / o
            d.mkdir(parents=True)
            _write(d / "text", zip(ids, hyps))
        assert score_cli.main(["--lang", "en", "--decode_dir", str(exp / tag / INFER),
                               "--data_root", str(exp.parent / "dump" / "raw"), "--sets", "test",
                               "--outputs", " ".join(tasks), "--model_config", str(exp / tag / "config.yaml"),
                               "--results_md", str(exp / tag / "RESULTS.md"),
                               "--results_json", str(exp / tag / "results.json")]) == 0


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
    root = tmp_path_factory.mktemp("recipe") / "l2en" / "asr1"  # a recipe dir, as make_report reads it
    make_data(root)
    # the two STL models get the same 'training' step: identical encoders (a known answer, CKA 1)
    for tag, tasks in TAGS.items():
        make_model(root / "exp" / tag, tasks, seed=0, train_seed=2 if tag == "asr_mtl_tiny" else 1)
    make_decodes(root / "exp")
    return root


def _run(root: Path, out: str, *extra) -> int:
    return analyze.main(["--lang", "en", "--exp_dir", str(root / "exp"), "--data_root", str(root / "dump/raw"),
                         "--test_set", "test", "--inference_tag", INFER, "--out_dir", str(root / out),
                         "--max_utts", "6", "--max_frames", "60", "--grad_batches", "2",
                         "--grad_batch_size", "3", "--seed", "0", *extra])


@pytest.fixture(scope="module")
def analysed(recipe):
    assert _run(recipe, "exp/analysis") == 0
    return recipe / "exp" / "analysis"


def test_outputs_exist(analysed):
    report = (analysed / "REPORT.md").read_text(encoding="utf-8")
    for section in ("### 1.", "### 2.", "### 3.", "### 4.", "### 5."):
        assert section in report
    assert "asr_mtl_tiny surface CER" in report and "95% CI" in report
    pngs = sorted(p.name for p in (analysed / "figures").glob("*.png"))
    for stem in ("divergence", "encoder_cka", "context_cka", "decoder_cka", "task_vectors", "gradient_conflict"):
        assert f"{stem}_tiny.png" in pngs, pngs
    assert any(p.startswith("cka_matrix_tiny_") for p in pngs)
    for p in pngs:
        assert f"figures/{p}" in report
        assert_drawn(analysed / "figures" / p)  # data drawn in the plot area, not an empty canvas
    assert (analysed / "feats" / "asr_mtl_tiny" / "feats.scp").is_file()


def test_analysis_json(analysed):
    a = json.loads((analysed / "analysis.json").read_text(encoding="utf-8"))
    g = a["groups"]["tiny"]
    assert set(g) >= {"divergence", "encoder_cka", "context_cka", "decoder_cka", "task_vectors", "gradient_conflict"}
    assert g["mtl"] == ["asr_mtl_tiny"]
    d = g["divergence"]
    assert d["mtl_minus_stl"]["asr_mtl_tiny"]["surface"]["overall"]["cer"] > 0
    assert d["metric"] == {o: {"name": "CER", "kind": "cer", "unit": "char"} for o in ("surface", "meaning")}
    iv = d["mtl_minus_stl"]["asr_mtl_tiny"]["surface"]["interval"]
    assert iv["kind"] == "cer" and iv["n_utt"] == len(SURFACE)
    assert iv["diff"] == pytest.approx(d["mtl_minus_stl"]["asr_mtl_tiny"]["surface"]["overall"]["cer"], abs=0.01)
    assert iv["ci95"][0] <= iv["diff"] <= iv["ci95"][1]
    sp = d["spearman"]["asr_mtl_tiny"]["surface"]
    assert sp["rho"] > 0 and 0 <= sp["p"] <= 1 and sp["n"] == len(SURFACE)
    pairs = g["encoder_cka"]["pairs"]
    assert set(pairs) == {"stl_surface_vs_stl_meaning", "asr_mtl_tiny_vs_stl_surface", "asr_mtl_tiny_vs_stl_meaning"}
    assert g["encoder_cka"]["own_paths"] == {"asr_mtl_tiny": False}
    for p in pairs.values():
        assert len(p["linear"]["diag"]) == 2 and len(p["linear"]["matrix"]) == 2
    # identical STL encoders: CKA 1 at every layer (both estimators), every resample 1, far above the null
    same = pairs["stl_surface_vs_stl_meaning"]
    assert same["linear"]["diag"] == pytest.approx([1.0, 1.0], abs=1e-6)
    assert same["debiased"]["diag"] == pytest.approx([1.0, 1.0], abs=1e-6)
    assert np.allclose(same["interval"]["ci95"], 1.0, atol=1e-6)
    assert same["null"]["p"] == pytest.approx(1 / 201) and same["null"]["p95"] < 0.5
    # the MTL encoder is another model: below 1, with intervals at every layer
    for key in ("asr_mtl_tiny_vs_stl_surface", "asr_mtl_tiny_vs_stl_meaning"):
        p = pairs[key]
        assert max(p["debiased"]["diag"]) < 0.99 and len(p["interval"]["ci95"]) == 2
        assert p["null"]["n_perm"] == 200 and p["null"]["p"] >= 1 / 201
    # the STL encoders are identical, so the MTL encoder resembles both equally: the difference is 0 exactly
    comps = {c["name"]: c for c in g["cka_comparisons"]}
    assert set(comps) == {"encoder_last", "encoder_mean", "decoder_mean"}
    for name in ("encoder_last", "encoder_mean"):
        assert comps[name]["diff"] == pytest.approx(0.0, abs=1e-9)
        assert np.allclose(comps[name]["ci_adjusted"], 0.0, atol=1e-9)
        assert comps[name]["family_size"] == 3
    assert g["cka_settings"]["n_speakers"] == 6 and g["cka_settings"]["n_utts"] == 6
    assert len(g["context_cka"]["asr_mtl_tiny"]["linear"]["diag"]) == 2
    assert set(g["decoder_cka"]["asr_mtl_tiny"]) == {"surface", "meaning"}
    assert [r["layer"] for r in g["task_vectors"]["layers"]] == ["block0", "block1"]
    gc = g["gradient_conflict"]["asr_mtl_tiny"]
    assert gc["n_batches"] == 2 and all(-1 <= r["mean"] <= 1 for r in gc["layers"])
    # the shared measure's layer names (train.shared_gradients), as gradient surgery logs them
    assert [r["layer"] for r in gc["layers"]] == ["block0", "block1"]
    assert [r["layer"] for r in gc["parts"]] == ["embed", "after_norm"] and gc["all"]["layer"] == "all"
    assert a["settings"]["n_utts"] == 6 and g["n_encoder_frames"] <= 60
    assert g["error_following"] == {"skipped": NO_TWIN_SET}  # no --twin_set
    assert "### 6. Error following" in (analysed / "REPORT.md").read_text(encoding="utf-8")


def test_reproducible_and_cached(recipe, analysed, caplog):
    first = json.loads((analysed / "analysis.json").read_text(encoding="utf-8"))
    out = "exp/analysis_again"
    assert _run(recipe, out) == 0  # fresh forwards, no cache
    again = json.loads((recipe / out / "analysis.json").read_text(encoding="utf-8"))
    assert again["groups"] == first["groups"]
    caplog.clear()
    assert _run(recipe, out, "--debiased") == 0  # from the ark/scp cache
    assert caplog.text.count("hidden states from the cache") == 3 and "forwarding" not in caplog.text
    cached = json.loads((recipe / out / "analysis.json").read_text(encoding="utf-8"))
    assert cached["groups"] == first["groups"]  # both estimators are always computed
    assert cached["settings"]["estimator"] == "debiased"
    assert "unbiased HSIC" in (recipe / out / "REPORT.md").read_text(encoding="utf-8")


def test_theta0_mismatch_fails(recipe, tmp_path, caplog):
    root = tmp_path / "r"
    shutil.copytree(recipe / "exp", root / "exp", ignore=shutil.ignore_patterns("analysis*"))
    shutil.copytree(recipe / "dump", root / "dump")
    make_model(root / "exp" / "asr_stl_meaning_tiny", ["meaning"], seed=5)
    assert _run(root, "exp/analysis") == 1
    assert "did not start from the same initialisation" in caplog.text
    assert not (root / "exp" / "analysis" / "REPORT.md").exists()


def test_missing_model_named(recipe, tmp_path, caplog):
    root = tmp_path / "r"
    shutil.copytree(recipe / "exp", root / "exp", ignore=shutil.ignore_patterns("analysis*", "asr_stl_meaning_tiny"))
    assert _run(root, "exp/analysis") == 1
    assert "missing STL-meaning" in caplog.text


def test_cross_language_report_from_a_real_analysis_json(analysed):
    """The stage-10 analysis.json and stage-9 results.json, as written, fill every table cell."""
    recipe = analysed.parent.parent
    data = study.collect([study.Recipe(recipe)], ["stl_surface", "stl_meaning", "mtl"], "_tiny", "test")
    ent = dict(data["languages"]["en"]["entanglement"])
    grad = ent.pop("gradient cosine surface vs meaning, whole encoder")
    assert grad == {"skipped": "no interval over batches: 2 batches, an interval needs 10"}  # no number without it
    assert all(isinstance(v, float) for v in ent.values()), ent
    assert ent["encoder debiased CKA, STL-surface vs STL-meaning (last layer)"] == pytest.approx(1.0, abs=1e-6)
    md = cross_language.render(data)
    table = md.split("## English: entanglement (stage 10)")[1].split("\n\n")[1].splitlines()[2:]  # one language ran
    assert len(table) == len(ent) + 1
    for row in table:
        if not row.startswith("| gradient cosine"):
            float(row.strip("|").split("|")[-1])  # a number in every row
    assert not re.search(r"\bn/a\b", md)  # (the recipe's path holds "l2en/asr1")
    assert "| en | surface | CER |" in md


def test_skipped_gradient_conflict_is_recorded_and_rendered(recipe, analysed):
    out = "exp/analysis_nograd"
    assert _run(recipe, out, "--grad_batches", "0") == 0
    a = json.loads((recipe / out / "analysis.json").read_text(encoding="utf-8"))
    assert a["groups"]["tiny"]["gradient_conflict"] == {"asr_mtl_tiny": {"skipped": "--grad_batches 0"}}
    assert "asr_mtl_tiny: skipped (--grad_batches 0)." in (recipe / out / "REPORT.md").read_text(encoding="utf-8")
    g = study.access.Doc(a, "analysis.json", "stage 10").at("groups", "tiny")
    summary = study.entanglement_summary(g, "asr_mtl_tiny")
    assert summary["gradient cosine surface vs meaning, whole encoder"] == {"skipped": "--grad_batches 0"}
    assert "skipped (--grad_batches 0)" in "\n".join(cross_language.comparison_lines({"en": summary}))


def test_error_following_on_a_decoded_twin_set(recipe, tmp_path):
    """--twin_set: each model with a surface output classified on the single-error twins (the MTL
    model writes what was meant, the STL-surface model what was said), worded in REPORT.md."""
    root = tmp_path / "r"
    shutil.copytree(recipe / "exp", root / "exp", ignore=shutil.ignore_patterns("analysis*"))
    shutil.copytree(recipe / "dump", root / "dump")
    d = root / "dump" / "raw" / "eval_twins"
    d.mkdir()
    rows = {f"s{i}-u1-e01": ("AB CD", "AB CX") for i in range(4)}  # (canonical, surface with the error)
    _write(d / "utt2twin", [(u, f"{u[:5]} k@1:CD>CX") for u in rows])
    _write(d / "text_surface", [(u, s) for u, (c, s) in rows.items()])
    _write(d / "text_canonical", [(u, c) for u, (c, s) in rows.items()])
    _write(d / "utt2spk", [(u, u[:2]) for u in rows])
    for tag, pick in (("asr_stl_surface_tiny", 1), ("asr_mtl_tiny", 0)):
        out = root / "exp" / tag / INFER / "eval_twins" / "surface"
        out.mkdir(parents=True)
        _write(out / "text", [(u, texts[pick]) for u, texts in rows.items()])
    assert _run(root, "exp/analysis", "--grad_batches", "0", "--twin_set", "eval_twins",
                "--twin_bootstrap", "200") == 0
    a = json.loads((root / "exp" / "analysis" / "analysis.json").read_text(encoding="utf-8"))
    ef = a["groups"]["tiny"]["error_following"]
    assert a["settings"]["twin_set"] == "eval_twins" and ef["n_errors"] == 4
    assert ef["models"]["asr_mtl_tiny"]["overall"]["normalises"]["rate"] == 1
    assert ef["models"]["asr_stl_surface_tiny"]["overall"]["follows"]["rate"] == 1
    assert ef["normalisation_difference"][0]["ci95"] == [1, 1]
    report = (root / "exp" / "analysis" / "REPORT.md").read_text(encoding="utf-8")
    assert "asr_mtl_tiny normalises learner errors more often than asr_stl_surface_tiny" in report
