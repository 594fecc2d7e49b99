"""Cross-language report: STL vs MTL numbers, differences, method rows."""

import json
from pathlib import Path

import pytest

from espnet_l2dual.bin.make_report import main


def _results(recipe: Path, tag: str, per_output: dict) -> None:
    d = recipe / "exp" / tag
    d.mkdir(parents=True)
    body = {"test": {o: {"cer": c, "wer": c * 2, "n_utt": 10, "by_divergence": []} for o, c in per_output.items()}}
    (d / "results.json").write_text(json.dumps(body))


def _recipe(root: Path, lang: str, stl_s: float, stl_m: float, mtl: tuple) -> Path:
    r = root / "egs2" / f"l2{lang}" / "asr1"
    _results(r, "asr_stl_surface_tiny", {"surface": stl_s})
    _results(r, "asr_stl_meaning_tiny", {"meaning": stl_m})
    _results(r, "asr_mtl_tiny", {"surface": mtl[0], "meaning": mtl[1]})
    return r


def test_report_has_all_numbers_and_differences(tmp_path: Path) -> None:
    ko = _recipe(tmp_path, "ko", 10.0, 8.0, (11.0, 7.0))
    en = _recipe(tmp_path, "en", 20.0, 5.0, (25.0, 4.0))
    _results(en, "asr_pcgrad_tiny", {"surface": 21.0, "meaning": 4.5})
    out = tmp_path / "report"
    assert main(["--recipes", str(ko), str(en), "--configs", "stl_surface", "stl_meaning", "mtl", "pcgrad",
                 "--out_dir", str(out)]) == 0
    data = json.loads((out / "report.json").read_text())
    s = data["languages"]["en"]["outputs"]["surface"]["cer"]
    assert s == {"stl": 20.0, "mtl": 25.0, "mtl_minus_stl": {"abs": 5.0, "rel": 25.0, "ci95": None}}
    m = data["languages"]["ko"]["outputs"]["meaning"]["cer"]["mtl_minus_stl"]
    assert m == {"abs": -1.0, "rel": -12.5, "ci95": None}
    assert data["languages"]["en"]["methods"]["pcgrad"]["surface"]["vs_mtl"]["abs"] == -4.0
    md = (out / "REPORT.md").read_text()
    assert "| en | surface | CER | 20.00 | 25.00 | +5.00 | +25.0% |" in md
    assert "MTL hurt surface (+5.00 CER points)" in md
    assert "| en | pcgrad |" in md


def test_missing_results_are_reported_not_invented(tmp_path: Path, capsys) -> None:
    r = tmp_path / "egs2" / "l2ko" / "asr1"
    _results(r, "asr_mtl_tiny", {"surface": 1.0, "meaning": 2.0})
    out = tmp_path / "report"
    main(["--recipes", str(r), "--out_dir", str(out)])
    assert "no STL/MTL results for ko/surface, ko/meaning" in capsys.readouterr().err
    assert "n/a" in (out / "REPORT.md").read_text()


def _analysis(enc_diag: list, ctx_diag: list, tv: float, grad: float, rho: float) -> dict:
    """The parts of a stage-10 analysis.json the cross-language table reads."""
    cka = lambda diag: {"linear": {"diag": diag}}  # noqa: E731
    return {"groups": {"tiny": {
        "mtl": ["asr_mtl_tiny"],
        "encoder_cka": {"pairs": {"stl_surface_vs_stl_meaning": cka(enc_diag),
                                  "asr_mtl_tiny_vs_stl_surface": cka([0.9, 0.8]),
                                  "asr_mtl_tiny_vs_stl_meaning": cka([0.9, 0.95])}},
        "context_cka": {"asr_mtl_tiny": cka(ctx_diag)},
        "decoder_cka": {"asr_mtl_tiny": {"surface": cka([0.7]), "meaning": cka([0.4])}},
        "task_vectors": {"all": {"cosine": tv}},
        "gradient_conflict": {"asr_mtl_tiny": {"all": {"mean": grad}}},
        "divergence": {"spearman": {"asr_mtl_tiny": {"surface": {"rho": rho, "p": 0.01}}}},
    }}}


def test_report_compares_entanglement_across_languages(tmp_path: Path) -> None:
    ko = _recipe(tmp_path, "ko", 10.0, 8.0, (11.0, 7.0))
    en = _recipe(tmp_path, "en", 20.0, 5.0, (25.0, 4.0))
    for r, a in ((ko, _analysis([0.5, 0.3], [0.2, 0.4], 0.1, -0.05, 0.1)),
                 (en, _analysis([0.9, 0.97], [0.9, 0.96], 0.6, 0.2, 0.5))):
        (r / "exp" / "analysis").mkdir(parents=True)
        (r / "exp" / "analysis" / "analysis.json").write_text(json.dumps(a))
    out = tmp_path / "report"
    main(["--recipes", str(ko), str(en), "--out_dir", str(out)])
    data = json.loads((out / "report.json").read_text())
    en_e = data["languages"]["en"]["entanglement"]
    assert en_e["encoder CKA, STL-surface vs STL-meaning (last layer)"] == 0.97
    assert en_e["MTL surface vs meaning decoder contexts, CKA (mean over layers)"] == pytest.approx(0.93)
    md = (out / "REPORT.md").read_text()
    assert "## Korean vs English: entanglement (stage 10)" in md
    assert "| encoder CKA, STL-surface vs STL-meaning (last layer) | 0.300 | 0.970 |" in md
    assert "| gradient cosine surface vs meaning, whole encoder | -0.050 | 0.200 |" in md


def test_method_rows_carry_the_task_cka_of_each_model(tmp_path: Path) -> None:
    en = _recipe(tmp_path, "en", 20.0, 5.0, (25.0, 4.0))
    _results(en, "asr_partial_tiny", {"surface": 21.0, "meaning": 4.5})
    a = _analysis([0.9, 0.97], [0.9, 0.96], 0.6, 0.2, 0.5)
    g = a["groups"]["tiny"]
    g["mtl"].append("asr_partial_tiny")
    g["context_cka"]["asr_partial_tiny"] = {"linear": {"diag": [0.2, 0.4]}}
    g["encoder_cka"]["pairs"]["asr_partial_tiny:surface_vs_asr_partial_tiny:meaning"] = {
        "linear": {"diag": [1.0, 0.55]}}
    (en / "exp" / "analysis").mkdir(parents=True)
    (en / "exp" / "analysis" / "analysis.json").write_text(json.dumps(a))
    out = tmp_path / "report"
    main(["--recipes", str(en), "--configs", "stl_surface", "stl_meaning", "mtl", "partial", "--out_dir", str(out)])
    data = json.loads((out / "report.json").read_text())
    assert data["languages"]["en"]["task_cka"]["partial"] == {"contexts": pytest.approx(0.3), "encoder": 0.55}
    md = (out / "REPORT.md").read_text()
    assert "| en | mtl | 25.00 | +5.00 | 0 | 4.00 | -1.00 | 0 | 0.930 | n/a |" in md
    assert "| en | partial | 21.00 | +1.00 | -4.00 | 4.50 | -0.50 | +0.50 | 0.300 | 0.550 |" in md


def test_verdicts_say_whether_a_method_reduced_the_surface_penalty(tmp_path: Path) -> None:
    en = _recipe(tmp_path, "en", 20.0, 5.0, (25.0, 4.0))    # MTL hurts surface by 5 points
    ko = _recipe(tmp_path, "ko", 10.0, 8.0, (9.0, 7.0))     # MTL helps surface by 1 point
    _results(en, "asr_partial_tiny", {"surface": 21.0, "meaning": 4.5})
    _results(en, "asr_moe_tiny", {"surface": 26.0, "meaning": 4.0})
    _results(ko, "asr_partial_tiny", {"surface": 9.5, "meaning": 7.5})
    out = tmp_path / "report"
    main(["--recipes", str(ko), str(en), "--configs", "stl_surface", "stl_meaning", "mtl", "partial", "moe",
          "--out_dir", str(out)])
    md = (out / "REPORT.md").read_text()
    assert ("en partial: **reduced** the MTL surface penalty from +5.00 to +1.00 CER points "
            "(by 4.00 points, 80% of it) (partial−STL +1.00, partial−MTL -4.00)") in md
    assert "en moe: did **not** reduce the MTL surface penalty of +5.00 (moe−STL +6.00, moe−MTL +1.00)" in md
    assert "ko partial: MTL did not hurt surface (MTL−STL -1.00), so there was no penalty to reduce; " \
           "partial kept part of MTL's surface gain (partial−STL -0.50, partial−MTL +0.50)" in md


def _scored(recipe: Path, tag: str, output: str, per_utt_hyp: dict, ref: dict) -> None:
    """A results.json entry whose score_dir holds sclite trn files, as stage 9 leaves them."""
    d = recipe / "exp" / tag
    score = d / "decode_beam5" / "test" / output / "score_cer"
    score.mkdir(parents=True)
    for name, rows in (("ref.trn", ref), ("hyp.trn", per_utt_hyp)):
        (score / name).write_text("".join(f"{' '.join(t)} (s-{u})\n" for u, t in rows.items()))
    data = json.loads((d / "results.json").read_text()) if (d / "results.json").is_file() else {"test": {}}
    errs = sum(sum(a != b for a, b in zip(ref[u], h)) for u, h in per_utt_hyp.items())
    data["test"][output] = {"cer": 100.0 * errs / sum(len(r) for r in ref.values()), "wer": 0.0,
                            "score_dir": f"decode_beam5/test/{output}"}
    (d / "results.json").write_text(json.dumps(data))


def test_differences_carry_paired_bootstrap_intervals(tmp_path: Path) -> None:
    r = tmp_path / "egs2" / "l2en" / "asr1"
    ref = {i: "abcdefghij" for i in range(30)}
    one_wrong = {i: "Xbcdefghij" for i in range(30)}
    three_wrong = {i: "XYZdefghij" for i in range(30)}
    _scored(r, "asr_stl_surface_tiny", "surface", one_wrong, ref)
    _scored(r, "asr_stl_meaning_tiny", "meaning", one_wrong, ref)
    _scored(r, "asr_mtl_tiny", "surface", three_wrong, ref)         # MTL: +20 points on every utterance
    _scored(r, "asr_mtl_tiny", "meaning", one_wrong, ref)
    _scored(r, "asr_partial_tiny", "surface", one_wrong, ref)
    _scored(r, "asr_partial_tiny", "meaning", one_wrong, ref)
    out = tmp_path / "report"
    main(["--recipes", str(r), "--configs", "stl_surface", "stl_meaning", "mtl", "partial", "--out_dir", str(out)])
    data = json.loads((out / "report.json").read_text())["languages"]["en"]
    assert data["outputs"]["surface"]["cer"]["mtl_minus_stl"]["ci95"] == [20.0, 20.0]
    assert data["methods"]["partial"]["surface"]["vs_mtl"]["ci95"] == [-20.0, -20.0]
    md = (out / "REPORT.md").read_text()
    assert "partial−MTL -20.00 [-20.00, -20.00]" in md


def test_report_prints_each_models_provenance(tmp_path: Path) -> None:
    r = _recipe(tmp_path, "en", 20.0, 5.0, (25.0, 4.0))
    res = r / "exp" / "asr_mtl_tiny" / "results.json"
    body = json.loads(res.read_text())
    body["provenance"] = {"commit": "abcdef1234567", "dirty": True, "config_sha1": "0123456789abcdef",
                          "inputs_digest": "feedfacecafe0001", "seed": 3,
                          "decode": {"exp/x/test": {"options": {"beam_size": "5", "inference_args": ""}}}}
    res.write_text(json.dumps(body))
    stl = r / "exp" / "asr_stl_surface_tiny" / "results.json"
    body = json.loads(stl.read_text())
    body["provenance"] = {"commit": "1111111111", "dirty": False}
    stl.write_text(json.dumps(body))
    out = tmp_path / "report"
    assert main(["--recipes", str(r), "--out_dir", str(out)]) == 0
    md = (out / "REPORT.md").read_text()
    assert "| en | mtl | `abcdef1234 (dirty)` | `0123456789ab` | `feedfacecafe0001` | 3 | beam_size=5 |" in md
    assert "| en | stl_meaning | not recorded" in md
    assert "2 different toolkit states" in md


def test_report_compares_configs_on_mdd_f1_with_intervals(tmp_path: Path) -> None:
    r = _recipe(tmp_path, "en", 20.0, 5.0, (25.0, 4.0))

    def add_mdd(tag: str, per_utt: dict, f1: float) -> None:
        res = r / "exp" / tag / "results.json"
        body = json.loads(res.read_text())
        body["test"]["surface"]["score_dir"] = "decode/test/surface"
        body["test"]["surface"]["mdd"] = {"units": "letters", "prompted": {"f1": f1, "precision": 1, "recall": 1},
                                          "prompt_free": {"note": "no meaning output in this model"}}
        res.write_text(json.dumps(body))
        d = r / "exp" / tag / "decode/test/surface/score_mdd"
        d.mkdir(parents=True)
        rows = "".join(f"u{i} 5 {fr} {fa} {tr} {tr} 0\n" for i, (tr, fr, fa) in per_utt.items())
        (d / "prompted.tsv").write_text("utt ta fr fa tr cd de\n" + rows)

    # MTL detects every error of 40 utterances, STL-surface half of them: a resolved difference
    add_mdd("asr_stl_surface_tiny", {i: (1, 0, 1) for i in range(40)}, 66.67)
    add_mdd("asr_mtl_tiny", {i: (2, 0, 0) for i in range(40)}, 100.0)
    out = tmp_path / "report"
    assert main(["--recipes", str(r), "--out_dir", str(out)]) == 0
    data = json.loads((out / "report.json").read_text())
    vs = data["languages"]["en"]["mdd"]["mtl"]["prompted"]["vs_stl_surface"]
    assert vs["diff"] == pytest.approx(33.33, abs=0.01) and vs["ci95"][0] > 0
    md = (out / "REPORT.md").read_text()
    assert "## Mispronunciation detection" in md
    assert "| en | mtl | 100.00 | +33.33 [" in md and "(not resolved)" not in md.split("| en | mtl |")[1].split("\n")[0]
