"""Render the static HTML report (Jinja2, autoescaped) from Markdown summaries and utterance rows.

The page is one file plus relative assets (figures, audio), so it opens from ``file://``
with no server and no network. Transcripts are user data: Jinja2's autoescape renders a
``<script>`` in a transcript as text, and raw HTML inside the Markdown summaries is
escaped too (Python-Markdown's raw-HTML handlers are removed).
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence

import jinja2
import markdown
from markupsafe import Markup

from espnet_l2dual.outputs import STL_CONFIG
from espnet_l2dual.utils.fileio import atomic_write


@dataclass
class Section:
    """One table of utterances (a language's test set, or a learner's recordings)."""

    title: str
    rows: List[dict]
    header: List[dict]
    note: str = ""
    bins: List[str] = field(default_factory=list)

    def context(self) -> dict:
        """What the template reads; filters offered only where they can select something."""
        return {
            "title": self.title, "rows": self.rows, "header": self.header, "note": self.note,
            "bins": [b for b in self.bins if any(r.get("bin") == b for r in self.rows)],
            "speakers": sorted({r["spk"] for r in self.rows if r.get("spk")}),
            "compared": [c["output"] for c in self.header
                         if "mtl" in c["models"] and STL_CONFIG[c["output"]] in c["models"]],
            "has_audio": any(r.get("audio") for r in self.rows),
            "has_reference": any(c.get("reference") is not None for r in self.rows for c in r["outputs"]),
            "has_mdd": any(r.get("mdd") for r in self.rows),
        }


def markdown_html(text: str) -> Markup:
    """Markdown (tables) to HTML with any raw HTML in the source shown as text."""
    md = markdown.Markdown(extensions=["tables"])
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    return Markup(md.convert(text))


_LINK = re.compile(r'(href|src)="([^"#:]+)(#[^"]*)?"')


def rebase_links(html: str, from_dir: Path, to_dir: Path) -> str:
    """Relative links written for ``from_dir`` (the Markdown's folder), rewritten to resolve from ``to_dir``.

    Absolute paths, anchors and links with a scheme (``http:``, ``file:``) are left alone."""
    def fix(m: "re.Match[str]") -> str:
        target = m.group(2)
        if target.startswith("/"):
            return m.group(0)
        moved = Path(os.path.relpath(from_dir.resolve() / target, to_dir.resolve())).as_posix()
        return f'{m.group(1)}="{moved}{m.group(3) or ""}"'
    return _LINK.sub(fix, html)


def copy_figures(paths: Sequence[Path], out_dir: Path, sub: str) -> List[dict]:
    """Copy PNGs next to the page (``figures/<sub>/``) and return their relative links."""
    out: List[dict] = []
    for p in paths:
        target = out_dir / "figures" / sub / p.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, target)
        out.append({"src": f"figures/{sub}/{p.name}", "caption": f"{sub}: {p.stem}"})
    return out


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("espnet_l2dual.report", "templates"),
                              autoescape=True, undefined=jinja2.StrictUndefined)


def render(out_path: Path, title: str, sections: Sequence[Section], summary_md: str = "",
           figures: Sequence[dict] = (), provenance: str = "", summary_dir: Optional[Path] = None) -> None:
    """Write the page atomically; ``summary_dir``: the folder the summary's relative links were written for."""
    summary_html = markdown_html(summary_md) if summary_md else ""
    if summary_html and summary_dir is not None:
        summary_html = Markup(rebase_links(str(summary_html), summary_dir, out_path.parent))
    html = _environment().get_template("report.html.j2").render(
        title=title, sections=[s.context() for s in sections],
        summary_html=summary_html,
        figures=list(figures), provenance=provenance)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(out_path) as f:
        f.write(html)
