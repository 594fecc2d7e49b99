"""README's headline tables are the study store's, not typed: every table row of the section is
a row of the REPORT.md that the section's own command rebuilds from the committed store."""

from __future__ import annotations

import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def headline_section(readme: Path) -> str:
    text = readme.read_text(encoding="utf-8")
    start = text.index("## Headline result")
    return text[start:text.index("\n## ", start + 1)]


def section_command(section: str) -> list:
    """The make_report command of the section's bash block, as argv after the module name."""
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    (line,) = [x for x in block.splitlines() if "espnet_l2dual.bin.make_report" in x]
    argv = shlex.split(line)
    return argv[argv.index("espnet_l2dual.bin.make_report") + 1:]


def test_readme_headline_rows_are_rebuilt_from_the_store(tmp_path, monkeypatch) -> None:
    from espnet_l2dual.bin import make_report

    section = headline_section(ROOT / "README.md")
    argv = section_command(section)
    assert "--study" in argv, "the headline comes from the study store"
    argv[argv.index("--out_dir") + 1] = str(tmp_path / "report")
    monkeypatch.chdir(ROOT)
    assert make_report.main(argv) == 0
    rebuilt = set((tmp_path / "report" / "REPORT.md").read_text(encoding="utf-8").splitlines())
    rows = [x for x in section.splitlines() if x.startswith("|")]
    assert len(rows) >= 4, "the section shows the headline table"
    missing = [x for x in rows if x not in rebuilt]
    assert not missing, f"README rows not in the rebuilt REPORT.md (regenerate them): {missing}"
