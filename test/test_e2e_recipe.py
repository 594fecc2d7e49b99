"""End to end: the English recipe on a small mini corpus, stages 1-11, on CPU.

The recipe runs in a scratch copy (symlinks to TEMPLATE, as in the repo) so the test
never touches the real recipe's data/, dump/ or exp/.  The config is the recipe's own
tiny MTL config with a short schedule (see write_test_config); the error bounds are ones a
model that learned nothing (CER ~100%) cannot meet.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from recipe_helpers import make_recipe, run_recipe

from espnet_l2dual.utils.config_file import load_config

# Corpus size and schedule: small enough for CI on 2 cores, large enough to learn.
NUM_TRAIN, NUM_DEV, NUM_TEST = 400, 30, 30
MAX_EPOCH = 14
# Measured with exactly this setting on 2 cores (2026-11-22): test CER 34.2% surface,
# 43.4% meaning after 14 epochs (41%/45% after 10). A model that ignores the audio scores
# ~75-100% on these held-out voices, so the bound separates learning from not learning.
CER_BOUND = {"surface": 55.0, "meaning": 55.0}


def write_test_config(recipe: Path) -> Path:
    conf = load_config(recipe / "conf/tuning/train_mtl_tiny.yaml")
    # Short schedule: no SpecAugment (it slows early learning), higher peak lr, short warm-up.
    conf.update(max_epoch=MAX_EPOCH, batch_bins=240000, keep_nbest_models=2, use_tensorboard=False,
                num_att_plot=0, specaug=None)
    conf.pop("specaug_conf", None)
    conf["optim_conf"]["lr"] = 0.003
    conf["scheduler_conf"] = {"warmup_steps": 150}
    out = recipe / "conf" / "train_mtl_e2e.yaml"
    out.write_text(yaml.safe_dump(conf))
    return out


@pytest.mark.slow
def test_english_recipe_all_stages(tmp_path: Path) -> None:
    recipe = make_recipe(tmp_path, "l2en")
    config = write_test_config(recipe)
    # BPE meaning tokens and CTC weight 0.3 (not the recipe's char / 0.5): the setting the
    # numbers above were measured with, and it keeps the bpe path under test.
    cmd = [
        "./run.sh", "--stage", "1", "--stop_stage", "11",
        "--local_data_opts", f"--num_train {NUM_TRAIN} --num_dev {NUM_DEV} --num_test {NUM_TEST}",
        "--train_config", str(config.relative_to(recipe)),
        "--meaning_token_type", "bpe", "--nbpe_meaning", "80", "--beam_size", "3", "--ctc_weight", "0.3",
    ]
    proc = run_recipe(cmd, cwd=recipe, timeout=1500)
    assert proc.returncode == 0, proc.stderr[-4000:]

    exp = recipe / "exp" / "asr_mtl_e2e"
    for rel in ("config.yaml", "init.pth", "valid.loss.ave.pth", "images/acc_surface.png",
                "images/acc_meaning.png", "RESULTS.md", "results.json", "packed.zip"):
        assert (exp / rel).exists(), rel
    for o in ("surface", "meaning"):
        hyp = exp / "decode_beam3_ctc0.3" / "test" / o / "text"
        assert len(hyp.read_text(encoding="utf-8").splitlines()) == NUM_TEST
        assert (hyp.parent / "score_cer" / "result.txt").is_file()
    assert (recipe / "dump/raw/test/utt2divergence").is_file()

    results = json.loads((exp / "results.json").read_text())
    md = (exp / "RESULTS.md").read_text(encoding="utf-8")
    for o, bound in CER_BOUND.items():
        r = results["test"][o]
        assert r["n_utt"] == NUM_TEST
        assert 0.0 <= r["cer"] < bound, f"{o} CER {r['cer']} >= {bound}"
        assert r["wer"] >= 0.0
        assert sum(b["n_utt"] for b in r["by_divergence"]) == NUM_TEST
        assert o in md
    # mispronunciation detection from the surface output (mini English: canonical = spelling);
    # a detector that always accepts has recall 0, one that always rejects has precision
    # = the share of mispronounced letters (computed here from the references)
    mdd = results["test"]["surface"]["mdd"]
    for name in ("prompted", "prompt_free"):
        m = mdd[name]
        assert m["n_canonical"] > 0 and m["tr"] + m["fa"] > 0, name
        assert m["recall"] > 0 and m["f1"] > 0, name
        base_precision = 100.0 * (m["tr"] + m["fa"]) / m["n_canonical"]
        assert m["precision"] > base_precision, (name, m["precision"], base_precision)
