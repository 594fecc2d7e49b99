"""The study store's command line (help: :mod:`espnet_l2dual.study.commands`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

from espnet_l2dual.errors import DataError
from espnet_l2dual.study import commands, models, post_training
from espnet_l2dual.study.groups import config_keys, save_groups, stored_group
from espnet_l2dual.study.store import Store


def _seed(v: str) -> Optional[int]:
    return None if v in ("", "none") else int(v)


def _model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--study", type=Path, required=True, help="the store, e.g. studies/main")
    p.add_argument("--recipe", type=Path, required=True, help="egs2/l2<lang>/asr1 (or a grid level dir)")
    p.add_argument("--lang", required=True)
    p.add_argument("--config", required=True, help="config name, e.g. mtl")
    p.add_argument("--config_file", type=Path, required=True, help="conf/tuning/train_<config><suffix>.yaml")
    p.add_argument("--suffix", default="_tiny")
    p.add_argument("--seed", type=_seed, default=None, help="--seed given to ./run.sh; none: the config's own")
    p.add_argument("--error_scale", default="", help="grid level (empty outside the grid)")
    p.add_argument("--epochs", default="", help="grid level budget (empty outside the grid)")
    p.add_argument("--eval_set", default="test")
    p.add_argument("--train_sets", nargs="+", default=["train", "dev"], help="data dirs (data/<set>) of training")
    p.add_argument("--train_args", default="")
    p.add_argument("--run_args", default="")
    p.add_argument("--corpus", default="")
    p.add_argument("--command", default="", help="the run_all.sh command (recorded in the metadata)")


def _spec(a: argparse.Namespace) -> models.Spec:
    return models.Spec(a.lang, a.config, a.suffix, a.seed, models.make_level(a.error_scale, a.epochs), a.eval_set)


def _key(a: argparse.Namespace) -> tuple:
    return models.model_key(_spec(a), a.recipe, a.config_file, a.train_args, a.run_args, a.corpus, a.train_sets)


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="study", description=commands.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("key", "has", "save"):
        _model_options(sub.add_parser(name))
    g = sub.add_parser("save_groups")
    _model_options(g)  # --config/--config_file: of every config (repeat with --configs)
    g.add_argument("--configs", nargs="+", required=True)
    g.add_argument("--seeds", nargs="*", type=int, default=[])
    g.add_argument("--analysis_json", type=Path, default=None, help="default: <recipe>/exp/analysis/analysis.json")
    h = sub.add_parser("has_group")
    _model_options(h)  # --config/--config_file: ignored (every config of --configs)
    h.add_argument("--configs", nargs="+", required=True)
    s = sub.add_parser("status")
    s.add_argument("--study", type=Path, required=True)
    s.add_argument("--langs", nargs="+", required=True)
    s.add_argument("--configs", nargs="+", required=True)
    s.add_argument("--suffix", default="_tiny")
    s.add_argument("--seeds", nargs="*", type=int, default=[])
    s.add_argument("--error_scales", nargs="*", default=[], help="grid levels (run_all.sh --grid_error_scales)")
    s.add_argument("--epochs", nargs="*", default=[], help="grid budgets (run_all.sh --grid_epochs)")
    s.add_argument("--eval_set", default="test")
    r = sub.add_parser("results_md")
    r.add_argument("--study", type=Path, required=True)
    r.add_argument("--lang", required=True)
    r.add_argument("--out", type=Path, required=True, help="egs2/l2<lang>/asr1/RESULTS.md")
    o = sub.add_parser("run_opts", help="./run.sh options of a post-training config (empty for any other)")
    o.add_argument("--config", required=True)
    o.add_argument("--suffix", default="_tiny")
    o.add_argument("--seed", type=_seed, default=None)
    o.add_argument("--local_data", action="store_true", help="instead: the stage-1 options the config needs")
    z = sub.add_parser("size")
    z.add_argument("--study", type=Path, required=True)
    return p


def _config_keys(a: argparse.Namespace, seeds: Sequence[Optional[int]]) -> dict:
    return config_keys(a.recipe, a.lang, a.configs, a.suffix, seeds, models.make_level(a.error_scale, a.epochs),
                       a.eval_set, a.train_args, a.run_args, a.corpus, a.train_sets)


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    a = get_parser().parse_args(argv)
    try:
        if a.cmd == "key":
            print(_key(a)[0])
        elif a.cmd == "has":
            rec = Store(a.study).by_key(_key(a)[0])
            if rec is None:
                return 1
            print(rec.dir)
        elif a.cmd == "save":
            print(commands.save_model(a.study, _spec(a), *_key(a), a.recipe, a.command), file=sys.stderr)
        elif a.cmd == "save_groups":
            save_groups(a.study, a.analysis_json or a.recipe / "exp" / "analysis" / "analysis.json", a.lang,
                        models.make_level(a.error_scale, a.epochs), a.eval_set, _config_keys(a, a.seeds or [None]))
        elif a.cmd == "has_group":
            found = stored_group(a.study, _config_keys(a, [a.seed]))
            if found is None:
                return 1
            print(found)
        elif a.cmd == "status":
            specs = models.expected(a.langs, a.configs, a.suffix, a.seeds or [None],
                                    commands.grid_levels(a.error_scales, a.epochs), a.eval_set)
            for line in models.status_lines(Store(a.study), specs):
                print(line)
        elif a.cmd == "results_md":
            commands.write_results_md(a.study, a.lang, a.out)
            print(f"study: wrote {a.out}", file=sys.stderr)
        elif a.cmd == "run_opts":
            if a.config in post_training.POST_TRAINING:
                print(post_training.LOCAL_DATA_OPTS if a.local_data else
                      post_training.run_options(a.config, a.suffix, a.seed))
        elif a.cmd == "size":
            print("\n".join(commands.size_lines(a.study)))
    except (DataError, ValueError) as e:
        print(f"study: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
