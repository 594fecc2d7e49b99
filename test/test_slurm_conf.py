"""espnet_l2dual.cluster.slurm_conf: launcher options -> sbatch arguments."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from espnet_l2dual.cluster.slurm_conf import (
    UnknownOption,
    load_slurm_conf,
    main,
    parse_slurm_conf,
    sbatch_args,
)
from espnet_l2dual.errors import DataError

ROOT = Path(__file__).resolve().parents[1]

CONF = """\
# a comment
command sbatch --export=PATH
option name=* --job-name $0
default time=4:00:00
option time=* --time $0
option mem=* --mem $0   # inline comment
option mem=0
default gpu=0
option gpu=0 -p cpu
option gpu=* -p gpu --gres=gpu:$0 -c $0
"""


def test_defaults_fill_in_missing_options():
    assert sbatch_args(parse_slurm_conf(CONF), {}) == ["sbatch", "--export=PATH", "--time", "4:00:00", "-p", "cpu"]


def test_star_rule_substitutes_value():
    args = sbatch_args(parse_slurm_conf(CONF), {"gpu": "2", "mem": "8G", "time": "1:00:00"})
    assert args == ["sbatch", "--export=PATH", "--time", "1:00:00", "--mem", "8G",
                    "-p", "gpu", "--gres=gpu:2", "-c", "2"]


def test_exact_value_rule_wins_over_star():
    conf = parse_slurm_conf(CONF)
    assert "-p" in sbatch_args(conf, {"gpu": "0"}) and "--gres=gpu:0" not in sbatch_args(conf, {"gpu": "0"})
    assert "--mem" not in sbatch_args(conf, {"mem": "0"})  # mem=0 maps to nothing


def test_exact_rule_wins_even_when_listed_after_star():
    conf = parse_slurm_conf("option gpu=* --gres=gpu:$0\noption gpu=0 -p cpu\n")
    assert sbatch_args(conf, {"gpu": "0"}) == ["sbatch", "-p", "cpu"]
    assert sbatch_args(conf, {"gpu": "1"}) == ["sbatch", "--gres=gpu:1"]


def test_arguments_follow_rule_order_in_file():
    conf = parse_slurm_conf("option b=* --b $0\noption a=* --a $0\n")
    assert sbatch_args(conf, {"a": "1", "b": "2"}) == ["sbatch", "--b", "2", "--a", "1"]


def test_given_option_overrides_default():
    args = sbatch_args(parse_slurm_conf(CONF), {"time": "0:10:00"})
    assert args.count("--time") == 1 and "0:10:00" in args


def test_unknown_option_is_an_error():
    with pytest.raises(UnknownOption, match="no rule for --gpus 1"):
        sbatch_args(parse_slurm_conf(CONF), {"gpus": "1"})


def test_value_without_matching_rule_is_an_error():
    conf = parse_slurm_conf("option gpu=0\n")
    with pytest.raises(UnknownOption, match="--gpu 2"):
        sbatch_args(conf, {"gpu": "2"})


def test_missing_command_defaults_to_sbatch():
    assert sbatch_args(parse_slurm_conf("option x=* --x=$0\n"), {"x": "y"}) == ["sbatch", "--x=y"]


def test_quoted_arguments_stay_one_word():
    conf = parse_slurm_conf("option c=* --comment \"run $0 now\"\n")
    assert sbatch_args(conf, {"c": "7"}) == ["sbatch", "--comment", "run 7 now"]


@pytest.mark.parametrize("text, line, reason", [
    ("command sbatch\nbogus x=1\n", 2, "unknown keyword"),
    ("default time\n", 1, "NAME=VALUE"),
    ("default time=*\n", 1, "needs a value"),
    ("option gpu\n", 1, "NAME=VALUE"),
    ("option gpu=* a\noption gpu=* b\n", 2, "already defined on line 1"),
    ("option gpu=1 --gres=gpu:$0\n", 1, "$0 only"),
    ("command\n", 1, "needs the submit program"),
])
def test_bad_lines_name_file_and_line(text, line, reason):
    with pytest.raises(DataError) as err:
        parse_slurm_conf(text, "conf/slurm.conf")
    assert str(err.value).startswith(f"conf/slurm.conf:{line}: ")
    assert reason in str(err.value)


def test_builtin_default_and_missing_file(tmp_path):
    args = sbatch_args(load_slurm_conf(None), {"gpu": "1"})
    assert args[0] == "sbatch" and "--gres=gpu:1" in args
    with pytest.raises(DataError, match="not found"):
        load_slurm_conf(str(tmp_path / "nope.conf"))


@pytest.mark.parametrize("lang", ["l2ko", "l2en"])
def test_recipe_confs(lang):
    path = ROOT / "egs2" / lang / "asr1" / "conf" / "slurm.conf"
    conf = load_slurm_conf(str(path))
    cpu = sbatch_args(conf, {})
    assert cpu[0] == "sbatch" and "--time" in cpu and "--mem" in cpu and "--gres" not in " ".join(cpu)
    gpu = sbatch_args(conf, {"gpu": "4", "num_nodes": "2", "num_threads": "4", "name": "train"})
    joined = " ".join(gpu)
    assert "--gres=gpu:4" in joined and "--nodes 2" in joined and "--job-name train" in joined
    assert path.read_text() == (ROOT / "egs2/l2ko/asr1/conf/slurm.conf").read_text()  # identical


def test_cli_prints_one_word_per_line(tmp_path, capsys):
    conf = tmp_path / "s.conf"
    conf.write_text(CONF)
    assert main(["--config", str(conf), "--opt", "gpu=1", "--opt", "mem=2G"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "sbatch", "--export=PATH", "--time", "4:00:00", "--mem", "2G", "-p", "gpu", "--gres=gpu:1", "-c", "1"]
    assert main(["--config", str(conf), "--opt", "gpux=1"]) == 1
    assert "no rule for --gpux" in capsys.readouterr().err


def test_cli_runs_as_module():
    r = subprocess.run([sys.executable, "-m", "espnet_l2dual.cluster.slurm_conf", "--help"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and "--opt" in r.stdout
