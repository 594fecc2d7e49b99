"""Load a page in headless Chromium and hand back the DOM after its scripts ran (test helper).

Uses Debian's ``chromium`` (tools/install.sh installs it as root); tests skip with the
reason when it is missing. ``--dump-dom`` prints the live DOM, so what the filters' script
wrote is in it; the DOM is parsed with the standard library's HTMLParser.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
                  "--virtual-time-budget=3000"]


def chromium() -> str:
    """The browser binary, or skip the test saying why."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no chromium on PATH (tools/install.sh installs Debian's chromium when run as root)")


def _run(args: List[str], timeout: int = 120) -> subprocess.CompletedProcess:
    proc = subprocess.run([chromium(), *CHROMIUM_FLAGS, *args], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def dump_dom(page: Path) -> str:
    """The DOM of ``page`` (a file) after load."""
    return _run(["--dump-dom", page.resolve().as_uri()]).stdout


def screenshot(page: Path, out: Path, size: Tuple[int, int] = (1400, 900)) -> Path:
    _run([f"--window-size={size[0]},{size[1]}", f"--screenshot={out}", page.resolve().as_uri()])
    assert out.is_file() and out.stat().st_size > 0
    return out


@dataclass
class Element:
    tag: str
    attrs: Dict[str, Optional[str]]
    text: List[str] = field(default_factory=list)
    children: List["Element"] = field(default_factory=list)

    def all_text(self) -> str:
        return "".join(self.text) + "".join(c.all_text() for c in self.children)

    def find_all(self, tag: str, cls: Optional[str] = None) -> List["Element"]:
        out = []
        for c in self.children:
            if c.tag == tag and (cls is None or cls in (c.attrs.get("class") or "").split()):
                out.append(c)
            out += c.find_all(tag, cls)
        return out


class _Tree(HTMLParser):
    VOID = {"br", "img", "input", "meta", "link", "hr", "source"}

    def __init__(self) -> None:
        super().__init__()
        self.root = Element("#root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        el = Element(tag, dict(attrs))
        self.stack[-1].children.append(el)
        if tag not in self.VOID:
            self.stack.append(el)

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        self.stack[-1].text.append(data)


def parse(html: str) -> Element:
    tree = _Tree()
    tree.feed(html)
    return tree.root
