"""Stage 9 scoring: units, sclite vs jiwer, divergence bins, the score CLI."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from espnet_l2dual.bin import score as score_cli
from espnet_l2dual.errors import DataError
from espnet_l2dual.scoring.by_divergence import parse_bins, rates_by_divergence, read_divergence
from espnet_l2dual.scoring.cross_check import ScoreMismatch, assert_agree, jiwer_counts
from espnet_l2dual.scoring.sclite import ErrorCounts, parse_result, run_sclite, trn_id
from espnet_l2dual.scoring.units import (SPACE, decompose_hangul, headline, headline_from_json, kinds_for,
                                        recompose_hangul, to_units, unit_from_config)


def _write(path: Path, lines) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(l + "\n" for l in lines), encoding="utf-8")
    return path


# ---------------------------------------------------------------- units

def test_units_cer_wer_ter():
    assert to_units("THE  CAT", "cer", "en") == ["T", "H", "E", SPACE, "C", "A", "T"]
    assert to_units(" THE CAT ", "wer", "en") == ["THE", "CAT"]
    assert to_units("DH IH S", "ter", "en") == ["DH", "IH", "S"]
    assert kinds_for("en", "char") == ["cer", "wer"]
    assert kinds_for("ko", "token") == ["cer", "wer", "jer", "ter"]
    with pytest.raises(ValueError):
        to_units("x", "jer", "en")


def test_korean_jamo_hyp_is_recomposed():
    ref = "먹어요 학교"
    conjoining = decompose_hangul(ref)
    assert conjoining != ref and len(conjoining) > len(ref)
    assert recompose_hangul(conjoining) == ref
    assert recompose_hangul("ㅁㅓㄱㅇㅓㅇㅛ ㅎㅏㄱㄱㅛ") == ref  # compatibility jamo
    assert to_units(conjoining, "cer", "ko") == ["먹", "어", "요", SPACE, "학", "교"]
    assert to_units("값", "jer", "ko") == ["\u1100", "\u1161", "\u11b9"]


# ---------------------------------------------------------------- sclite + jiwer

def test_hand_made_counts(tmp_path):
    refs = {"u1": "THE CAT SAT", "u2": "HELLO", "u3": "A B", "u4": "GO"}
    hyps = {"u1": "THE BAT", "u2": "", "u4": "GO GO"}  # u3 missing: all deletions
    expect = {"wer": (7, 6), "cer": (21, 16)}  # (N, S+D+I) worked out by hand
    for kind, (n, err) in expect.items():
        r = {u: to_units(t, kind, "en") for u, t in refs.items()}
        h = {u: to_units(t, kind, "en") for u, t in hyps.items()}
        sc = run_sclite(tmp_path / kind, r, h)
        jw = jiwer_counts(r, h)
        assert (sc.n_ref, sc.errors, sc.n_utt) == (n, err, 4)
        assert (jw.n_ref, jw.errors) == (n, err)
        assert sc.rate == pytest.approx(100.0 * err / n)
        assert assert_agree(sc, jw, kind)
        for name in ("ref.trn", "hyp.trn", "result.txt"):
            assert (tmp_path / kind / name).is_file()
    assert (tmp_path / "wer" / "hyp.trn").read_text().splitlines()[2] == "(all-u3)"


def test_korean_hand_made(tmp_path):
    refs = {"k1": "먹어요 학교"}
    hyps = {"k1": decompose_hangul("머거요 학교")}  # a jamo model's output
    expect = {"cer": (6, 2), "wer": (2, 1), "jer": (13, 2)}
    for kind, (n, err) in expect.items():
        r = {u: to_units(t, kind, "ko") for u, t in refs.items()}
        h = {u: to_units(t, kind, "ko") for u, t in hyps.items()}
        sc = run_sclite(tmp_path / kind, r, h)
        assert (sc.n_ref, sc.errors) == (n, err), kind
        assert assert_agree(sc, jiwer_counts(r, h), kind)


def test_sclite_and_jiwer_agree_on_random_pairs(tmp_path):
    rng = random.Random(20261122)
    alphabet = ["a", "b", "c", "한", "국", "{", "}", "@", "(", ")", "-x", "%", "*", SPACE]
    refs, hyps = {}, {}
    for i in range(50):
        refs[f"spk{i % 3}_u{i:02d}"] = [rng.choice(alphabet) for _ in range(rng.randint(1, 15))]
        n_hyp = 0 if i % 7 == 0 else rng.randint(0, 15)  # several empty hyps
        hyps[f"spk{i % 3}_u{i:02d}"] = [rng.choice(alphabet) for _ in range(n_hyp)]
    sc = run_sclite(tmp_path, refs, hyps, {u: u.split("_")[0] for u in refs})
    jw = jiwer_counts(refs, hyps)
    assert sc.n_ref == jw.n_ref == sum(len(r) for r in refs.values())
    assert sc.n_utt == 50
    assert_agree(sc, jw, "random")  # raises on a real disagreement
    # per utterance too: equal totals, or sclite's equal-cost tie with more edits
    equal = sum(assert_agree(run_sclite(tmp_path / u, {u: refs[u]}, {u: hyps[u]}),
                             jiwer_counts({u: refs[u]}, {u: hyps[u]}), u) for u in refs)
    assert equal >= 45


def test_sclite_tie_with_more_edits_is_accepted_but_real_mismatch_raises(tmp_path):
    ref = {"u": ["한", "한", "한", "a", "한", "b", "한", "b", "a", "c", "한", "한"]}
    hyp = {"u": ["a", "b", "c", "한", "한", "c", "a", "c", "b", "c"]}
    sc, jw = run_sclite(tmp_path, ref, hyp), jiwer_counts(ref, hyp)
    assert jw.errors == 8 and sc.errors == 9  # both alignments cost 30 under sclite's weights
    assert assert_agree(sc, jw, "tie") is False
    with pytest.raises(ScoreMismatch, match="sclite and jiwer disagree"):
        assert_agree(ErrorCounts(10, 1, 0, 0, 1), ErrorCounts(11, 1, 0, 0, 1), "n differs")
    with pytest.raises(ScoreMismatch):
        assert_agree(ErrorCounts(10, 0, 0, 0, 1), ErrorCounts(10, 1, 0, 0, 1), "sclite fewer")


def test_parse_result_reads_counts_and_rejects_garbage(tmp_path):
    sc = run_sclite(tmp_path, {"u": ["a", "b", "c", "d"]}, {"u": ["a", "x", "c"]})
    assert parse_result(tmp_path / "result.txt") == sc
    assert (sc.sub, sc.dele, sc.ins, sc.n_ref) == (1, 1, 0, 4)
    bad = _write(tmp_path / "bad.txt", ["nothing here"])
    with pytest.raises(RuntimeError, match="bad.txt"):
        parse_result(bad)
    with pytest.raises(ValueError):
        trn_id("a(b", None)


# ---------------------------------------------------------------- divergence bins

def test_parse_bins():
    labels = [b.label for b in parse_bins("0,0.1,0.2,1")]
    assert labels == ["0", "(0,0.1]", "(0.1,0.2]", "(0.2,1]"]
    with pytest.raises(ValueError):
        parse_bins("0,0.2,0.1")


def test_rates_by_divergence(tmp_path):
    div = read_divergence(_write(tmp_path / "utt2divergence",
                                 ["a 0", "b 0.1", "c 0.15", "d 0.5", "e 1.5"]))
    pairs = {  # (ref, hyp) units
        "a": (["x", "y"], ["x", "y"]),
        "b": (["x", "y"], ["x"]),
        "c": (["x", "y", "z", "w"], ["q", "y", "z", "w"]),
        "d": (["x"], ["y", "z"]),
        "e": (["x"], ["x"]),
        "f": (["x"], []),  # no divergence: left out
    }
    rows = rates_by_divergence(parse_bins("0,0.1,0.2,1"), div, {"cer": pairs, "wer": pairs})
    got = {r["bin"]: (r["n_utt"], r["cer"]) for r in rows}
    assert got == {"0": (1, 0.0), "(0,0.1]": (1, 50.0), "(0.1,0.2]": (1, 25.0),
                   "(0.2,1]": (1, 200.0), "(1,inf]": (1, 0.0)}
    empty = rates_by_divergence(parse_bins("0,1"), {}, {"cer": pairs, "wer": pairs})
    assert [r["cer"] for r in empty] == [None, None]
    with pytest.raises(DataError, match="utt2divergence:2"):
        read_divergence(_write(tmp_path / "utt2divergence", ["a 0", "b x"]))


# ---------------------------------------------------------------- CLI

def _make_exp(tmp_path, lang="ko"):
    data = tmp_path / "dump" / "raw" / "test"
    if lang == "ko":
        _write(data / "text_surface", ["s1_u1 머거요 학꾜", "s1_u2 감사함니다", "s2_u3 안녕"])
        _write(data / "text_meaning", ["s1_u1 먹어요 학교", "s1_u2 감사합니다", "s2_u3 안녕"])
        surf = ["s1_u1 " + decompose_hangul("머거요 학교"), "s1_u2", "s2_u3 안녕"]
        mean = ["s1_u1 먹어요 학교", "s1_u2 감사합니다"]  # s2_u3 missing
    else:
        _write(data / "text_surface", ["s1_u1 D IH S", "s1_u2 K AE T"])
        _write(data / "text_meaning", ["s1_u1 THIS", "s1_u2 CAT"])
        surf = ["s1_u1 D IH S", "s1_u2 K AH T"]
        mean = ["s1_u1 THIS", "s1_u2 CUT"]
    _write(data / "utt2spk", ["s1_u1 s1", "s1_u2 s1", "s2_u3 s2"][: 3 if lang == "ko" else 2])
    _write(data / "utt2divergence", ["s1_u1 0.4", "s1_u2 0.1", "s2_u3 0"][: 3 if lang == "ko" else 2])
    dec = tmp_path / "exp" / "mtl_tiny" / "decode_beam5"
    _write(dec / "test" / "surface" / "text", surf)
    _write(dec / "test" / "meaning" / "text", mean)
    return tmp_path / "dump" / "raw", dec


def _run(data_root, dec, lang, *extra):
    exp = dec.parent
    rc = score_cli.main(["--lang", lang, "--decode_dir", str(dec), "--data_root", str(data_root),
                         "--sets", "test dev", "--results_md", str(exp / "RESULTS.md"),
                         "--results_json", str(exp / "results.json"), *extra])
    return rc, exp


def test_cli_korean(tmp_path):
    data_root, dec = _make_exp(tmp_path, "ko")
    rc, exp = _run(data_root, dec, "ko")
    assert rc == 0
    res = json.loads((exp / "results.json").read_text(encoding="utf-8"))
    assert set(res) == {"test", "provenance"} and set(res["test"]) == {"surface", "meaning"}
    assert res["provenance"]["commit"]  # git sha or "unknown" outside a checkout
    m = res["test"]["meaning"]
    # meaning: s1_u1 exact, s1_u2 exact, s2_u3 missing -> 2 chars deleted out of 6+5+2
    assert m["n_utt"] == 3 and m["n_missing_hyp"] == 1
    assert m["cer"] == pytest.approx(100 * 2 / 13)
    assert m["wer"] == pytest.approx(100 * 1 / 4)
    s = res["test"]["surface"]
    # surface: 꾜 vs 교 (1 sub), empty hyp for 감사함니다 (5 del), 안녕 exact
    assert s["cer"] == pytest.approx(100 * 6 / 13)
    assert {"cer", "wer", "jer", "n_utt", "by_divergence", "counts"} <= set(s)
    assert "ter" not in s
    assert [r["bin"] for r in s["by_divergence"]] == ["0", "(0,0.1]", "(0.1,0.2]", "(0.2,1]"]
    assert [r["n_utt"] for r in s["by_divergence"]] == [1, 1, 0, 1]
    assert [r["n_spk"] for r in s["by_divergence"]] == [1, 1, 0, 1]      # how many voices a bin measures
    assert s["by_divergence"][1]["cer"] == 100.0
    for out in ("surface", "meaning"):
        for kind in ("cer", "wer", "jer"):
            assert (dec / "test" / out / f"score_{kind}" / "result.txt").is_file()
    md = (exp / "RESULTS.md").read_text(encoding="utf-8")
    assert "|surface|3|" in md and "|meaning|3|" in md and "mtl_tiny" in md
    assert "by surface–meaning divergence" in md and "JER" in md


def test_cli_english_token_surface(tmp_path):
    data_root, dec = _make_exp(tmp_path, "en")
    rc, exp = _run(data_root, dec, "en", "--unit_surface", "token")
    assert rc == 0
    res = json.loads((exp / "results.json").read_text())
    assert res["test"]["surface"]["ter"] == pytest.approx(100 / 6)
    assert res["test"]["surface"]["headline"]["name"] == "TER"  # tokens that are not named phones
    assert "ter" not in res["test"]["meaning"] and "jer" not in res["test"]["meaning"]
    assert res["test"]["meaning"]["wer"] == pytest.approx(50.0)
    assert (dec / "test" / "surface" / "score_ter" / "result.txt").is_file()


def test_cli_unknown_hyp_id_names_file_and_line(tmp_path):
    data_root, dec = _make_exp(tmp_path, "en")
    hyp = _write(dec / "test" / "meaning" / "text", ["s1_u1 THIS", "nosuch_utt CAT"])
    with pytest.raises(DataError, match=rf"{hyp}:2: hypothesis id 'nosuch_utt'"):
        _run(data_root, dec, "en")
    assert not (dec.parent / "results.json").exists()


def test_cli_nothing_to_score(tmp_path):
    data_root, dec = _make_exp(tmp_path, "en")
    for out in ("surface", "meaning"):
        (dec / "test" / out / "text").unlink()
    rc, exp = _run(data_root, dec, "en")
    assert rc == 1 and not (exp / "RESULTS.md").exists()


def test_cli_mdd_block_with_text_canonical(tmp_path):
    """Phone outputs: prompted MDD by hand (DH->D detected and diagnosed, AE falsely rejected)."""
    data_root, dec = _make_exp(tmp_path, "en")
    _write(data_root / "test" / "text_canonical", ["s1_u1 DH IH S", "s1_u2 K AE T"])
    rc, exp = _run(data_root, dec, "en", "--unit_surface", "token")
    assert rc == 0
    res = json.loads((exp / "results.json").read_text(encoding="utf-8"))
    mdd = res["test"]["surface"]["mdd"]
    p = mdd["prompted"]
    assert (p["ta"], p["fr"], p["fa"], p["tr"], p["cd"], p["de"]) == (4, 1, 0, 1, 1, 0)
    assert (p["precision"], p["recall"], p["f1"], p["frr"], p["der"]) == (50.0, 100.0, 66.67, 20.0, 0.0)
    assert mdd["units"] == "tokens" and "no lexicon" in mdd["prompt_free"]["note"]
    assert [r["bin"] for r in p["by_divergence"]] == ["0", "(0,0.1]", "(0.1,0.2]", "(0.2,1]"]
    assert [r["n_spk"] for r in p["by_divergence"]] == [0, 1, 0, 1]
    assert "mispronunciation detection" in (exp / "RESULTS.md").read_text(encoding="utf-8")


def test_cli_mdd_without_annotated_errors_says_so(tmp_path):
    """Surface = canonical everywhere (speechocean762 without scores.json): counts, no F1, a note."""
    data_root, dec = _make_exp(tmp_path, "en")
    _write(data_root / "test" / "text_canonical", ["s1_u1 D IH S", "s1_u2 K AE T"])
    rc, exp = _run(data_root, dec, "en", "--unit_surface", "token")
    assert rc == 0
    mdd = json.loads((exp / "results.json").read_text(encoding="utf-8"))["test"]["surface"]["mdd"]
    p = mdd["prompted"]
    assert (p["tr"], p["fa"], p["fr"], p["recall"], p["f1"]) == (0, 0, 1, None, None)  # AE falsely rejected
    assert "no mispronunciation annotated" in p["note"]
    assert "|prompted|no mispronunciation annotated" in (exp / "RESULTS.md").read_text(encoding="utf-8")


def test_cli_mdd_prompt_free_korean_uses_the_meaning_hypothesis(tmp_path):
    from espnet_l2dual.text.korean_pronunciation import pronounce

    data_root, dec = _make_exp(tmp_path, "ko")
    meanings = {"s1_u1": "먹어요 학교", "s1_u2": "감사합니다", "s2_u3": "안녕"}
    _write(data_root / "test" / "text_canonical", [f"{u} {pronounce(m)[0]}" for u, m in meanings.items()])
    rc, exp = _run(data_root, dec, "ko")
    assert rc == 0
    mdd = json.loads((exp / "results.json").read_text(encoding="utf-8"))["test"]["surface"]["mdd"]
    assert mdd["units"] == "jamo"
    pr, pf = mdd["prompted"], mdd["prompt_free"]
    # s2_u3 has no meaning hypothesis: prompt-free has no canonical units for it (안녕: 6 jamo)
    assert pr["n_canonical"] == pf["n_canonical"] + 6
    assert pr["fa"] == 0 and pr["fr"] >= 12  # the empty s1_u2 hypothesis rejects all of 감사함니다


# ---------------------------------------------------------------- headline metric by unit

def test_headline_metric_by_unit():
    assert (headline("char").name, headline("char").kind) == ("CER", "cer")
    assert (headline("phone").name, headline("phone").kind, headline("phone").score_subdir) == ("PER", "ter", "score_ter")
    assert headline("token").name == "TER"
    assert headline_from_json(headline("phone").to_json(12.5)) == headline("phone")
    with pytest.raises(ValueError, match="not the one of unit 'phone'"):
        headline_from_json({"name": "CER", "kind": "cer", "unit": "phone"})
    assert kinds_for("en", "phone") == ["cer", "wer", "ter"]


def test_unit_from_config():
    phones = ["<blank>", "<unk>", "AH", "DH", "IH", "S", "<sos/eos>"]
    assert unit_from_config({"surface_token_type": "word", "surface_token_list": phones}, "surface") == "phone"
    words = ["<blank>", "<unk>", "THE", "CAT", "<sos/eos>"]
    assert unit_from_config({"surface_token_type": "word", "surface_token_list": words}, "surface") == "token"
    assert unit_from_config({"meaning_token_type": "phn"}, "meaning") == "phone"
    for t in ("char", "jamo", "bpe", None):
        assert unit_from_config({"surface_token_type": t}, "surface") == "char"


def test_cli_phone_surface_from_the_model_config_is_judged_by_per(tmp_path):
    """L2-ARCTIC-like phones in word tokens: the headline is the phone error rate, not CER of the symbols."""
    import yaml

    data_root, dec = _make_exp(tmp_path, "en")
    conf = dec.parent / "config.yaml"
    conf.write_text(yaml.safe_dump({"surface_token_type": "word",
                                    "surface_token_list": ["<blank>", "<unk>", "AE", "AH", "D", "IH", "K", "S", "T",
                                                           "<sos/eos>"],
                                    "meaning_token_type": "char", "meaning_token_list": ["<blank>", "T"]}))
    _write(data_root / "test" / "text_canonical", ["s1_u1 DH IH S", "s1_u2 K AE T"])
    rc, exp = _run(data_root, dec, "en", "--model_config", str(conf))
    assert rc == 0
    res = json.loads((exp / "results.json").read_text())["test"]
    s = res["surface"]
    # 1 phone substituted (AE -> AH) of 6; the character CER of the symbols is another number
    assert s["headline"] == {"name": "PER", "kind": "ter", "unit": "phone", "value": pytest.approx(100 / 6),
                             "score_subdir": "score_ter"}
    assert s["cer"] != pytest.approx(100 / 6) and "ter" in s["by_divergence"][0]
    assert (dec / "test" / "surface" / "score_ter" / "hyp.trn").is_file()
    assert res["meaning"]["headline"]["name"] == "CER"
    md = (exp / "RESULTS.md").read_text()
    assert "surface PER 16.67 (phone units)" in md and "meaning CER" in md
    assert s["mdd"]["units"] == "phones"


def test_divergence_analysis_uses_the_headline_metric(tmp_path):
    from espnet_l2dual.analysis import divergence_analysis

    ids = [f"u{i}" for i in range(6)]
    ref = _write(tmp_path / "text_surface", [f"{u} DH IH S" for u in ids])
    stl = _write(tmp_path / "stl", [f"{u} DH IH S" for u in ids])
    mtl = _write(tmp_path / "mtl", [f"{u} D IH S" for u in ids])  # one phone (DH -> D) wrong everywhere
    div = divergence_analysis.analyse({"stl": {"surface": stl}, "mtl": {"surface": mtl}}, {"surface": ref},
                                      {u: 0.1 for u in ids}, {"surface": "stl"}, ["mtl"], "en", "0,0.5,1",
                                      {"surface": headline("phone")})
    assert div["metric"]["surface"] == {"name": "PER", "kind": "ter", "unit": "phone"}
    d = div["mtl_minus_stl"]["mtl"]["surface"]
    assert d["overall"]["ter"] == pytest.approx(100 / 3)          # 1 of 3 phones
    assert d["overall"]["cer"] == pytest.approx(100 / 7)          # 1 of 7 characters (with spaces): not PER
    assert {k: d["interval"][k] for k in ("kind", "diff", "ci95", "n_utt", "unit")} == {
        "kind": "ter", "diff": pytest.approx(33.33, abs=0.01), "ci95": [33.33, 33.33], "n_utt": 6, "unit": "utterances"}


def test_divergence_bins_count_speakers_and_the_trend_is_read_within_speakers(tmp_path):
    from espnet_l2dual.analysis import divergence_analysis

    # speaker A: no divergence, MTL much worse on its voice; speaker B: diverges, MTL = STL.
    # Pooled, the difference falls with divergence; inside each speaker nothing varies with it.
    ids = [f"A{i}" for i in range(6)] + [f"B{i}" for i in range(6)]
    ref = _write(tmp_path / "text_surface", [f"{u} abcdefghij" for u in ids])
    stl = _write(tmp_path / "stl", [f"{u} abcdefghij" for u in ids])
    mtl = _write(tmp_path / "mtl", [f"{u} {'xxx' if u[0] == 'A' and int(u[1]) % 2 else 'xx'}defghij"
                                    if u[0] == "A" else f"{u} {'x' if int(u[1]) % 2 else 'a'}bcdefghij" for u in ids])
    utt2div = {u: (0.0 if u[0] == "A" else 0.1 + 0.02 * int(u[1])) for u in ids}
    div = divergence_analysis.analyse({"stl": {"surface": stl}, "mtl": {"surface": mtl}}, {"surface": ref},
                                      utt2div, {"surface": "stl"}, ["mtl"], "en", "0,0.1,0.2,1",
                                      utt2spk={u: u[0] for u in ids})
    d = div["mtl_minus_stl"]["mtl"]["surface"]
    assert [(b["bin"], b["n_utt"], b["n_spk"]) for b in d["bins"]] == [("0", 6, 1), ("(0,0.1]", 1, 1),
                                                                        ("(0.1,0.2]", 5, 1), ("(0.2,1]", 0, 0)]
    assert [b["n_spk"] for b in div["error"]["mtl"]["surface"]["bins"]] == [1, 1, 1, 0]
    assert d["bins"][0]["interval"]["family"] == "bins" and d["bins"][0]["interval"]["ci_adj"] is not None
    assert d["interval"]["unit"] == "speakers x utterances" and d["interval"]["n_spk"] == 2
    assert d["interval"]["family"] == "overall MTL−STL" and d["interval"]["ci_adj"] is not None
    sp = div["spearman"]["mtl"]["surface"]
    assert sp["rho"] < -0.5 and sp["p"] < 0.05                          # pooled: a speaker effect
    w = sp["within_speaker"]                                             # speaker A has no divergence spread
    assert w["n_spk"] == 1 and w["n"] == 6 and w["p"] > 0.05
