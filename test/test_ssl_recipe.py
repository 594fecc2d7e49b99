"""``run_all.sh --size wavlm`` end to end, offline: a tiny random WavLM saved where the configs look.

What a GPU user runs with ``train_<config>_wavlm.yaml`` and downloaded weights, shrunk to CPU
minutes: the model directory comes from ``save_pretrained`` (no hub access), stage 6 keeps its
SSL feature statistics apart from the fbank ones, the STL pair and MTL train, stages 8-9 decode
and score both outputs, stage 10 groups the three as ``wavlm`` (from what the models record) and
compares their SSL layers too, and the cross-language report is written.
"""

from __future__ import annotations

import json

import pytest
import yaml
from recipe_helpers import make_recipe, repo_tree, run_recipe, write_tiny_config
from tiny_ssl import make_tiny_ssl

from espnet_l2dual.utils.fileio import read_table

pytestmark = pytest.mark.slow

CONFIGS = ("stl_surface", "stl_meaning", "mtl")


def test_run_all_size_wavlm_trains_the_study_and_reaches_its_report(tmp_path) -> None:
    tree = repo_tree(tmp_path)
    recipe = make_recipe(tree, "l2en")
    # where train_mtl_wavlm.yaml reads its SSL model (downloads/wavlm-base-plus, relative to the recipe)
    ssl_dir = make_tiny_ssl(recipe / "downloads" / "wavlm-base-plus")
    # the wavlm configs build on train_mtl.yaml (GPU size): the shrunk tiny config stands in for it
    tiny = write_tiny_config(recipe)
    (tree / "egs2/TEMPLATE/asr1/conf/tuning/train_mtl.yaml").write_text(tiny.read_text())
    cmd = ["./run_all.sh", "--langs", "en", "--size", "wavlm", "--nj", "1", "--parallel", "false",
           "--train_args", "--frontend_conf freeze_steps=3",  # the SSL layers are fine-tuned too
           "--run_args", "--beam_size 2 --inference_nj 1",
           "--local_data_opts", "--num_train 40 --num_dev 8 --num_test 8 --eval_speakers 2 --eval_utts_per_speaker 4"]
    proc = run_recipe(cmd, cwd=tree, timeout=2400)
    assert proc.returncode == 0, proc.stderr[-4000:]

    stats = sorted(p.name for p in (recipe / "exp").glob("stats_raw_*"))
    assert stats and all("_ssl" in s for s in stats), stats  # never the fbank statistics' dir
    for config in CONFIGS:
        exp = recipe / "exp" / f"asr_{config}_wavlm"
        trained = yaml.safe_load((exp / "config.yaml").read_text())
        assert trained["frontend"] == "ssl" and trained["frontend_conf"]["model"] == "downloads/wavlm-base-plus"
        assert trained["frontend_conf"]["freeze_steps"] == 3
        results = json.loads((exp / "results.json").read_text())
        outputs = {"stl_surface": {"surface"}, "stl_meaning": {"meaning"}}.get(config, {"surface", "meaning"})
        assert set(results["test"]) == outputs and all(r["n_utt"] == 8 for r in results["test"].values())
        assert (exp / "report.html").is_file()
    for o in ("surface", "meaning"):
        text = recipe / "exp/asr_mtl_wavlm/decode_beam2_ctc0.5/test" / o / "text"
        assert len(read_table(text, allow_empty_value=True)) == 8

    analysis = json.loads((recipe / "exp/analysis/analysis.json").read_text())
    assert list(analysis["groups"]) == ["wavlm"]
    group = analysis["groups"]["wavlm"]
    assert len(group["encoder_cka"]["layers"]) == 4  # the wavlm configs' 4 conformer blocks
    # the SSL layers compared too: the tiny WavLM's 2 transformer layers, for each pair of the three models
    ssl = group["ssl_cka"]["pairs"]
    assert len(ssl) == 3 and all(len(p["debiased"]["diag"]) == 2 for p in ssl.values()), ssl.keys()
    assert all(-1.0 <= v <= 1.0 + 1e-6 for p in ssl.values() for v in p["debiased"]["diag"])
    report = json.loads((tree / "exp/report/report.json").read_text())
    rows = report["languages"]["en"]["outputs"]["surface"]["rows"]
    assert rows and rows[0]["mtl_minus_stl"]["abs"] is not None  # stage 10's group found by the report
    assert (tree / "exp/report/REPORT.md").is_file() and (ssl_dir / "config.json").is_file()
