"""Turn launcher options (``--gpu 2 --mem 8G``) into ``sbatch`` arguments via a conf file.

The conf file (``conf/slurm.conf`` of a recipe) uses the format ESPnet/Kaldi users
know from ``slurm.pl``, so a site's existing file works here::

    command sbatch --export=PATH          # the submit command and its fixed arguments
    default time=4:00:00                  # value used when the option is not given
    option time=* --time $0               # any value: $0 is replaced by it
    option gpu=0                          # exactly this value: these (here: no) arguments
    option gpu=* -p gpu --gres=gpu:$0     # an exact-value rule wins over the * rule

Why a separate parser: the cluster-specific part (partitions, gres, memory policy)
stays in one editable file, and the mapping is plain Python that tests can check
without a cluster.  Arguments come out in the order of their rules in the file, so
when two rules set the same sbatch flag the later line wins (sbatch keeps the last).
Text after `` #`` on a line is a comment.  An option with no matching rule is an
error, so a typo (``--gpus``) never silently runs on the wrong resources.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from espnet_l2dual.errors import DataError

# Used when the launcher is called without --config.
DEFAULT_CONF = """\
command sbatch --export=PATH
option name=* --job-name $0
default time=24:00:00
option time=* --time $0
option mem=* --mem $0
option mem=0
option num_threads=* --cpus-per-task $0
option num_nodes=* --nodes $0 --ntasks-per-node 1
default gpu=0
option gpu=0
option gpu=* -p gpu --gres=gpu:$0
"""


@dataclass(frozen=True)
class Rule:
    """``option name=value args``; ``value`` None stands for ``*``."""

    name: str
    value: Optional[str]
    args: Tuple[str, ...]
    line: int


@dataclass
class SlurmConf:
    command: List[str] = field(default_factory=lambda: ["sbatch"])
    defaults: Dict[str, str] = field(default_factory=dict)
    rules: List[Rule] = field(default_factory=list)
    path: str = "<default slurm conf>"

    def option_names(self) -> List[str]:
        return sorted({r.name for r in self.rules})


class UnknownOption(ValueError):
    """The launcher got an option the conf file has no rule for."""


def _strip_comment(line: str) -> str:
    if line.lstrip().startswith("#"):
        return ""
    for i, ch in enumerate(line):
        if ch == "#" and i > 0 and line[i - 1] in " \t":
            return line[:i]
    return line


def _name_value(token: str, path: str, lineno: int) -> Tuple[str, str]:
    name, sep, value = token.partition("=")
    if not sep or not name or not value or not name.replace("_", "").isalnum():
        raise DataError(path, lineno, f"expected NAME=VALUE, got '{token}'")
    return name, value


def parse_slurm_conf(text: str, path: str = "<slurm conf>") -> SlurmConf:
    """Parse the conf text; bad lines raise ``DataError(path, line, reason)``."""
    conf = SlurmConf(command=[], path=path)
    seen: Dict[Tuple[str, Optional[str]], int] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = _strip_comment(raw).strip()
        if not line:
            continue
        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise DataError(path, lineno, f"cannot split the line: {exc}") from None
        keyword, rest = words[0], words[1:]
        if keyword == "command":
            if not rest:
                raise DataError(path, lineno, "'command' needs the submit program, e.g. 'command sbatch'")
            conf.command = rest
        elif keyword == "default":
            if len(rest) != 1:
                raise DataError(path, lineno, "expected 'default NAME=VALUE'")
            name, value = _name_value(rest[0], path, lineno)
            if value == "*":
                raise DataError(path, lineno, "a default needs a value, not '*'")
            conf.defaults[name] = value
        elif keyword == "option":
            if not rest:
                raise DataError(path, lineno, "expected 'option NAME=VALUE|* [sbatch args]'")
            name, value = _name_value(rest[0], path, lineno)
            key = (name, None if value == "*" else value)
            if key in seen:
                raise DataError(path, lineno, f"option {rest[0]} already defined on line {seen[key]}")
            seen[key] = lineno
            if key[1] is not None and any("$0" in a for a in rest[1:]):
                raise DataError(path, lineno, f"$0 only makes sense in a '{name}=*' rule")
            conf.rules.append(Rule(name, key[1], tuple(rest[1:]), lineno))
        else:
            raise DataError(path, lineno, f"unknown keyword '{keyword}' (command|option|default)")
    if not conf.command:
        conf.command = ["sbatch"]
    return conf


def load_slurm_conf(path: Optional[str]) -> SlurmConf:
    """The conf at ``path``, or the built-in default when ``path`` is None."""
    if path is None:
        return parse_slurm_conf(DEFAULT_CONF, "<built-in default slurm conf>")
    p = Path(path)
    if not p.is_file():
        raise DataError(path, None, "slurm config file not found")
    return parse_slurm_conf(p.read_text(encoding="utf-8"), str(path))


def _rule_for(conf: SlurmConf, name: str, value: str) -> Rule:
    exact = [r for r in conf.rules if r.name == name and r.value == value]
    if exact:
        return exact[0]
    star = [r for r in conf.rules if r.name == name and r.value is None]
    if star:
        return star[0]
    known = ", ".join(f"--{n}" for n in conf.option_names()) or "none"
    raise UnknownOption(f"{conf.path}: no rule for --{name} {value} (options it knows: {known})")


def sbatch_args(conf: SlurmConf, options: Mapping[str, str]) -> List[str]:
    """The submit command plus the arguments for ``options`` (defaults filled in)."""
    values = dict(conf.defaults)
    values.update(options)
    chosen = [(_rule_for(conf, n, v), v) for n, v in values.items()]
    args = list(conf.command)
    for rule, value in sorted(chosen, key=lambda rv: rv[0].line):
        args.extend(a.replace("$0", value) for a in rule.args)
    return args


def _parse_opt(text: str) -> Tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got '{text}'")
    return name.lstrip("-").replace("-", "_"), value


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description="Print the sbatch command (one word per line) for launcher options, "
        "mapped through a slurm.pl-style conf file.",
    )
    parser.add_argument("--config", help="conf file (default: a built-in one)")
    parser.add_argument("--opt", action="append", default=[], type=_parse_opt, metavar="NAME=VALUE",
                        help="a launcher option, e.g. --opt gpu=1 (repeatable)")
    args = parser.parse_args(argv)
    try:
        words = sbatch_args(load_slurm_conf(args.config), dict(args.opt))
    except (DataError, UnknownOption) as exc:
        print(f"slurm_conf: {exc}", file=sys.stderr)
        return 1
    for w in words:
        if "\n" in w:
            print(f"slurm_conf: newline in argument {w!r}", file=sys.stderr)
            return 1
        print(w)
    return 0


if __name__ == "__main__":
    sys.exit(main())
