"""The recipe runs twin_subspace post-training: stage 7 from a trained MTL model (--init_model_dir).

A copy of the session's tiny l2en recipe (its MTL model), the train twins made (stage 1), then the
method on train_twins from that model (stages 3-7). The post-trained model must keep the MTL
model's token lists and feature statistics byte for byte, name it in its provenance, leave its
encoder as it was (frozen) and change a decoder; bad starts are refused in one line. run_all.sh's
part is checked with a stub run.sh, the study key on a stub recipe.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from espnet_l2dual.tasks import stage7
from espnet_l2dual.tasks.init_model import InitModelError, init_settings
from espnet_l2dual.utils.digest import file_sha1
from recipe_helpers import TINY_CONFIG, TINY_DATA_OPTS, TINY_TAG, clone_recipe, make_recipe, run_recipe

MTL_TAG = TINY_TAG
TWIN_TAG = "asr_twin_test"
TWIN_CONFIG = "conf/train_twin_test.yaml"
DATA_OPTS = TINY_DATA_OPTS + " --train_twins true"
COMMON = ["--nj", "1", "--inference_nj", "1", "--local_data_opts", DATA_OPTS]
TWIN_ARGS = ["--train_set", "train_twins", "--init_model_dir", f"exp/{MTL_TAG}", "--train_config", TWIN_CONFIG]


def write_twin_config(recipe: Path) -> None:
    """The shrunk MTL config plus the method (as conf/tuning/train_twin_subspace_tiny.yaml does)."""
    conf = yaml.safe_load((recipe / TINY_CONFIG).read_text())
    conf.update(task_projection="twin_subspace", twin_map="dump/raw/train_twins/utt2twin",
                freeze_param=["frontend", "normalize", "encoder"], max_epoch=1,
                task_projection_conf={"output_size": conf["encoder_conf"]["output_size"], "meaning_weight": 1.0,
                                      "surface_weight": 1.0, "independence_weight": 1.0, "temperature": 0.1,
                                      "surface_scale": 1.0, "independence": "cka"})
    (recipe / TWIN_CONFIG).write_text(yaml.safe_dump(conf))


@pytest.fixture(scope="module")
def twin_recipe(tiny_recipe, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the session's tiny recipe (its MTL model trained) with the train twins and the
    method post-trained from that model (stages 3-7 on train_twins)."""
    recipe = clone_recipe(tiny_recipe, tmp_path_factory.mktemp("twinrec"))
    write_twin_config(recipe)
    proc = run_recipe(["./run.sh", *COMMON, "--train_config", TINY_CONFIG, "--stage", "1", "--stop_stage", "1"],
                      cwd=recipe, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    proc = run_recipe(["./run.sh", *COMMON, *TWIN_ARGS, "--stage", "3", "--stop_stage", "7"], cwd=recipe,
                      timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return recipe


def test_keeps_the_init_models_tokens_and_stats(twin_recipe):
    mtl, twin = twin_recipe / "exp" / MTL_TAG, twin_recipe / "exp" / TWIN_TAG
    assert (twin_recipe / "dump/raw/train_twins/utt2twin").is_file()
    for rel in ("token_list/surface/tokens.txt", "token_list/meaning/tokens.txt", "feats_stats.npz"):
        assert (twin / rel).read_bytes() == (mtl / rel).read_bytes(), rel
    conf = yaml.safe_load((twin / "config.yaml").read_text())
    assert conf["init_param"] == [f"exp/{MTL_TAG}/valid.loss.ave.pth"] or \
        conf["init_param"] == f"exp/{MTL_TAG}/valid.loss.ave.pth"
    assert conf["train_data_path_and_name_and_type"][0][0] == "dump/raw/train_twins/wav.scp"


def test_provenance_names_the_init_model(twin_recipe):
    prov = json.loads((twin_recipe / "exp" / TWIN_TAG / "provenance.json").read_text())
    model = twin_recipe / "exp" / MTL_TAG / "valid.loss.ave.pth"
    assert prov["init_model"]["model"] == f"exp/{MTL_TAG}/valid.loss.ave.pth"
    assert prov["init_model"]["sha1"] == file_sha1(model)


def test_encoder_frozen_decoder_trained(twin_recipe):
    import torch

    mtl = torch.load(twin_recipe / "exp" / MTL_TAG / "valid.loss.ave.pth", map_location="cpu")
    twin = torch.load(twin_recipe / "exp" / TWIN_TAG / "valid.loss.ave.pth", map_location="cpu")
    encoder = [k for k in mtl if k.startswith("encoder.")]
    assert encoder and all(torch.equal(mtl[k], twin[k]) for k in encoder)
    decoder = [k for k in mtl if k.startswith("decoders.") and mtl[k].is_floating_point()]
    assert decoder and any(not torch.equal(mtl[k], twin[k]) for k in decoder)
    # started from the MTL model's decoder (one short epoch moves it a little), not from scratch
    change = sum(float((twin[k] - mtl[k]).norm()) for k in decoder) / sum(float(mtl[k].norm()) for k in decoder)
    assert change < 0.2, change
    assert any(k.startswith("task_projection.") for k in twin)


def _error_lines(stderr: str) -> list:
    """The lines that say something is wrong; the refusal must be one line, and the last (nothing ran after it)."""
    lines = [line for line in stderr.splitlines() if "error" in line.lower()]
    assert lines and stderr.strip().splitlines()[-1] == lines[-1], stderr[-2000:]
    return lines


def test_refuses_a_missing_init_dir(twin_recipe):
    proc = run_recipe(["./run.sh", *COMMON, "--train_set", "train_twins", "--init_model_dir", "exp/asr_nothing",
                       "--train_config", TWIN_CONFIG, "--stage", "7", "--stop_stage", "7"], cwd=twin_recipe, timeout=300)
    assert proc.returncode != 0
    lines = _error_lines(proc.stderr)
    assert len(lines) == 1 and "exp/asr_nothing" in lines[0], proc.stderr[-2000:]


def test_refuses_a_missing_twin_map(twin_recipe):
    twin_map = twin_recipe / "dump/raw/train_twins/utt2twin"
    aside = twin_map.with_name("utt2twin.aside")
    shutil.move(twin_map, aside)
    try:
        proc = run_recipe(["./run.sh", *COMMON, *TWIN_ARGS, "--tag", "asr_twin_other", "--stage", "7",
                           "--stop_stage", "7"], cwd=twin_recipe, timeout=300)
    finally:
        shutil.move(aside, twin_map)
    assert proc.returncode != 0
    lines = _error_lines(proc.stderr)
    assert len(lines) == 1, proc.stderr[-2000:]
    assert "dump/raw/train_twins/utt2twin" in lines[0] and '--local_data_opts "--train_twins true"' in lines[0]
    assert not (twin_recipe / "exp" / "asr_twin_other" / "config.yaml").exists()


def _fake_model(d: Path) -> Path:
    for o in ("surface", "meaning"):
        (d / "token_list" / o).mkdir(parents=True)
        (d / "token_list" / o / "tokens.txt").write_text("<blank>\n<unk>\na\n<sos/eos>\n")
    (d / "config.yaml").write_text("surface_token_type: char\nmeaning_token_type: char\n")
    (d / "feats_stats.npz").write_bytes(b"x")
    (d / "valid.loss.ave.pth").write_bytes(b"x")
    return d


@pytest.mark.parametrize("missing, named", [
    ("token_list/meaning/tokens.txt", "meaning token list"),
    ("feats_stats.npz", "feature statistics"),
    ("valid.loss.ave.pth", "weights"),
])
def test_init_settings_name_what_is_missing(tmp_path, missing, named):
    d = _fake_model(tmp_path / "asr_mtl")
    assert init_settings(d, "valid.loss.ave.pth", ["surface", "meaning"])["init_param"].endswith("valid.loss.ave.pth")
    (d / missing).unlink()
    with pytest.raises(InitModelError) as e:
        init_settings(d, "valid.loss.ave.pth", ["surface", "meaning"])
    assert missing in str(e.value) and named in str(e.value) and "\n" not in str(e.value)


def test_missing_twin_map_names_the_stage_1_command(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.yaml").write_text("twin_map: dump/raw/train_twins/utt2twin\n")
    with pytest.raises(SystemExit) as e:
        stage7.missing_twin_map("c.yaml")
    assert "--train_twins true" in str(e.value) and "dump/raw/train_twins/utt2twin" in str(e.value)
    (tmp_path / "dump/raw/train_twins").mkdir(parents=True)
    (tmp_path / "dump/raw/train_twins/utt2twin").write_text("")
    stage7.missing_twin_map("c.yaml")


def _study_recipe(root: Path) -> Path:
    for s in ("train", "train_twins", "dev", "eval"):
        d = root / "data" / s
        d.mkdir(parents=True)
        (d / "wav.scp").write_text(f"{s}1 /a/{s}1.wav\n")
        (d / "text_surface").write_text(f"{s}1 a b\n")
    (root / "data/train_twins/utt2twin").write_text("train_twins1 train_twins1 original\n")
    (root / "conf").mkdir()
    (root / "conf/train_twin_subspace_tiny.yaml").write_text("seed: 7\ntwin_map: dump/raw/train_twins/utt2twin\n")
    (root / "exp/asr_mtl_tiny_seed1").mkdir(parents=True)
    (root / "exp/asr_mtl_tiny_seed1/valid.loss.ave.pth").write_bytes(b"weights 1")
    return root


def test_study_key_holds_the_init_models_digest(tmp_path):
    from espnet_l2dual.errors import DataError
    from espnet_l2dual.study import models

    r = _study_recipe(tmp_path)
    spec = models.Spec("en", "twin_subspace", "_tiny", 1, None, "eval")

    def key():
        return models.model_key(spec, r, r / "conf/train_twin_subspace_tiny.yaml", "", "", "mini", ["train", "dev"])

    k0, inputs = key()
    assert set(inputs["data"]) == {"train_twins", "dev"}
    assert inputs["init_model_sha1"] == file_sha1(r / "exp/asr_mtl_tiny_seed1/valid.loss.ave.pth")
    (r / "exp/asr_mtl_tiny_seed1/valid.loss.ave.pth").write_bytes(b"weights 2")
    assert key()[0] != k0
    (r / "exp/asr_mtl_tiny_seed1/valid.loss.ave.pth").unlink()
    with pytest.raises(DataError, match="asr_mtl_tiny_seed1"):
        key()


def test_run_all_gets_the_post_training_options(capsys):
    from espnet_l2dual.bin import study as study_cli

    assert study_cli.main(["run_opts", "--config", "twin_subspace", "--suffix=_tiny", "--seed", "2"]) == 0
    assert capsys.readouterr().out.split() == ["--train_set", "train_twins", "--init_model_dir",
                                               "exp/asr_mtl_tiny_seed2"]
    assert study_cli.main(["run_opts", "--config", "twin_subspace", "--suffix=", "--seed", "none"]) == 0
    assert capsys.readouterr().out.split()[-1] == "exp/asr_mtl"
    assert study_cli.main(["run_opts", "--config", "twin_subspace", "--local_data"]) == 0
    assert capsys.readouterr().out.strip() == "--train_twins true"
    assert study_cli.main(["run_opts", "--config", "mtl", "--suffix=_tiny", "--seed", "2"]) == 0
    assert capsys.readouterr().out == ""


def test_run_all_trains_the_method_after_the_mtl_model_of_its_seed(tmp_path):
    """run_all.sh --configs "mtl twin_subspace": stage 1 makes the train twins; the method runs
    stages 3-9 on them from the MTL model of its size and seed (a stub run.sh records the calls)."""
    import subprocess

    from recipe_helpers import repo_tree

    root = repo_tree(tmp_path)
    recipe = make_recipe(root, "l2en")
    (recipe / "run.sh").write_text('#!/usr/bin/env bash\necho "$*" >> calls.log\n')
    proc = subprocess.run(["./run_all.sh", "--langs", "en", "--configs", "mtl twin_subspace", "--seeds", "1 2",
                           "--stop_stage", "8", "--parallel", "false", "--nj", "1"], cwd=root,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    calls = (recipe / "calls.log").read_text().splitlines()
    assert "--train_twins true" in calls[0] and calls[0].startswith("--stage 1 --stop_stage 6")
    for s in (1, 2):
        mtl = next(i for i, c in enumerate(calls) if "train_mtl_tiny.yaml" in c and f"--seed {s}" in c)
        twin = next(i for i, c in enumerate(calls) if "train_twin_subspace_tiny.yaml" in c and f"--seed {s}" in c)
        assert mtl < twin and calls[mtl].startswith("--stage 7 --stop_stage 8")
        assert calls[twin].startswith("--stage 3 --stop_stage 8")
        assert f"--train_set train_twins --init_model_dir exp/asr_mtl_tiny_seed{s}" in calls[twin]
