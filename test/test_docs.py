"""README.md, docs/ and the recipes' READMEs: every command names a script and options that exist, every
relative link resolves.

Shell code blocks (``bash``, ``sh``, ``shell`` or no language) are read as a user pastes them: each
block starts in the page's home (the repository root; a recipe's README: the recipe dir), ``cd``
moves, ``VAR=value`` prefixes are dropped. A command of this repository (``./run.sh``,
``./run_all.sh``, ``tools/install.sh``, a recipe script, ``python -m espnet_l2dual.bin.<x>``, a
console script of setup.py) must exist where it is run, and each ``--option`` it is given must be
one its ``--help`` (or argparse parser) names. Other programs (chromium, ln, ...) are not checked.
Blocks that hold placeholders are marked ``text`` in the pages.
"""

from __future__ import annotations

import functools
import importlib
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "egs2").glob("*/asr1/README.md")])
SHELL_LANGUAGES = ("bash", "sh", "shell", "")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
OPTION = re.compile(r"--[A-Za-z0-9][A-Za-z0-9_-]*")
SEPARATORS = {"&&", "||", ";", "|", "&", ";;", "(", ")"}
PY_MODULE = "espnet_l2dual.bin."


def _rel(p: Path) -> str:
    return str(p.relative_to(ROOT))


def home(page: Path) -> Path:
    return page.parent if page.parent.parent.parent.name == "egs2" else ROOT


def blocks(text: str) -> Iterator[Tuple[str, str]]:
    """(language, body) of every fenced code block."""
    lang: Optional[str] = None
    body: List[str] = []
    for line in text.splitlines():
        if lang is None and line.startswith("```"):
            lang, body = line[3:].strip(), []
        elif lang is not None and line.strip() == "```":
            yield lang, "\n".join(body) + "\n"
            lang = None
        elif lang is not None:
            body.append(line)


def prose(text: str) -> str:
    """The page without its code blocks."""
    out, inside = [], False
    for line in text.splitlines():
        if line.startswith("```") and (not inside or line.strip() == "```"):
            inside = not inside
        elif not inside:
            out.append(line)
    return "\n".join(out)


# ------------------------------------------------------------------ links


def slug(heading: str) -> str:
    """GitHub's anchor of a heading."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", text))


def anchors(page: Path) -> Set[str]:
    text = prose(page.read_text(encoding="utf-8"))
    return {slug(m.group(1)) for m in re.finditer(r"^#+\s+(.*)$", text, re.M)}


def links(page: Path) -> Iterator[str]:
    text = prose(page.read_text(encoding="utf-8"))
    for m in LINK.finditer(text):
        target = m.group(1)
        if not re.match(r"^[a-z]+:", target):
            yield target


@pytest.mark.parametrize("page", PAGES, ids=_rel)
def test_every_relative_link_resolves(page: Path) -> None:
    bad = []
    for target in links(page):
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            bad.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            bad.append(f"{target}: no heading with anchor #{anchor} in {dest.name}")
    assert not bad, f"{_rel(page)}: " + "; ".join(bad)


# ------------------------------------------------------------------ commands


def commands(block: str) -> Iterator[Tuple[str, List[str]]]:
    """(line as written, tokens) of every simple command in a shell block."""
    for line in re.sub(r"\\\n", " ", block).splitlines():
        lex = shlex.shlex(line, posix=True, punctuation_chars=True)
        lex.whitespace_split = True
        lex.commenters = "#"
        words: List[str] = []
        for tok in list(lex) + [";"]:
            if tok in SEPARATORS:
                while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
                    words.pop(0)
                if words:
                    yield line, words
                words = []
            else:
                words.append(tok)


@functools.lru_cache(maxsize=None)
def help_options(script: str, cwd: Path) -> Set[str]:
    """The options a shell script's --help names, run where the page runs it."""
    out = subprocess.run(["bash", script, "--help"], cwd=cwd, capture_output=True, text=True, timeout=120)
    text = out.stdout + out.stderr
    assert "--" in text, f"{script} --help (in {cwd}) printed no options: {text[-500:]}"
    return set(OPTION.findall(text)) | {"--help", "-h"}


@functools.lru_cache(maxsize=None)
def declared_options(module: str) -> Set[str]:
    """Options written literally in the module's ``add_argument`` calls (no import: torch is slow)."""
    path = ROOT / (module.replace(".", "/") + ".py")
    if not path.is_file():
        raise ModuleNotFoundError(module)
    return set(re.findall(r'add_argument\(\s*"(--[A-Za-z0-9][A-Za-z0-9_-]*)"', path.read_text(encoding="utf-8")))


@functools.lru_cache(maxsize=None)
def module_options(module: str) -> Set[str]:
    """The options of ``python -m <module>``: its get_parser(), else its --help."""
    mod = importlib.import_module(module)
    if hasattr(mod, "get_parser"):
        return {s for a in mod.get_parser()._actions for s in a.option_strings} | {"--help", "-h"}
    out = subprocess.run([sys.executable, "-m", module, "--help"], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, f"python -m {module} --help failed: {out.stderr[-500:]}"
    return set(OPTION.findall(out.stdout)) | {"--help", "-h"}


@functools.lru_cache(maxsize=None)
def console_scripts() -> Dict[str, str]:
    """setup.py's console scripts: name -> module."""
    text = (ROOT / "setup.py").read_text(encoding="utf-8")
    return {m.group(1): m.group(2) for m in re.finditer(r'"([\w-]+)\s*=\s*([\w.]+):main"', text)}


def given_options(words: List[str]) -> List[str]:
    return [w.split("=")[0] for w in words if re.fullmatch(r"--[A-Za-z0-9][A-Za-z0-9_-]*(=\S*)?", w)]


def check_options(words: List[str], known: Set[str], what: str) -> List[str]:
    return [f"{what}: unknown option {o}" for o in given_options(words) if o not in known]


def check_module(module: str, words: List[str]) -> List[str]:
    """Options of ``python -m module``: those written literally in it, else its parser's."""
    if set(given_options(words)) <= declared_options(module) | {"--help", "-h"}:
        return []
    return check_options(words, module_options(module), module)


def check(words: List[str], cwd: Path) -> Tuple[List[str], Path]:
    """Problems of one command run in ``cwd``, and the cwd after it."""
    cmd, args = words[0], words[1:]
    if cmd == "cd":
        target = (cwd / (args[0] if args else str(Path.home()))).resolve()
        return ([] if target.is_dir() else [f"cd {args[0]}: no such directory"]), target
    if cmd == "bash" and args and not args[0].startswith("-"):
        cmd, args = args[0], args[1:]
    name = Path(cmd).name
    if name in console_scripts():
        module = console_scripts()[name]
        return check_module(module, args), cwd
    if name.startswith("python") or cmd.endswith("/python") or cmd == "${python}":
        if len(args) >= 2 and args[0] == "-m" and args[1].startswith(PY_MODULE):
            if "/" in cmd and not (cwd / cmd).exists():
                return [f"{cmd}: no such interpreter here ({_rel(cwd) if cwd != ROOT else 'repository root'})"], cwd
            try:
                return check_module(args[1], args[2:]), cwd
            except ModuleNotFoundError:
                return [f"python -m {args[1]}: no such module"], cwd
        return [], cwd
    if cmd.startswith("exp/") or "/exp/" in cmd or cmd.startswith("$"):
        return [], cwd  # generated by a run (exp/<tag>/run.sh)
    if cmd.startswith(("./", "tools/", "test/", "scripts/", "utils/", "local/", "bench/", "egs2/")):
        script = (cwd / cmd)
        if not script.is_file():
            return [f"{cmd}: no such script here ({_rel(cwd) if cwd != ROOT else 'repository root'})"], cwd
        if script.name == "run.sh" and script.parent == ROOT / "test":
            return [], cwd  # pytest's own arguments
        return check_options(args, help_options(cmd, cwd), cmd), cwd
    return [], cwd  # another program (chromium, ln, git ...)


@pytest.mark.parametrize("page", PAGES, ids=_rel)
def test_every_command_names_a_script_and_options_that_exist(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    bad = []
    for lang, body in blocks(text):
        if lang not in SHELL_LANGUAGES:
            continue
        cwd = home(page)
        for line, words in commands(body):
            problems, cwd = check(words, cwd)
            bad += [f"{p}    (in: {line.strip()[:100]})" for p in problems]
    assert not bad, f"{_rel(page)}:\n  " + "\n  ".join(bad)


def test_the_checker_catches_what_it_guards(tmp_path: Path) -> None:
    """A wrong place, a wrong option and a missing module are each caught."""
    assert check(["./run_all.sh", "--size", "wavlm"], ROOT)[0] == []
    assert check(["./run_all.sh"], ROOT / "egs2/l2en/asr1")[0]  # not in a recipe
    assert check(["./run.sh", "--no_such_option", "1"], ROOT / "egs2/l2en/asr1")[0]
    assert check(["tools/venv/bin/python", "-m", "espnet_l2dual.bin.nosuch"], ROOT)[0]
    assert check(["tools/venv/bin/python", "-m", "espnet_l2dual.bin.make_report", "--bogus"], ROOT)[0]
    page = tmp_path / "x.md"
    page.write_text("# A b: c\n\n[ok](x.md#a-b-c) [bad](nosuch.md) [bad anchor](x.md#nope)\n")
    assert list(links(page)) == ["x.md#a-b-c", "nosuch.md", "x.md#nope"] and "a-b-c" in anchors(page)
