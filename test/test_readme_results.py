"""README's headline tables and claims are the study store's, not typed: every table row and claim
paragraph of the section is a line of a REPORT.md that one of the section's own commands rebuilds
from the committed store."""

from __future__ import annotations

import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def headline_section(readme: Path) -> str:
    text = readme.read_text(encoding="utf-8")
    start = text.index("## Headline result")
    return text[start:text.index("\n## ", start + 1)]


def section_commands(section: str) -> list:
    """The make_report commands of the section's bash block, each as argv after the module name."""
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    lines = [x for x in block.splitlines() if "espnet_l2dual.bin.make_report" in x]
    argvs = [shlex.split(x) for x in lines]
    return [a[a.index("espnet_l2dual.bin.make_report") + 1:] for a in argvs]


def test_readme_headline_rows_are_rebuilt_from_the_store(tmp_path, monkeypatch) -> None:
    from espnet_l2dual.bin import make_report

    section = headline_section(ROOT / "README.md")
    commands = section_commands(section)
    assert commands, "the section names the command that rebuilds its tables"
    monkeypatch.chdir(ROOT)
    rebuilt: set = set()
    for i, argv in enumerate(commands):
        assert "--study" in argv, "the headline comes from the study store"
        out_dir = tmp_path / f"report{i}"
        argv[argv.index("--out_dir") + 1] = str(out_dir)
        assert make_report.main(argv) == 0
        rebuilt |= set((out_dir / "REPORT.md").read_text(encoding="utf-8").splitlines())
    rows = [x for x in section.splitlines() if x.startswith("|")]
    assert len(rows) >= 4, "the section shows the headline table"
    claims = [x for x in section.splitlines() if x.startswith("- **")]
    assert len(claims) >= 4, "the section words the study's claims"
    missing = [x for x in rows + claims if x not in rebuilt]
    assert not missing, f"README rows or claims not in the rebuilt REPORT.md (regenerate them): {missing}"
