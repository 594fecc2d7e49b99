"""Stages 1-10 of a recipe with the SSL front end, offline: a tiny random WavLM saved locally.

What a GPU user runs with ``train_mtl_wavlm.yaml`` and downloaded weights, shrunk to CPU seconds:
the model directory comes from ``save_pretrained`` (no hub access), stage 6 keeps its SSL
feature statistics apart from the fbank ones, training resumes nothing stale, stages 8-9
decode and score both outputs, and stage 10 records the SSL layers (``ssl.<i>``).
"""

from __future__ import annotations

import json

import pytest
import yaml
from recipe_helpers import make_recipe, run_recipe, write_tiny_config
from tiny_ssl import make_tiny_ssl

from espnet_l2dual.utils.fileio import read_table

pytestmark = pytest.mark.slow


def test_ssl_frontend_recipe_stages_1_to_10(tmp_path, monkeypatch) -> None:
    recipe = make_recipe(tmp_path, "l2en")
    ssl_dir = make_tiny_ssl(tmp_path / "downloads" / "tiny-wavlm")
    common = ["--local_data_opts", "--num_train 40 --num_dev 8 --num_test 8"
              " --eval_speakers 2 --eval_utts_per_speaker 2", "--beam_size", "2", "--nj", "1",
              "--inference_nj", "1"]
    fbank = write_tiny_config(recipe, "train_fbank_test.yaml")
    conf = yaml.safe_load(fbank.read_text())
    conf.update(frontend="ssl", frontend_conf={"model": str(ssl_dir), "freeze_steps": 3}, unused_parameters=True)
    conf["encoder_conf"]["input_layer"] = "conv2d2"
    ssl_conf = recipe / "conf" / "train_ssl_test.yaml"
    ssl_conf.write_text(yaml.safe_dump(conf))
    # the fbank config only needs its statistics (stage 6) beside the SSL ones; the SSL model runs 1-9
    for config, stop in ((fbank, "6"), (ssl_conf, "9")):
        proc = run_recipe(["./run.sh", "--stage", "1", "--stop_stage", stop, "--train_config", str(config),
                           *common], cwd=recipe, timeout=1500)
        assert proc.returncode == 0, proc.stderr[-4000:]
    stats = sorted(p.name for p in (recipe / "exp").glob("stats_raw_*"))
    assert len(stats) == 2 and any("_ssl" in s for s in stats)  # SSL statistics in their own dir
    exp = recipe / "exp" / "asr_ssl_test"
    trained = yaml.safe_load((exp / "config.yaml").read_text())
    assert trained["frontend"] == "ssl" and trained["frontend_conf"]["model"] == str(ssl_dir)
    results = json.loads((exp / "results.json").read_text())["test"]
    assert set(results) == {"surface", "meaning"} and all(r["n_utt"] == 8 for r in results.values())
    assert (exp / "report.html").is_file()
    for o in ("surface", "meaning"):
        assert len(read_table(exp / "decode_beam2_ctc0.5" / "test" / o / "text", allow_empty_value=True)) == 8
    proc = run_recipe(["./run.sh", "--stage", "10", "--stop_stage", "10", "--train_config", str(ssl_conf),
                       *common], cwd=recipe, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    # stage 10's recorder sees the SSL layers of the trained model (ssl.<i>) besides its encoder blocks
    from espnet_l2dual.analysis.exp_models import ModelInfo, model_loader
    from espnet_l2dual.analysis.layer_states import collect
    from espnet_l2dual.analysis.utterances import load_utterances

    monkeypatch.chdir(recipe)  # the trained config names its stats file relative to the recipe
    model, preprocess, _ = model_loader(ModelInfo("asr_ssl_test", exp, ["surface", "meaning"], "test"),
                                        "valid.loss.ave.pth", "cpu")()
    test_dir = recipe / "dump/raw/test"
    utts = load_utterances(test_dir, list(read_table(test_dir / "wav.scp"))[:2])
    states = collect(model, preprocess, utts, max_frames=200, seed=0)
    assert {"ssl.0", "ssl.1", "enc.0"} <= set(states) and states["ssl.0"].shape[1] == 32
