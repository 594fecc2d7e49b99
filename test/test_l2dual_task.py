"""L2DualTask: config parsing and round trip, config errors, preprocessing, recipe configs, training."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch
import yaml

from l2dual_helpers import SURFACE_TOKENS, parse_args, tiny_config, write_token_lists

from espnet_l2dual.tasks.l2dual import L2DualTask
from espnet_l2dual.train.trainer import save_initial_weights
from espnet_l2dual.utils.config_file import load_config

ROOT = Path(__file__).resolve().parents[1]
RECIPES = [ROOT / "egs2" / "l2ko" / "asr1", ROOT / "egs2" / "l2en" / "asr1"]


def print_config(monkeypatch, argv):
    """What ``l2dual_train ARGV --print_config`` prints, in-process (ESPnet reads sys.argv for it)."""
    monkeypatch.setattr(sys, "argv", ["l2dual_train", *argv, "--print_config"])
    out = io.StringIO()
    L2DualTask.print_config(file=out)
    return yaml.safe_load(out.getvalue())


def test_print_config_round_trip(tmp_path, monkeypatch):
    source = tiny_config(["surface"], ctc_weight=0.5)
    src = tmp_path / "src.yaml"
    src.write_text(yaml.safe_dump(source), encoding="utf-8")
    printed = print_config(monkeypatch, ["--config", str(src)])
    for key, value in source.items():
        if isinstance(value, dict):
            assert {k: printed[key][k] for k in value} == value, key
        else:
            assert printed[key] == value, key
    assert printed["surface_decoder_conf"]["num_blocks"] == 1
    again = tmp_path / "printed.yaml"
    again.write_text(yaml.safe_dump(printed), encoding="utf-8")
    assert print_config(monkeypatch, ["--config", str(again)]) == printed
    lists = write_token_lists(tmp_path)
    args = L2DualTask.get_parser().parse_args(["--config", str(again), "--surface_token_list", str(lists["surface"])])
    assert L2DualTask.build_model(args).tasks == ["surface"]


@pytest.mark.parametrize(
    "change, extra, message",
    [
        ({"encoder": "no_such_encoder"}, [], "--encoder"),
        ({"model_conf": {"tasks": ["surface", "foo"]}}, [], "model_conf.tasks: unknown output 'foo'"),
        ({"model_conf": {"tasks": []}}, [], "model_conf.tasks is empty"),
        ({"model_conf": {"tasks": ["surface"], "ctc_wieght": 0.3}}, [], "model_conf: unknown key 'ctc_wieght'"),
        ({"surface_decoder": None}, [], "--surface_decoder is required"),
    ],
)
def test_bad_config_names_the_key(tmp_path, change, extra, message):
    config = {**tiny_config(["surface", "meaning"]), **change}
    with pytest.raises(ValueError) as e:
        L2DualTask.build_model(parse_args(tmp_path, config, extra))
    assert message in str(e.value)


def test_unknown_encoder_on_the_command_line_is_rejected_by_argparse(tmp_path, capsys):
    with pytest.raises(SystemExit):
        parse_args(tmp_path, tiny_config(["surface"]), ["--encoder", "no_such_encoder"])
    assert "--encoder" in capsys.readouterr().err


def test_missing_token_list_of_an_active_task(tmp_path):
    args = parse_args(tmp_path, tiny_config(["surface", "meaning"]), token_lists=["surface"])
    with pytest.raises(ValueError, match=r"--meaning_token_list is required because model_conf.tasks contains 'meaning'"):
        L2DualTask.build_model(args)
    stl = parse_args(tmp_path, tiny_config(["surface"]), token_lists=["surface"])
    assert L2DualTask.build_model(stl).tasks == ["surface"]  # no meaning list needed for STL


def test_preprocessor_tokenizes_each_active_output(tmp_path):
    args = parse_args(tmp_path, tiny_config(["surface", "meaning"]))
    L2DualTask.build_model(args)  # reads the lists into args, as the CLI does first
    prep = L2DualTask.build_preprocess_fn(args, train=False)
    out = prep("u1", {"speech": np.zeros(1600, dtype=np.float32), "text_surface": "ab c", "text_meaning": "zyq"})
    ids = {t: i for i, t in enumerate(SURFACE_TOKENS)}
    assert out["text_surface"].tolist() == [ids["a"], ids["b"], ids["<space>"], ids["c"]]
    assert out["text_meaning"].tolist() == [4, 3, 1]  # z, y, <unk>


def test_jamo_token_type_uses_korean_jaso(tmp_path):
    jamo_list = tmp_path / "jamo.txt"
    tokens = ["<blank>", "<unk>", "\u1106", "\u1165", "\u11a8", "\u110b", "<space>", "<sos/eos>"]  # ㅁ ㅓ ㄱ ㅇ
    jamo_list.write_text("".join(t + "\n" for t in tokens), encoding="utf-8")
    args = parse_args(tmp_path, tiny_config(["surface"]), ["--surface_token_type", "jamo",
                                                            "--surface_token_list", str(jamo_list)])
    L2DualTask.build_model(args)
    prep = L2DualTask.build_preprocess_fn(args, train=False)
    out = prep("u1", {"speech": np.zeros(1600, dtype=np.float32), "text_surface": "먹 어"})
    assert out["text_surface"].tolist() == [2, 3, 4, 6, 5, 3]
    bad = parse_args(tmp_path, tiny_config(["surface"]), ["--surface_token_type", "jamo", "--surface_g2p", "g2p_en"])
    with pytest.raises(ValueError, match="--surface_g2p"):
        L2DualTask.build_model(bad)


def test_data_names_make_texts_optional():
    assert L2DualTask.required_data_names() == ("speech",)
    assert L2DualTask.optional_data_names() == ("text_surface", "text_meaning")


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.parts[-2])
@pytest.mark.parametrize("suffix", ["_tiny", ""])
def test_recipe_configs_differ_only_in_tasks(recipe, suffix):
    configs = {}
    for name in ("mtl", "stl_surface", "stl_meaning"):
        configs[name] = load_config(recipe / "conf" / "tuning" / f"train_{name}{suffix}.yaml")
    tasks = {name: c["model_conf"].pop("tasks") for name, c in configs.items()}
    assert tasks == {"mtl": ["surface", "meaning"], "stl_surface": ["surface"], "stl_meaning": ["meaning"]}
    assert configs["mtl"] == configs["stl_surface"] == configs["stl_meaning"]
    assert configs["mtl"]["seed"] == 0


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.parts[-2])
def test_tiny_recipe_config_builds(tmp_path, recipe):
    stats = tmp_path / "feats_stats.npz"
    np.savez(stats, count=10, sum=np.zeros(80), sum_square=np.full(80, 10.0))
    args = parse_args(tmp_path, load_config(recipe / "conf/tuning/train_mtl_tiny.yaml"),
                      ["--normalize_conf", f"stats_file={stats}"])
    model = L2DualTask.build_model(args)
    assert model.tasks == ["surface", "meaning"]
    assert model.encoder.output_size() == 144


def test_initial_weights_saved_once_on_a_fresh_start(tmp_path):
    model = torch.nn.Linear(2, 2)
    assert save_initial_weights(model, tmp_path)
    saved = torch.load(tmp_path / "init.pth")
    assert torch.equal(saved["weight"], model.weight.detach())
    with torch.no_grad():
        model.weight.add_(1.0)
    assert not save_initial_weights(model, tmp_path)  # θ0 is never overwritten
    assert torch.equal(torch.load(tmp_path / "init.pth")["weight"], saved["weight"])
    resumed = tmp_path / "resumed"
    resumed.mkdir()
    (resumed / "checkpoint.pth").write_bytes(b"")
    assert not save_initial_weights(model, resumed)
    assert not (resumed / "init.pth").exists()


def _write_corpus(root: Path, n: int = 8):
    """Noise wavs with random texts as a Kaldi data dir: wav.scp, text_surface, text_meaning."""
    rng = np.random.default_rng(0)
    root.mkdir(parents=True)
    wav, surface, meaning = [], [], []
    for i in range(n):
        utt = f"utt{i:02d}"
        path = root / f"{utt}.wav"
        soundfile.write(path, (rng.standard_normal(8000 + 800 * i) * 0.1).astype(np.float32), 16000)
        wav.append(f"{utt} {path}\n")
        surface.append(f"{utt} {''.join(rng.choice(list('abcd'), 4))}\n")
        meaning.append(f"{utt} {''.join(rng.choice(list('xyz'), 3))}\n")
    for name, lines in (("wav.scp", wav), ("text_surface", surface), ("text_meaning", meaning)):
        (root / name).write_text("".join(lines), encoding="utf-8")


def _run_cli(args, cwd):
    proc = subprocess.run([sys.executable, "-m", "espnet_l2dual.bin.l2dual_train", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc


@pytest.mark.slow
def test_collect_stats_then_one_epoch_of_training(tmp_path):
    data = tmp_path / "data"
    _write_corpus(data)
    lists = write_token_lists(tmp_path)
    config = tiny_config(["surface", "meaning"])
    config.update(normalize="global_mvn", max_epoch=1, batch_type="numel", batch_bins=40000,
                  keep_nbest_models=1, best_model_criterion=[["valid", "loss", "min"]],
                  optim="adam", optim_conf={"lr": 0.002}, num_att_plot=1)
    cfg = tmp_path / "train.yaml"
    cfg.write_text(yaml.safe_dump(config), encoding="utf-8")
    tokens = ["--surface_token_list", str(lists["surface"]), "--meaning_token_list", str(lists["meaning"])]
    data_args = []
    for split in ("train", "valid"):
        data_args += [f"--{split}_data_path_and_name_and_type", f"{data}/wav.scp,speech,sound"]
        for o in ("surface", "meaning"):
            data_args += [f"--{split}_data_path_and_name_and_type", f"{data}/text_{o},text_{o},text"]
    stats = tmp_path / "stats"
    _run_cli(["--collect_stats", "true", "--config", str(cfg), "--normalize", "none", "--ngpu", "0",
              "--num_workers", "0", *tokens, *data_args, "--train_shape_file", f"{data}/wav.scp",
              "--valid_shape_file", f"{data}/wav.scp", "--output_dir", str(stats)], tmp_path)
    for name in ("feats_stats.npz", "speech_shape", "text_surface_shape", "text_meaning_shape"):
        assert (stats / "train" / name).is_file(), name

    printed = yaml.safe_load(_run_cli(["--config", str(cfg), "--print_config"], tmp_path).stdout)
    assert printed["model_conf"]["tasks"] == ["surface", "meaning"] and printed["max_epoch"] == 1

    exp = tmp_path / "exp"
    _run_cli(["--config", str(cfg), "--normalize_conf", f"stats_file={stats}/train/feats_stats.npz",
              "--ngpu", "0", "--num_workers", "0", "--resume", "true", "--use_tensorboard", "false",
              *tokens, *data_args, "--train_shape_file", f"{stats}/train/speech_shape",
              "--valid_shape_file", f"{stats}/valid/speech_shape", "--output_dir", str(exp)], tmp_path)
    assert (exp / "checkpoint.pth").is_file() and (exp / "1epoch.pth").is_file()
    init = torch.load(exp / "init.pth")
    trained = torch.load(exp / "1epoch.pth")
    assert set(init) == set(trained)
    assert any(not torch.equal(init[k], trained[k]) for k in init)  # θ0 really is the start
    written = yaml.safe_load((exp / "config.yaml").read_text())
    assert written["surface_token_list"] == SURFACE_TOKENS  # lists stored inline: portable
    assert (exp / "images" / "acc_meaning.png").is_file()


def test_espnet_options_and_choices_come_from_asrtask():
    """Cleaners, g2p, token types and component classes follow the installed ESPnet's ASRTask."""
    from espnet2.tasks.asr import ASRTask

    from espnet_l2dual.tasks import l2dual

    ours = {a.dest: a for a in L2DualTask.get_parser()._actions}
    asr = {a.dest: a for a in ASRTask.get_parser()._actions}
    for dest in ("cleaner", "init", "use_preprocessor", "noise_db_range", "short_noise_thres"):
        assert (ours[dest].choices, ours[dest].default, ours[dest].type.__qualname__) == \
            (asr[dest].choices, asr[dest].default, asr[dest].type.__qualname__), dest
    for o in ("surface", "meaning"):
        assert ours[f"{o}_g2p"].choices == asr["g2p"].choices
        assert ours[f"{o}_token_type"].choices == [t for t in asr["token_type"].choices
                                                   if t in l2dual.DETOKENIZABLE] + ["jamo"]
        assert ours[f"{o}_token_type"].default == "char"
        assert ours[f"{o}_decoder"].choices == asr["decoder"].choices
    for name in ("specaug", "normalize", "preencoder", "encoder", "postencoder"):
        assert ours[name].choices == asr[name].choices, name
    assert set(ours["frontend"].choices) == set(asr["frontend"].choices) | {"ssl"}
    # a parser's mutable default is its own
    assert ours["ctc_conf"].default is not L2DualTask.get_parser()._option_string_actions["--ctc_conf"].default
