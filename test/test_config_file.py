"""Configs defined once: ``base:`` composition, its errors, and the recipes' shared layout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from espnet_l2dual.bin import resolve_config, stage_guard
from espnet_l2dual.errors import DataError
from espnet_l2dual.tasks import preflight
from espnet_l2dual.utils.config_file import (
    RESOLVED_NAME, config_chain, config_digest, deep_merge, load_config, resolve_config_option, write_resolved,
)

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_TUNING = ROOT / "egs2" / "TEMPLATE" / "asr1" / "conf" / "tuning"
CONFIGS = ("stl_surface", "stl_meaning", "mtl", "partial", "moe", "ortho", "pcgrad", "cagrad", "dual_attention")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ---- deep merge -------------------------------------------------------------------------

def test_mappings_merge_key_by_key_and_new_keys_follow():
    base = {"a": 1, "conf": {"x": 1, "y": {"deep": 1, "keep": 2}}, "z": 0}
    over = {"conf": {"y": {"deep": 9}, "new": 3}, "b": 2}
    out = deep_merge(base, over)
    assert out == {"a": 1, "conf": {"x": 1, "y": {"deep": 9, "keep": 2}, "new": 3}, "z": 0, "b": 2}
    assert list(out) == ["a", "conf", "z", "b"] and list(out["conf"]) == ["x", "y", "new"]
    assert base["conf"]["y"]["deep"] == 1  # inputs unchanged


@pytest.mark.parametrize("value", [[3], None, "text", 0, []])
def test_lists_scalars_and_null_replace(value):
    base = {"tasks": ["surface", "meaning"], "specaug": "specaug", "conf": {"k": [1, 2]}}
    out = deep_merge(base, {"tasks": value, "specaug": value, "conf": {"k": value}})
    assert out["tasks"] == value and out["specaug"] == value and out["conf"]["k"] == value


def test_a_mapping_that_says_replace_base_replaces_the_base_mapping():
    base = {"frontend_conf": {"n_fft": 512, "n_mels": 80}, "encoder_conf": {"a": 1}}
    out = deep_merge(base, {"frontend_conf": {"replace_base": True, "model": "m"}, "encoder_conf": {"b": 2}})
    assert out == {"frontend_conf": {"model": "m"}, "encoder_conf": {"a": 1, "b": 2}}
    assert deep_merge(base, {"frontend_conf": {"replace_base": False, "x": 1}})["frontend_conf"] == {
        "n_fft": 512, "n_mels": 80, "replace_base": False, "x": 1}  # only true replaces


def test_a_mapping_replaces_a_scalar_and_null_replaces_a_mapping():
    assert deep_merge({"a": 1, "b": {"x": 1}}, {"a": {"x": 2}, "b": None}) == {"a": {"x": 2}, "b": None}


def test_the_result_shares_no_mutable_mapping_with_the_inputs():
    base = {"conf": {"x": 1}}
    out = deep_merge(base, {})
    out["conf"]["x"] = 2
    assert base["conf"]["x"] == 1


# ---- load_config ------------------------------------------------------------------------

def test_a_chain_of_bases_resolves_in_order(tmp_path):
    write(tmp_path / "root.yaml", "a: 1\nb: {x: 1, y: 2}\nlist: [1, 2]\n")
    write(tmp_path / "sub" / "mid.yaml", "base: ../root.yaml\nb: {y: 3}\nlist: [9]\n")
    top = write(tmp_path / "sub" / "top.yaml", "# a comment\nbase: mid.yaml\nb: {x: null}\nc: 4\n")
    assert load_config(top) == {"a": 1, "b": {"x": None, "y": 3}, "list": [9], "c": 4}
    assert config_chain(top) == [tmp_path / "sub" / "../root.yaml", tmp_path / "sub" / "mid.yaml", top]


def test_a_file_without_base_is_itself_and_an_empty_override_is_its_base(tmp_path):
    plain = write(tmp_path / "plain.yaml", "a: 1\n")
    assert load_config(plain) == {"a": 1} and config_chain(plain) == [plain]
    only_base = write(tmp_path / "only.yaml", "base: plain.yaml\n")
    assert load_config(only_base) == {"a": 1}


def test_base_through_a_symlink_is_relative_to_the_link_not_its_target(tmp_path):
    """A method file in TEMPLATE, linked into two recipes, builds on each recipe's own MTL base."""
    shared = tmp_path / "TEMPLATE" / "tuning"
    write(shared / "train_mtl.yaml", "max_epoch: 16\nmodel_conf: {tasks: [surface, meaning]}\n")
    write(shared / "train_partial.yaml", "base: train_mtl.yaml\nmodel_conf: {shared_layers: 2}\n")
    ko, en = tmp_path / "ko" / "tuning", tmp_path / "en" / "tuning"
    write(ko / "train_mtl.yaml", "base: ../../TEMPLATE/tuning/train_mtl.yaml\nmax_epoch: 10\n")
    en.mkdir(parents=True)
    os.symlink("../../TEMPLATE/tuning/train_mtl.yaml", en / "train_mtl.yaml")
    for d in (ko, en):
        os.symlink("../../TEMPLATE/tuning/train_partial.yaml", d / "train_partial.yaml")
    assert load_config(ko / "train_partial.yaml") == {
        "max_epoch": 10, "model_conf": {"tasks": ["surface", "meaning"], "shared_layers": 2}}
    assert load_config(en / "train_partial.yaml")["max_epoch"] == 16
    assert load_config(shared / "train_partial.yaml")["max_epoch"] == 16
    assert config_chain(ko / "train_partial.yaml")[-2:] == [ko / "train_mtl.yaml", ko / "train_partial.yaml"]


def test_a_cycle_is_one_error_naming_the_files(tmp_path):
    write(tmp_path / "a.yaml", "base: b.yaml\nx: 1\n")
    write(tmp_path / "b.yaml", "x: 2\nbase: a.yaml\n")
    with pytest.raises(DataError) as e:
        load_config(tmp_path / "a.yaml")
    msg = str(e.value)
    assert msg.startswith(f"{tmp_path / 'b.yaml'}:2: the bases form a cycle: ") and "\n" not in msg
    assert "a.yaml -> " in msg and "b.yaml -> " in msg
    write(tmp_path / "self.yaml", "base: ./self.yaml\n")
    with pytest.raises(DataError, match="self.yaml:1: the bases form a cycle"):
        load_config(tmp_path / "self.yaml")


def test_a_missing_base_names_the_file_the_line_and_where_it_looked(tmp_path):
    cfg = write(tmp_path / "c.yaml", "# override\nbase: none.yaml\nmax_epoch: 3\n")
    with pytest.raises(DataError) as e:
        load_config(cfg)
    assert str(e.value) == f"{cfg}:2: base 'none.yaml' does not exist (looked for {tmp_path / 'none.yaml'})"


@pytest.mark.parametrize("text, reason", [
    ("base: 3\n", "c.yaml:1: 'base' must be a path to a YAML file, got 3"),
    ("base: [a.yaml]\n", "'base' must be a path"),
    ("base:\n", "'base' must be a path"),
    ("- a list\n", "c.yaml: a training config is a mapping of keys, not list"),
    ("a: [1\nb: 2\n", "c.yaml:2: not valid YAML"),
])
def test_bad_files_are_one_line(tmp_path, text, reason):
    with pytest.raises(DataError) as e:
        load_config(write(tmp_path / "c.yaml", text))
    assert reason in str(e.value) and "\n" not in str(e.value)


def test_a_broken_base_is_named_not_the_override(tmp_path):
    write(tmp_path / "base.yaml", "a: 1\nb: {c: [2\n")
    with pytest.raises(DataError, match=r"base\.yaml:3: not valid YAML"):
        load_config(write(tmp_path / "c.yaml", "base: base.yaml\n"))
    with pytest.raises(DataError, match="cannot read the config"):
        load_config(tmp_path / "absent.yaml")


# ---- digests and the resolved file for ESPnet ------------------------------------------

def test_the_digest_follows_the_base_not_the_layout(tmp_path):
    base = write(tmp_path / "base.yaml", "a: 1\nb: 2\n")
    cfg = write(tmp_path / "c.yaml", "base: base.yaml\nb: 3\n")
    first = config_digest(cfg)
    write(tmp_path / "base.yaml", "# a comment\nb: 2\na: 1\n")
    assert config_digest(cfg) == first  # comments and key order are no new config
    write(base, "a: 5\nb: 2\n")
    assert config_digest(cfg) != first  # the base changed a value
    flat = write(tmp_path / "flat.yaml", "a: 5\nb: 3\n")
    assert config_digest(flat) == config_digest(cfg)  # same content, same config


def test_resolve_config_option_hands_espnet_a_plain_file(tmp_path):
    write(tmp_path / "base.yaml", "a: 1\n")
    cfg = write(tmp_path / "c.yaml", "base: base.yaml\nb: 2\n")
    out = tmp_path / "exp"
    argv = resolve_config_option(["--ngpu", "0", "--config", str(cfg), "--x", "1"], out)
    assert argv == ["--ngpu", "0", "--config", str(out / RESOLVED_NAME), "--x", "1"]
    assert yaml.safe_load((out / RESOLVED_NAME).read_text()) == {"a": 1, "b": 2}
    assert resolve_config_option([f"--config={cfg}"], out) == [f"--config={out / RESOLVED_NAME}"]
    assert resolve_config_option(["--ngpu", "0"], out) == ["--ngpu", "0"]
    assert not list(out.glob(".*.tmp"))


def test_stage_guard_config_counts_a_changed_base(tmp_path, capsys):
    base = write(tmp_path / "base.yaml", "a: 1\nfrontend_conf: {n_mels: 80}\n")
    cfg = write(tmp_path / "c.yaml", "base: base.yaml\nb: 2\n")
    out = tmp_path / "out"

    def check(*extra: str) -> int:
        return stage_guard.main(["check", "--stage", "7", "--out", str(out), "--config", str(cfg), *extra])

    assert check() == 10
    assert stage_guard.main(["commit", "--stage", "7", "--out", str(out)]) == 0
    assert check() == 0
    write(base, "a: 1\nfrontend_conf: {n_mels: 80}  # same values\n")
    assert check() == 0
    write(base, "a: 2\nfrontend_conf: {n_mels: 80}\n")
    capsys.readouterr()
    assert check() == 10
    assert f"{cfg} changed" in capsys.readouterr().err
    # --config_keys reads the resolved values too (stage 6: the front end lives in the base)
    keys = ["--config_keys", f"{cfg}:frontend_conf"]
    assert stage_guard.main(["check", "--stage", "6", "--out", str(out), *keys]) == 10
    assert stage_guard.main(["commit", "--stage", "6", "--out", str(out)]) == 0
    write(base, "a: 2\nfrontend_conf: {n_mels: 40}\n")
    assert stage_guard.main(["check", "--stage", "6", "--out", str(out), *keys]) == 10
    write(tmp_path / "c.yaml", "base: gone.yaml\n")
    assert check() == 2
    assert "base 'gone.yaml' does not exist" in capsys.readouterr().err


def test_provenance_records_the_resolved_config_and_its_files(tmp_path):
    from espnet_l2dual.utils.digest import file_sha1
    from espnet_l2dual.utils.provenance import training_provenance

    base = write(tmp_path / "base.yaml", "a: 1\n")
    cfg = write(tmp_path / "c.yaml", "base: base.yaml\nb: 2\n")
    prov = training_provenance(cfg, tmp_path / "no_record.json", None, "./run.sh")
    assert prov["config_sha1"] == config_digest(cfg)
    assert prov["config_files"] == {str(base): file_sha1(base), str(cfg): file_sha1(cfg)}


def test_resolve_config_cli(tmp_path, capsys):
    write(tmp_path / "base.yaml", "a: 1\n")
    cfg = write(tmp_path / "c.yaml", "base: base.yaml\nb: 2\n")
    assert resolve_config.main([str(cfg)]) == 0
    assert yaml.safe_load(capsys.readouterr().out) == {"a": 1, "b": 2}
    assert resolve_config.main(["--chain", str(cfg)]) == 0
    assert capsys.readouterr().out.split() == [str(tmp_path / "base.yaml"), str(cfg)]
    assert resolve_config.main(["--digest", str(cfg), str(tmp_path / "base.yaml")]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"{config_digest(cfg)}  {cfg}"
    assert resolve_config.main([str(write(tmp_path / "bad.yaml", "base: none.yaml\n"))]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("resolve_config: error: ") and "bad.yaml:1" in err and len(err.splitlines()) == 1


def test_trainer_and_preflight_read_the_resolved_config(tmp_path, capsys):
    from espnet_l2dual.bin import l2dual_train

    write(tmp_path / "base.yaml", "max_epoch: 7\nmodel_conf: {tasks: [surface, meaning], ctc_weight: 0.5}\n")
    cfg = write(tmp_path / "c.yaml", "base: base.yaml\nmodel_conf: {tasks: [meaning]}\n")
    # the real command line (ESPnet's --print_config parses sys.argv itself)
    proc = subprocess.run([sys.executable, "-m", "espnet_l2dual.bin.l2dual_train", "--config", str(cfg),
                           "--print_config"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    printed = yaml.safe_load(proc.stdout)
    assert printed["max_epoch"] == 7 and printed["model_conf"]["tasks"] == ["meaning"]
    assert printed["model_conf"]["ctc_weight"] == 0.5

    with pytest.raises(SystemExit) as e:
        l2dual_train.main(["--config", str(write(tmp_path / "bad.yaml", "base: none.yaml\n"))])
    assert e.value.code == 1
    assert capsys.readouterr().err.strip().startswith("l2dual_train: error: ")

    write(tmp_path / "base.yaml", "max_epoch: 7\nbogus_key: 1\n")
    (line,) = preflight.problems(["--config", str(cfg)])
    assert line.startswith(f"{cfg}: ") and "bogus_key" in line and RESOLVED_NAME not in line


# ---- the recipes: one shared base per size, small overrides ----------------------------

def _lang_tuning(lang: str) -> Path:
    return ROOT / "egs2" / f"l2{lang}" / "asr1" / "conf" / "tuning"


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_recipe_configs_link_to_template_except_the_language_overrides(lang):
    tuning = _lang_tuning(lang)
    names = sorted(p.name for p in tuning.iterdir())
    small = {f"train_{c}_small.yaml" for c in ("mtl", "stl_surface", "stl_meaning")}  # English real speech
    wavlm = [f"train_{c}_wavlm.yaml" for c in ("mtl", "stl_surface", "stl_meaning")]  # SSL front end, GPU
    twins = [f"train_twin_subspace{s}.yaml" for s in ("", "_tiny")]  # post-training of an MTL model
    assert names == sorted([f"train_{c}{s}.yaml" for c in CONFIGS for s in ("", "_tiny")] + wavlm + twins
                           + (sorted(small) if lang == "en" else []))
    own = {"ko": {"train_mtl_tiny.yaml"}, "en": small}[lang]
    for name in names:
        path = tuning / name
        if name in small:
            assert not path.is_symlink()
        elif name in own:
            assert not path.is_symlink()
            assert config_chain(path)[0].resolve() == (TEMPLATE_TUNING / name).resolve()
        else:
            assert path.is_symlink() and not os.path.isabs(os.readlink(path)), name
            assert path.resolve() == (TEMPLATE_TUNING / name).resolve(), name


@pytest.mark.parametrize("suffix", ["", "_tiny"])
@pytest.mark.parametrize("config", CONFIGS)
def test_languages_share_every_config_except_the_tiny_epochs(config, suffix):
    ko = load_config(_lang_tuning("ko") / f"train_{config}{suffix}.yaml")
    en = load_config(_lang_tuning("en") / f"train_{config}{suffix}.yaml")
    if suffix:
        assert (ko.pop("max_epoch"), en.pop("max_epoch")) == (10, 16)
    assert ko == en


@pytest.mark.parametrize("config", [c for c in CONFIGS if c != "mtl"])
def test_template_overrides_build_on_the_recipes_own_mtl(config, tmp_path):
    for suffix in ("", "_tiny"):
        raw = yaml.safe_load((TEMPLATE_TUNING / f"train_{config}{suffix}.yaml").read_text())
        assert raw["base"] == f"train_mtl{suffix}.yaml"
        assert "encoder_conf" not in raw and "optim_conf" not in raw  # overrides only
    write_resolved(TEMPLATE_TUNING / f"train_{config}_tiny.yaml", tmp_path / "r.yaml")
    assert "base" not in yaml.safe_load((tmp_path / "r.yaml").read_text())


def test_small_configs_differ_only_in_tasks():
    """speechocean762's STL and MTL configs: the tiny model with its own epochs, and nothing else apart."""
    tuning = _lang_tuning("en")
    mtl = load_config(tuning / "train_mtl_small.yaml")
    tiny = load_config(tuning / "train_mtl_tiny.yaml")
    assert {k: v for k, v in mtl.items() if k not in ("max_epoch", "keep_nbest_models")} == \
        {k: v for k, v in tiny.items() if k not in ("max_epoch", "keep_nbest_models")}
    # no SpecAugment: chosen on dev (README); 10 epochs: the three models side by side fit ~2 h of 2 cores
    assert mtl["specaug"] is None and mtl["max_epoch"] == 10
    for c, tasks in (("stl_surface", ["surface"]), ("stl_meaning", ["meaning"])):
        stl = load_config(tuning / f"train_{c}_small.yaml")
        assert stl.pop("model_conf")["tasks"] == tasks
        assert stl == {k: v for k, v in mtl.items() if k != "model_conf"}


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_ssl_configs_differ_from_the_conformer_ones_only_in_front_end_and_encoder(lang):
    """train_<c>_wavlm.yaml = train_<c>.yaml with the front end / encoder block changed, nothing else."""
    from espnet_l2dual.utils.config_file import frontend_tag

    tuning = _lang_tuning(lang)
    block = {"frontend", "frontend_conf", "encoder_conf", "unused_parameters"}
    for c in ("mtl", "stl_surface", "stl_meaning"):
        ssl, conformer = load_config(tuning / f"train_{c}_wavlm.yaml"), load_config(tuning / f"train_{c}.yaml")
        assert {k: v for k, v in ssl.items() if k not in block} == {k: v for k, v in conformer.items() if k not in block}
        assert ssl["frontend"] == "ssl" and "n_fft" not in ssl["frontend_conf"] and ssl["unused_parameters"] is True
        assert frontend_tag(ssl).startswith("_ssl") and frontend_tag(conformer) == ""  # their own stats dir
