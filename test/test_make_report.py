"""Cross-language report: STL vs MTL numbers, intervals, verdicts, method rows, missing inputs.

The results.json files and sclite trn files are written by stage 9's own code
(espnet_l2dual.bin.score) from made-up hypotheses with known error counts.
"""

import json
import re
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import pytest

from espnet_l2dual.bin import score as score_cli
from espnet_l2dual.bin.make_report import main

N = 20                       # test utterances
REF = "abcdefghij"           # 10 characters, one word, per utterance
PHONES = "DH IH S IH Z AH K AE T S"  # 10 phones
Errors = Union[int, Sequence[int]]  # errors per utterance (one number: the same for every utterance)


def _ids() -> List[str]:
    return [f"u{i:02d}" for i in range(N)]


def _data(recipe: Path, phones: bool = False) -> None:
    d = recipe / "dump" / "raw" / "test"
    d.mkdir(parents=True, exist_ok=True)
    surface = PHONES if phones else REF
    (d / "text_surface").write_text("".join(f"{u} {surface}\n" for u in _ids()))
    (d / "text_meaning").write_text("".join(f"{u} {REF}\n" for u in _ids()))


def _hyp(ref: str, n_err: int, phones: bool) -> str:
    if phones:
        units = ref.split()
        return " ".join(["ZH"] * n_err + units[n_err:])
    return "X" * n_err + ref[n_err:]


def _model(recipe: Path, tag: str, errors: Dict[str, Errors], phones: bool = False, lang: Optional[str] = None) -> dict:
    """Decodes with the given errors per utterance, scored by stage 9; returns results.json."""
    if not (recipe / "dump").is_dir():
        _data(recipe, phones)
    dec = recipe / "exp" / tag / "decode_beam5"
    for o, e in errors.items():
        per_utt = [e] * N if isinstance(e, int) else list(e)
        ref = PHONES if (phones and o == "surface") else REF
        (dec / "test" / o).mkdir(parents=True, exist_ok=True)
        (dec / "test" / o / "text").write_text(
            "".join(f"{u} {_hyp(ref, k, phones and o == 'surface')}\n" for u, k in zip(_ids(), per_utt)))
    lang = lang or recipe.parent.name[2:]
    args = ["--lang", lang, "--decode_dir", str(dec), "--data_root", str(recipe / "dump" / "raw"), "--sets", "test",
            "--outputs", " ".join(errors), "--results_md", str(dec.parent / "RESULTS.md"),
            "--results_json", str(dec.parent / "results.json")]
    if phones:
        args += ["--unit_surface", "phone"]
    assert score_cli.main(args) == 0
    return json.loads((dec.parent / "results.json").read_text())


def _recipe(root: Path, lang: str, stl: tuple, mtl: tuple, phones: bool = False) -> Path:
    """STL-surface, STL-meaning and MTL models; ``stl``/``mtl``: (surface, meaning) errors per utterance."""
    r = root / "egs2" / f"l2{lang}" / "asr1"
    _model(r, "asr_stl_surface_tiny", {"surface": stl[0]}, phones)
    _model(r, "asr_stl_meaning_tiny", {"meaning": stl[1]}, phones)
    _model(r, "asr_mtl_tiny", {"surface": mtl[0], "meaning": mtl[1]}, phones)
    return r


def _run(*args: str, analysis: bool = False) -> int:
    return main([*args, *([] if analysis else ["--without_analysis"])])


ALTERNATING = [2 * (i % 2) for i in range(N)]      # 1 error per utterance on average, spread unevenly
ALTERNATING_2 = [2 * ((i + 1) % 2) for i in range(N)]


def test_report_has_all_numbers_intervals_and_verdicts(tmp_path: Path) -> None:
    ko = _recipe(tmp_path, "ko", (1, 2), (2, 1))                       # MTL: surface +10, meaning -10 everywhere
    en = _recipe(tmp_path, "en", (ALTERNATING, 1), (ALTERNATING_2, 1))  # same totals, other utterances
    out = tmp_path / "report"
    assert _run("--recipes", str(ko), str(en), "--out_dir", str(out)) == 0
    data = json.loads((out / "report.json").read_text())
    s = data["languages"]["ko"]["outputs"]["surface"]
    assert s["metric"] == {"name": "CER", "kind": "cer", "unit": "char"}
    head = s["rows"][0]
    assert (head["metric"], head["stl"], head["mtl"]) == ("CER", 10.0, 20.0)
    d = head["mtl_minus_stl"]
    assert {k: d[k] for k in ("abs", "rel", "ci95", "n_utt", "ci_adj", "level_adj", "family")} == {
        "abs": 10.0, "rel": 100.0, "ci95": [10.0, 10.0], "n_utt": N, "ci_adj": [10.0, 10.0], "level_adj": 0.9875,
        "family": "ko MTL−STL"}
    assert d["p_adj"] == pytest.approx(4 * d["p"]) and data["languages"]["ko"]["families"]["ko MTL−STL"] == 4
    assert [r["metric"] for r in s["rows"]] == ["CER", "WER"]
    md = (out / "REPORT.md").read_text()
    assert "| ko | surface | CER | 10.00 | 20.00 | +10.00 | [+10.00, +10.00] | [+10.00, +10.00] (98.8%) p=0.0002 " \
           "p_Holm=0.0008 | +100.0% |" in md
    assert "MTL hurt surface (MTL−STL +10.00 CER points, Holm-adjusted 98.8% CI [+10.00, +10.00])" in md
    assert "MTL helped meaning (MTL−STL -10.00 CER points, Holm-adjusted 98." in md
    assert "CI [-10.00, -10.00])" in md
    assert "95% CI over speakers x utterances (percentile bootstrap, 9999 resamples" in md
    assert "multiplicity: Holm within each family" in md and "ko MTL−STL (4)" in md
    en_line = next(line for line in md.splitlines() if line.startswith("- **en**"))
    assert "surface: MTL−STL +0.00 CER points, no difference resolved (Holm-adjusted 98" in en_line
    assert "hurt" not in en_line and "helped" not in en_line
    assert "Stage 10 (entanglement) is not in this report" in md


def test_phone_outputs_are_reported_and_bootstrapped_by_per(tmp_path: Path) -> None:
    # STL: 1 wrong phone of 10 per utterance; MTL: 3. Phone-symbol CER would count letters instead.
    en = _recipe(tmp_path, "en", (1, 1), (3, 1), phones=True)
    res = json.loads((en / "exp" / "asr_mtl_tiny" / "results.json").read_text())["test"]
    assert res["surface"]["headline"] == {"name": "PER", "kind": "ter", "unit": "phone",
                                          "value": pytest.approx(30.0), "score_subdir": "score_ter"}
    assert res["surface"]["cer"] != pytest.approx(30.0)      # the compatibility field stays what it was
    assert res["meaning"]["headline"]["name"] == "CER"
    out = tmp_path / "report"
    assert _run("--recipes", str(en), "--out_dir", str(out)) == 0
    data = json.loads((out / "report.json").read_text())["languages"]["en"]["outputs"]["surface"]
    assert [r["metric"] for r in data["rows"]] == ["PER"]     # no CER of phone symbols, no WER (= PER)
    assert data["rows"][0]["mtl_minus_stl"]["ci95"] == [20.0, 20.0]
    md = (out / "REPORT.md").read_text()
    assert "| en | surface | PER | 10.00 | 30.00 | +20.00 | [+20.00, +20.00] | [+20.00, +20.00] (" in md
    assert "MTL hurt surface (MTL−STL +20.00 PER points" in md


def test_configs_judged_by_different_metrics_are_refused(tmp_path: Path, capsys) -> None:
    r = tmp_path / "egs2" / "l2en" / "asr1"
    _model(r, "asr_stl_surface_tiny", {"surface": 1}, phones=True)
    _model(r, "asr_stl_meaning_tiny", {"meaning": 1})
    _model(r, "asr_mtl_tiny", {"surface": 1, "meaning": 1})     # surface scored as characters
    assert _run("--recipes", str(r), "--out_dir", str(tmp_path / "report")) == 1
    err = capsys.readouterr().err
    assert "en surface: the configs judge this output by different metrics (stl_surface PER (phone units), " \
           "mtl CER (char units))" in err


def test_method_rows_and_surface_verdicts(tmp_path: Path) -> None:
    en = _recipe(tmp_path, "en", (1, 1), (3, 1))                     # MTL hurts surface by 20 points
    ko = _recipe(tmp_path, "ko", (3, 1), (1, 1))                     # MTL helps surface by 20 points
    _model(en, "asr_partial_tiny", {"surface": 2, "meaning": 1})    # halves the penalty
    _model(en, "asr_moe_tiny", {"surface": 3, "meaning": 1})        # same as MTL on every utterance
    _model(en, "asr_ortho_tiny", {"surface": 4, "meaning": 1})      # worse than MTL
    for c in ("partial", "moe", "ortho"):
        _model(ko, f"asr_{c}_tiny", {"surface": 2, "meaning": 1})
    out = tmp_path / "report"
    assert _run("--recipes", str(ko), str(en), "--configs", "stl_surface", "stl_meaning", "mtl", "partial", "moe",
                "ortho", "--out_dir", str(out)) == 0
    data = json.loads((out / "report.json").read_text())
    assert data["languages"]["en"]["methods"]["partial"]["surface"]["vs_mtl"]["abs"] == -10.0
    md = (out / "REPORT.md").read_text()
    assert "| en | partial | 20.00 | +10.00 [+10.00, +10.00] | -10.00 [-10.00, -10.00] |" in md
    assert ("en partial: **reduced** the MTL surface penalty of +20.00 CER points by 10.00 points; "
            "a penalty remains against STL") in md
    assert "en moe: no reduction of the MTL surface penalty of +20.00 CER points resolved: moe−MTL no difference " \
           "resolved (Holm-adjusted 99." in md and "CI [+0.00, +0.00] includes 0) (moe−STL" in md
    assert "en ortho: did **not** reduce the MTL surface penalty of +20.00 CER points; it is worse than MTL" in md
    assert "ko partial: MTL helped surface (MTL−STL -20.00 [-20.00, -20.00]), so there was no penalty to reduce; " \
           "partial is worse than MTL" in md


def test_an_unresolved_mtl_difference_gets_no_verdict_word(tmp_path: Path) -> None:
    en = _recipe(tmp_path, "en", (ALTERNATING, 1), (ALTERNATING_2, 1))
    _model(en, "asr_partial_tiny", {"surface": ALTERNATING, "meaning": 1})
    out = tmp_path / "report"
    assert _run("--recipes", str(en), "--configs", "stl_surface", "stl_meaning", "mtl", "partial",
                "--out_dir", str(out)) == 0
    md = (out / "REPORT.md").read_text()
    line = next(line for line in md.splitlines() if line.startswith("- en partial:"))
    assert line.startswith("- en partial: MTL−STL surface +0.00 CER points, no difference resolved (Holm-adjusted 9")
    assert "spans 0), so there is no resolved penalty to reduce" in line
    assert "partial vs MTL: no difference resolved (Holm-adjusted 9" in line
    assert "reduced" not in line


# ------------------------------------------------------------------ stage 10 in the report


def _cka(diag: list) -> dict:
    return {"debiased": {"diag": diag}, "null": {"p95": 0.05}}


def _analysis(enc_diag: list, ctx_diag: list, tv: float, grad: Optional[float], rho: float) -> dict:
    """The parts of a stage-10 analysis.json the cross-language table reads (test_analysis checks a real one)."""
    return {"groups": {"tiny": {
        "mtl": ["asr_mtl_tiny"],
        "encoder_cka": {"own_paths": {"asr_mtl_tiny": False},
                        "pairs": {"stl_surface_vs_stl_meaning": _cka(enc_diag),
                                  "asr_mtl_tiny_vs_stl_surface": _cka([0.9, 0.8]),
                                  "asr_mtl_tiny_vs_stl_meaning": _cka([0.9, 0.95])}},
        "context_cka": {"asr_mtl_tiny": _cka(ctx_diag)},
        "decoder_cka": {"asr_mtl_tiny": {"surface": _cka([0.7]), "meaning": _cka([0.4])}},
        "task_vectors": {"all": {"cosine": tv}},
        "gradient_conflict": {"asr_mtl_tiny": {"all": {"mean": grad, "ci95": [grad - 0.1, grad + 0.1]}}
                              if grad is not None
                              else {"skipped": "--grad_batches 0"}},
        "divergence": {"spearman": {"asr_mtl_tiny": {"surface": {"rho": rho, "p": 0.01, "n": 20}}}},
    }}}


def _write_analysis(recipe: Path, a: dict) -> None:
    (recipe / "exp" / "analysis").mkdir(parents=True, exist_ok=True)
    (recipe / "exp" / "analysis" / "analysis.json").write_text(json.dumps(a))


def test_report_compares_entanglement_across_languages(tmp_path: Path) -> None:
    ko = _recipe(tmp_path, "ko", (1, 1), (2, 1))
    en = _recipe(tmp_path, "en", (1, 1), (2, 1))
    _write_analysis(ko, _analysis([0.5, 0.3], [0.2, 0.4], 0.1, -0.05, 0.1))
    _write_analysis(en, _analysis([0.9, 0.97], [0.9, 0.96], 0.6, None, 0.5))
    out = tmp_path / "report"
    assert _run("--recipes", str(ko), str(en), "--out_dir", str(out), analysis=True) == 0
    data = json.loads((out / "report.json").read_text())
    en_e = data["languages"]["en"]["entanglement"]
    assert en_e["encoder debiased CKA, STL-surface vs STL-meaning (last layer)"] == 0.97
    assert en_e["MTL surface vs meaning decoder contexts, debiased CKA (mean over layers)"] == pytest.approx(0.93)
    assert en_e["gradient cosine surface vs meaning, whole encoder"] == {"skipped": "--grad_batches 0"}
    md = (out / "REPORT.md").read_text()
    assert "## Korean vs English: entanglement (stage 10)" in md
    assert "| encoder debiased CKA, STL-surface vs STL-meaning (last layer) | 0.300 | 0.970 |" in md
    assert "| gradient cosine surface vs meaning, whole encoder | -0.050 | skipped (--grad_batches 0) |" in md
    assert not re.search(r"\bn/a\b", md)  # (the links hold "l2en/asr1")


def test_one_language_is_titled_by_itself_and_links_its_details_from_the_report_folder(tmp_path: Path) -> None:
    en = _recipe(tmp_path, "en", (1, 1), (2, 1))
    _write_analysis(en, _analysis([0.9, 0.97], [0.9, 0.96], 0.6, None, 0.5))
    out = tmp_path / "exp" / "report"
    assert _run("--recipes", str(en), "--out_dir", str(out), analysis=True) == 0
    md = (out / "REPORT.md").read_text()
    assert "## English: entanglement (stage 10)" in md and "Korean vs" not in md
    link = md.split("Per-recipe details and figures: `en`: [")[1].split("](")[1].split(")")[0]
    assert not Path(link).is_absolute() and (out / link).resolve() == (en / "exp/analysis/REPORT.md").resolve()


def test_a_method_absent_from_one_recipe_is_reported_where_it_exists_and_named(tmp_path: Path, capsys) -> None:
    ko = _recipe(tmp_path, "ko", (1, 1), (2, 1))
    en = _recipe(tmp_path, "en", (1, 1), (2, 1))
    _model(en, "asr_pcgrad_tiny", {"surface": 1, "meaning": 1})
    _model(ko, "asr_dual_attention_tiny", {"surface": 1, "meaning": 1})
    out = tmp_path / "report"
    assert _run("--recipes", str(ko), str(en), "--configs", "stl_surface", "stl_meaning", "mtl", "pcgrad",
                "dual_attention", "--out_dir", str(out)) == 3
    err = capsys.readouterr().err
    assert "ko: not in the report (no results.json): asr_pcgrad_tiny" in err
    assert "en: not in the report (no results.json): asr_dual_attention_tiny" in err
    data = json.loads((out / "report.json").read_text())
    assert list(data["languages"]["en"]["methods"]) == ["pcgrad"]
    assert list(data["languages"]["ko"]["methods"]) == ["dual_attention"]
    assert data["absent_configs"] == {"ko": ["pcgrad"], "en": ["dual_attention"]}
    md = (out / "REPORT.md").read_text()
    assert "| en | pcgrad |" in md and "| ko | dual_attention |" in md and "| ko | pcgrad |" not in md
    assert "ko: pcgrad; en: dual_attention" in md


def test_method_rows_carry_the_task_cka_of_each_model(tmp_path: Path) -> None:
    en = _recipe(tmp_path, "en", (1, 1), (2, 1))
    _model(en, "asr_partial_tiny", {"surface": 1, "meaning": 1})
    a = _analysis([0.9, 0.97], [0.9, 0.96], 0.6, 0.2, 0.5)
    g = a["groups"]["tiny"]
    g["mtl"].append("asr_partial_tiny")
    g["context_cka"]["asr_partial_tiny"] = _cka([0.2, 0.4])
    g["encoder_cka"]["own_paths"]["asr_partial_tiny"] = True
    g["encoder_cka"]["pairs"]["asr_partial_tiny:surface_vs_asr_partial_tiny:meaning"] = _cka([1.0, 0.55])
    _write_analysis(en, a)
    out = tmp_path / "report"
    assert _run("--recipes", str(en), "--configs", "stl_surface", "stl_meaning", "mtl", "partial",
                "--out_dir", str(out), analysis=True) == 0
    data = json.loads((out / "report.json").read_text())
    assert data["languages"]["en"]["task_cka"]["partial"] == {"contexts": pytest.approx(0.3), "encoder": 0.55}
    md = (out / "REPORT.md").read_text()
    assert "| 0.930 | — (one encoder path shared by both outputs) |" in md.split("| en | mtl |")[1].split("\n")[0]
    assert md.split("| en | partial |")[1].split("\n")[0].endswith("| 0.300 | 0.550 |")


# ------------------------------------------------------------------ missing inputs stop it


def test_missing_results_stop_the_report_and_name_the_file(tmp_path: Path, capsys) -> None:
    r = tmp_path / "egs2" / "l2ko" / "asr1"
    _model(r, "asr_mtl_tiny", {"surface": 1, "meaning": 2})
    out = tmp_path / "report"
    assert _run("--recipes", str(r), "--out_dir", str(out)) == 1
    err = capsys.readouterr().err
    for tag in ("asr_stl_surface_tiny", "asr_stl_meaning_tiny"):
        assert f"ko {tag[4:-5]}: {r}/exp/{tag}/results.json: not found (stage 9" in err
    assert "no report written" in err
    assert not (out / "REPORT.md").exists()


def test_missing_analysis_stops_the_report(tmp_path: Path, capsys) -> None:
    en = _recipe(tmp_path, "en", (1, 1), (2, 1))
    out = tmp_path / "report"
    assert _run("--recipes", str(en), "--out_dir", str(out), analysis=True) == 1
    assert f"en analysis: {en}/exp/analysis/analysis.json: not found (stage 10" in capsys.readouterr().err
    a = _analysis([0.9, 0.97], [0.9, 0.96], 0.6, 0.2, 0.5)
    del a["groups"]["tiny"]["context_cka"]["asr_mtl_tiny"]
    _write_analysis(en, a)
    assert _run("--recipes", str(en), "--out_dir", str(out), analysis=True) == 1
    assert "missing key 'groups.tiny.context_cka.asr_mtl_tiny'" in capsys.readouterr().err
    a["groups"]["tiny"]["context_cka"]["asr_mtl_tiny"] = _cka([0.9])
    a["groups"]["tiny"]["gradient_conflict"] = {}  # the layout before skipped quantities were recorded
    _write_analysis(en, a)
    assert _run("--recipes", str(en), "--out_dir", str(out), analysis=True) == 1
    assert "missing key 'groups.tiny.gradient_conflict.asr_mtl_tiny'" in capsys.readouterr().err


def test_results_without_headline_or_trn_files_are_named(tmp_path: Path, capsys) -> None:
    en = _recipe(tmp_path, "en", (1, 1), (2, 1))
    res = en / "exp" / "asr_mtl_tiny" / "results.json"
    body = json.loads(res.read_text())
    del body["test"]["meaning"]["headline"]       # results.json of an older stage 9
    res.write_text(json.dumps(body))
    (en / "exp" / "asr_stl_surface_tiny" / "decode_beam5" / "test" / "surface" / "score_cer" / "hyp.trn").unlink()
    out = tmp_path / "report"
    assert _run("--recipes", str(en), "--out_dir", str(out)) == 1
    err = capsys.readouterr().err
    assert f"en mtl meaning: {res}: missing key 'test.meaning.headline'" in err
    assert "en stl_surface surface: " in err and "score_cer/hyp.trn: not found" in err


def test_configs_without_the_baselines_are_a_usage_error(tmp_path: Path, capsys) -> None:
    en = _recipe(tmp_path, "en", (1, 1), (2, 1))
    assert _run("--recipes", str(en), "--configs", "mtl", "--out_dir", str(tmp_path / "r")) == 2
    assert "--configs must include stl_surface, stl_meaning, mtl" in capsys.readouterr().err


# ------------------------------------------------------------------ provenance, MDD


def test_report_prints_each_models_provenance(tmp_path: Path) -> None:
    r = _recipe(tmp_path, "en", (1, 1), (2, 1))
    res = r / "exp" / "asr_mtl_tiny" / "results.json"
    body = json.loads(res.read_text())
    body["provenance"] = {"commit": "abcdef1234567", "dirty": True, "config_sha1": "0123456789abcdef",
                          "inputs_digest": "feedfacecafe0001", "seed": 3,
                          "decode": {"exp/x/test": {"options": {"beam_size": "5", "inference_args": ""}},
                                     "exp/x/eval": {"options": {"beam_size": "5"}}}}  # one setting, two sets
    res.write_text(json.dumps(body))
    stl = r / "exp" / "asr_stl_surface_tiny" / "results.json"
    body = json.loads(stl.read_text())
    body["provenance"] = {"commit": "1111111111", "dirty": False}
    stl.write_text(json.dumps(body))
    out = tmp_path / "report"
    assert _run("--recipes", str(r), "--out_dir", str(out)) == 0
    md = (out / "REPORT.md").read_text()
    assert "| en | mtl | `abcdef1234 (dirty)` | `0123456789ab` | `feedfacecafe0001` | 3 | beam_size=5 |" in md
    assert "| en | stl_surface | `1111111111` | `not recorded` | `not recorded` | not recorded |" in md
    assert "different toolkit states" in md


def test_report_compares_configs_on_mdd_f1_with_intervals(tmp_path: Path) -> None:
    r = _recipe(tmp_path, "en", (1, 1), (2, 1))

    def add_mdd(tag: str, per_utt: dict, f1: float) -> None:
        res = r / "exp" / tag / "results.json"
        body = json.loads(res.read_text())
        body["test"]["surface"]["mdd"] = {"units": "letters", "prompted": {"f1": f1, "precision": 1, "recall": 1},
                                          "prompt_free": {"note": "no meaning output in this model"}}
        res.write_text(json.dumps(body))
        d = r / "exp" / tag / body["test"]["surface"]["score_dir"] / "score_mdd"
        d.mkdir(parents=True)
        rows = "".join(f"{u} 5 {fr} {fa} {tr} {tr} 0\n" for u, (tr, fr, fa) in per_utt.items())
        (d / "prompted.tsv").write_text("utt ta fr fa tr cd de\n" + rows)

    # MTL detects every error of the test utterances, STL-surface half of them: a resolved difference
    add_mdd("asr_stl_surface_tiny", {u: (1, 0, 1) for u in _ids()}, 66.67)
    add_mdd("asr_mtl_tiny", {u: (2, 0, 0) for u in _ids()}, 100.0)
    out = tmp_path / "report"
    assert _run("--recipes", str(r), "--out_dir", str(out)) == 0
    data = json.loads((out / "report.json").read_text())
    vs = data["languages"]["en"]["mdd"]["mtl"]["prompted"]["vs_stl_surface"]
    assert vs["diff"] == pytest.approx(33.33, abs=0.01) and vs["ci95"][0] > 0 and vs["ci_adj"][0] > 0
    assert vs["family"] == "en MDD F1 differences"
    md = (out / "REPORT.md").read_text()
    assert "## Mispronunciation detection" in md
    row = md.split("| en | mtl | 100.00 |")[1].split("\n")[0]
    assert row.startswith(" +33.33 [") and "(not resolved)" not in row
    assert "not computed (no meaning output in this model)" in md


def _seeded_recipe(root: Path, lang: str, per_seed: Dict[int, tuple]) -> Path:
    """``per_seed``: seed -> (STL surface, STL meaning, MTL surface, MTL meaning) errors per utterance."""
    r = root / "egs2" / f"l2{lang}" / "asr1"
    for seed, (ss, sm, ms, mm) in per_seed.items():
        _model(r, f"asr_stl_surface_tiny_seed{seed}", {"surface": ss})
        _model(r, f"asr_stl_meaning_tiny_seed{seed}", {"meaning": sm})
        _model(r, f"asr_mtl_tiny_seed{seed}", {"surface": ms, "meaning": mm})
    return r


def test_report_over_seeds_gives_mean_sd_and_both_intervals(tmp_path: Path) -> None:
    # ko: MTL surface +1 edit per utterance (+10 points) on every seed: resolved however resampled.
    # en: MTL surface +10, 0, -10 points on seeds 1, 2, 3: the mean is 0 and nothing is resolved.
    ko = _seeded_recipe(tmp_path, "ko", {1: (1, 2, 2, 2), 2: (2, 2, 3, 2), 3: (1, 1, 2, 1)})
    en = _seeded_recipe(tmp_path, "en", {1: (1, 2, 2, 2), 2: (1, 2, 1, 2), 3: (2, 2, 1, 2)})
    out = tmp_path / "report"
    assert _run("--recipes", str(ko), str(en), "--seeds", "1", "2", "3", "--out_dir", str(out)) == 0
    data = json.loads((out / "report.json").read_text())
    head = data["languages"]["ko"]["outputs"]["surface"]["rows"][0]
    # STL surface CER per seed 10, 20, 10: mean 13.33, sd 5.77; MTL 20, 30, 20
    assert head["stl"] == {"mean": 13.33, "sd": 5.77, "n": 3} and head["mtl"]["mean"] == 23.33
    d = head["mtl_minus_stl"]
    # the same difference on every seed: no spread, so the t interval is not defined and no verdict is given
    assert d["per_seed"] == [10.0, 10.0, 10.0] and d["ci95_t"] is None and d["ci95_bootstrap"] == [10.0, 10.0]
    assert "not defined" in d["no_ci"]
    e = data["languages"]["en"]["outputs"]["surface"]["rows"][0]["mtl_minus_stl"]
    # per-seed differences 10, 0, -10: t interval 0 +- 4.302653 * 10 / sqrt(3) = +-24.84
    assert e["per_seed"] == [10.0, 0.0, -10.0] and e["ci95_t"] == [-24.84, 24.84] and e["diff"] == 0.0
    assert e["ci95"][0] <= -24.84 and e["ci95"][1] >= 24.84
    assert sorted(data["per_seed"]) == ["1", "2", "3"]
    md = (out / "REPORT.md").read_text()
    assert "| ko | surface | CER | 13.33 ± 5.77 | 23.33 ± 5.77 | +10.00 | [+10.00, +10.00] | none | — |" in md
    assert "surface: MTL−STL +10.00 CER points, no interval could be computed (not defined" in md
    assert "**boot** resamples speakers x utterances x seeds together" in md
    en_line = next(line for line in md.splitlines() if line.startswith("- **en**"))
    assert "no difference resolved" in en_line and "hurt surface" not in en_line
    assert "### seed 2" in md


def test_report_over_seeds_names_a_missing_seed(tmp_path: Path, capsys) -> None:
    ko = _seeded_recipe(tmp_path, "ko", {1: (1, 2, 2, 2), 2: (2, 2, 3, 2)})
    assert _run("--recipes", str(ko), "--seeds", "1", "2", "3", "--out_dir", str(tmp_path / "r")) == 1
    err = capsys.readouterr().err
    assert "seed 3: ko stl_surface" in err and "asr_stl_surface_tiny_seed3" in err
    assert not (tmp_path / "r" / "REPORT.md").exists()


def test_entanglement_over_seeds_has_t_and_welch_intervals(tmp_path: Path) -> None:
    errs = {s: (1, 2, 2, 2) for s in (1, 2, 3)}
    recipes = {lang: _seeded_recipe(tmp_path, lang, errs) for lang in ("ko", "en")}
    cka_last = {"ko": [0.5, 0.6, 0.7], "en": [0.9, 0.92, 0.94]}
    for lang, r in recipes.items():
        groups = {}
        for i, s in enumerate((1, 2, 3)):
            g = _analysis([0.1, cka_last[lang][i]], [0.2, 0.4], 0.1, -0.05, 0.1)["groups"]["tiny"]
            groups[f"tiny_seed{s}"] = json.loads(json.dumps(g).replace("asr_mtl_tiny", f"asr_mtl_tiny_seed{s}")
                                                 .replace("asr_twin_subspace_tiny", f"asr_twin_subspace_tiny_seed{s}"))
        _write_analysis(r, {"groups": groups})
    out = tmp_path / "report"
    assert _run("--recipes", str(recipes["ko"]), str(recipes["en"]), "--seeds", "1", "2", "3",
                "--out_dir", str(out), analysis=True) == 0
    data = json.loads((out / "report.json").read_text())
    key = "encoder debiased CKA, STL-surface vs STL-meaning (last layer)"
    ko = data["languages"]["ko"]["entanglement"][key]
    assert ko["per_seed"] == [0.5, 0.6, 0.7] and ko["mean"] == 0.6 and ko["sd"] == 0.1
    assert ko["ci95_t"] == [round(0.6 - 4.302653 * 0.1 / 3 ** 0.5, 3), round(0.6 + 4.302653 * 0.1 / 3 ** 0.5, 3)]
    between = data["entanglement_en_minus_ko"][key]
    assert between["diff"] == 0.32 and between["ci95_welch"][0] > 0  # en is more entangled, resolved
    md = (out / "REPORT.md").read_text()
    assert "## Entanglement (stage 10), over seeds" in md and "+0.320" in md


def test_grid_report_per_level_divergence_intervals_and_figure(tmp_path: Path, capsys) -> None:
    from espnet_l2dual.bin import grid_report

    r = tmp_path / "egs2" / "l2en" / "asr1"
    # error scale 0: MTL = STL; scale 2: MTL surface one edit worse per utterance (resolved)
    for name, div, mtl_surface in (("es0_ep4", 0.0, 1), ("es2_ep4", 0.3, 2), ("es2_ep16", 0.3, ALTERNATING)):
        level = r / "grid" / name
        _model(level, "asr_stl_surface_tiny", {"surface": 1}, lang="en")
        _model(level, "asr_stl_meaning_tiny", {"meaning": 1}, lang="en")
        _model(level, "asr_mtl_tiny", {"surface": mtl_surface, "meaning": 1}, lang="en")
        (level / "dump" / "raw" / "test" / "utt2divergence").write_text("".join(f"{u} {div}\n" for u in _ids()))
    out = tmp_path / "grid_report"
    assert grid_report.main(["--recipes", str(r), "--out_dir", str(out)]) == 0
    data = json.loads((out / "grid.json").read_text())
    rows = {x["name"]: x for x in data["languages"]["en"]}
    assert sorted(rows) == ["es0_ep4", "es2_ep16", "es2_ep4"]
    assert rows["es0_ep4"]["divergence"] == 0.0 and rows["es2_ep4"]["divergence"] == 0.3
    s = rows["es2_ep4"]["outputs"]["surface"]["mtl_minus_stl"]
    assert s["diff"] == 10.0 and s["ci95"] == [10.0, 10.0]
    md = (out / "GRID.md").read_text()
    assert "| en | es2_ep4 | 2 | 4 | 0.3000 | CER +10.00 [+10.00, +10.00] |" in md and "MTL hurt surface" in md
    es16 = next(line for line in md.splitlines() if "es2_ep16" in line)
    assert "no difference resolved" in es16
    assert (out / "grid.png").stat().st_size > 10000
    assert grid_report.main(["--recipes", str(tmp_path / "nothing"), "--out_dir", str(tmp_path / "g2")]) == 1
    assert "no grid levels" in capsys.readouterr().err


def _walk(x, path=""):
    """Every comparison record of report.json: a dict with an interval and its printed difference."""
    if isinstance(x, dict):
        if x.get("ci95") and ("abs" in x or "diff" in x):
            yield path, x
        for k, v in x.items():
            yield from _walk(v, f"{path}.{k}")
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from _walk(v, f"{path}[{i}]")


def test_every_printed_difference_lies_inside_its_interval(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    r = tmp_path / "egs2" / "l2en" / "asr1"
    _data(r)
    d = r / "dump" / "raw" / "test"
    (d / "utt2spk").write_text("".join(f"{u} spk{i // 5}\n" for i, u in enumerate(_ids())))
    (d / "spk2utt").write_text("".join(f"spk{s} " + " ".join(_ids()[5 * s:5 * s + 5]) + "\n" for s in range(N // 5)))
    errs = lambda hi: [int(x) for x in rng.integers(0, hi, N)]
    _model(r, "asr_stl_surface_tiny", {"surface": errs(4)})
    _model(r, "asr_stl_meaning_tiny", {"meaning": errs(4)})
    _model(r, "asr_mtl_tiny", {"surface": errs(6), "meaning": errs(3)})
    _model(r, "asr_partial_tiny", {"surface": errs(5), "meaning": errs(4)})
    out = tmp_path / "report"
    assert _run("--recipes", str(r), "--configs", "stl_surface", "stl_meaning", "mtl", "partial",
                "--out_dir", str(out)) == 0
    data = json.loads((out / "report.json").read_text())
    found = list(_walk(data["languages"]))
    assert len(found) == 8                       # 4 MTL−STL rows (CER, WER per output), 4 method rows
    for where, x in found:
        v = x.get("abs", x.get("diff"))
        assert x["ci95"][0] <= v <= x["ci95"][1], where
        assert x["ci_adj"][0] <= v <= x["ci_adj"][1], where
        assert x["n_spk"] == N // 5 and x["unit"] == "speakers x utterances", where
    head = data["languages"]["en"]["outputs"]["surface"]["rows"][0]
    assert head["mtl_minus_stl"]["abs"] == pytest.approx(head["mtl"] - head["stl"], abs=0.011)  # sclite's rates


def test_results_md_is_generated_from_report_json_with_its_command(tmp_path: Path, capsys) -> None:
    from espnet_l2dual.bin import results_md

    ko = _recipe(tmp_path, "ko", (1, 1), (2, 1))
    en = _recipe(tmp_path, "en", (3, 2), (1, 2))
    _model(en, "asr_partial_tiny", {"surface": 2, "meaning": 2})
    out = tmp_path / "report"
    assert _run("--recipes", str(ko), str(en), "--configs", "stl_surface", "stl_meaning", "mtl", "partial",
                "--out_dir", str(out)) == 3  # partial only in English
    args = ["--report", str(out / "report.json"), "--lang", "en", "--out", str(en / "RESULTS.md")]
    assert results_md.main(args) == 0
    md = (en / "RESULTS.md").read_text()
    assert md.startswith(f"<!-- Generated by: python -m espnet_l2dual.bin.results_md {' '.join(args)} -->")
    assert "| surface | CER | 30.00 | 10.00 | -20.00 [-20.00, -20.00] | lower |" in md
    assert "| meaning | CER | 20.00 | 20.00 |" in md and "not resolved" in md
    assert "| partial | surface | 20.00 | -10.00 [-10.00, -10.00] | +10.00 [+10.00, +10.00] |" in md
    assert "environment: Python " in md and "toolkit commit: " in md and "not recorded" not in md.split("seeds:")[0]
    assert results_md.main(["--report", str(out / "report.json"), "--lang", "fr", "--out", str(tmp_path / "x.md")]) == 1
    assert "no language 'fr' in this report (it has: ko, en)" in capsys.readouterr().err
    assert not (tmp_path / "x.md").exists()


def test_twin_quantities_over_seeds_where_the_twin_set_was_decoded(tmp_path: Path) -> None:
    """Error following and twin distance join the entanglement table over seeds (mean and t interval
    of MTL − STL-surface) where every seed decoded its twins; a language without twins says so."""
    from espnet_l2dual.analysis.study import NORMALISES, TWIN_DISTANCE, normalised_by

    errs = {s: (1, 2, 2, 2) for s in (1, 2)}
    recipes = {lang: _seeded_recipe(tmp_path, lang, errs) for lang in ("ko", "en")}
    for r in recipes.values():
        for s in (1, 2):
            _model(r, f"asr_twin_subspace_tiny_seed{s}", {"surface": 2, "meaning": 2})
    normalised, moved, method_normalised = [0.10, 0.30], [0.02, 0.04], [0.05, 0.20]
    for lang, r in recipes.items():
        groups = {}
        for i, s in enumerate((1, 2)):
            g = _analysis([0.1, 0.5], [0.2, 0.4], 0.1, -0.05, 0.1)["groups"]["tiny"]
            g["context_cka"]["asr_twin_subspace_tiny"] = g["context_cka"]["asr_mtl_tiny"]  # the method's task CKA
            g["encoder_cka"]["own_paths"]["asr_twin_subspace_tiny"] = g["encoder_cka"]["own_paths"]["asr_mtl_tiny"]
            if lang == "en":
                g["error_following"] = {"twin_set": "eval_twins", "normalisation_difference": [
                    {"mtl": "asr_mtl_tiny", "stl_surface": "asr_stl_surface_tiny", "diff": normalised[i]},
                    {"mtl": "asr_twin_subspace_tiny", "stl_surface": "asr_stl_surface_tiny",
                     "diff": method_normalised[i]}]}
                g["twin_distance"] = {"twin_set": "eval_twins", "mtl_minus_stl_surface": {
                    "asr_mtl_tiny": {"stl_surface": "asr_stl_surface_tiny",
                                     "layers": [{"diff": 0.5}, {"diff": moved[i]}]}}}
            else:
                g["error_following"] = {"skipped": "no twin set"}
            groups[f"tiny_seed{s}"] = json.loads(json.dumps(g).replace("asr_mtl_tiny", f"asr_mtl_tiny_seed{s}")
                                                 .replace("asr_twin_subspace_tiny", f"asr_twin_subspace_tiny_seed{s}"))
        _write_analysis(r, {"groups": groups})
    out = tmp_path / "report"
    assert _run("--recipes", str(recipes["ko"]), str(recipes["en"]), "--seeds", "1", "2", "--configs",
                "stl_surface", "stl_meaning", "mtl", "twin_subspace", "--out_dir", str(out), analysis=True) == 0
    data = json.loads((out / "report.json").read_text())
    en = data["languages"]["en"]["entanglement"]
    assert en[NORMALISES]["per_seed"] == normalised and en[NORMALISES]["mean"] == 0.2
    assert en[TWIN_DISTANCE]["per_seed"] == moved  # the last layer, not the first
    assert NORMALISES not in data["languages"]["ko"]["entanglement"]
    # a method model of the group: its rate minus STL-surface's and minus MTL's, named by its config
    assert en[normalised_by("twin_subspace", "STL-surface")]["per_seed"] == method_normalised
    assert en[normalised_by("twin_subspace", "MTL")]["per_seed"] == pytest.approx([-0.05, -0.10])
    md = (out / "REPORT.md").read_text()
    row = [x for x in md.splitlines() if x.startswith(f"| {NORMALISES} |")]
    assert len(row) == 1 and "0.200 ± 0.141" in row[0] and "| — |" in row[0]  # ko has no twins
