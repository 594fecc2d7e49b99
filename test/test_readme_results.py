"""README's result tables and claims are the study store's, not typed: every table row and claim
paragraph of a results section is a line of a report that one of that section's own commands
rebuilds from the committed store (``make_report`` -> REPORT.md and each language's stage-10
REPORT.md, ``grid_report`` -> GRID.md)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
REPORTERS = {"espnet_l2dual.bin.make_report": "REPORT.md", "espnet_l2dual.bin.grid_report": "GRID.md"}
HEADLINE = "## Headline result"


def sections(readme: Path) -> Dict[str, str]:
    """Each ``## `` section of the README by its heading line."""
    text = readme.read_text(encoding="utf-8")
    parts = text.split("\n## ")
    return {"## " + p.split("\n", 1)[0]: p for p in parts[1:]}


def section_commands(section: str) -> List[Tuple[str, List[str]]]:
    """The report commands of the section's bash blocks: (module, argv after the module name)."""
    found = []
    for block in section.split("```bash\n")[1:]:
        for line in block.split("```", 1)[0].splitlines():
            for module in REPORTERS:
                if module in line:
                    argv = shlex.split(line)
                    found.append((module, argv[argv.index(module) + 1:]))
    return found


def result_sections() -> Dict[str, str]:
    """The README sections whose numbers come from a study store (the headline always does)."""
    found = {h: s for h, s in sections(ROOT / "README.md").items()
             if any("--study" in argv for _, argv in section_commands(s))}
    assert HEADLINE in found, "README's headline section names the command that rebuilds its tables"
    return found


@pytest.mark.parametrize("heading", sorted(result_sections()))
def test_readme_rows_are_rebuilt_from_the_store(heading: str, tmp_path, monkeypatch) -> None:
    import importlib

    section = result_sections()[heading]
    monkeypatch.chdir(ROOT)
    rebuilt: set = set()
    for i, (module, argv) in enumerate(section_commands(section)):
        assert "--study" in argv, f"{heading}: the numbers come from the study store"
        out_dir = tmp_path / f"report{i}"
        argv[argv.index("--out_dir") + 1] = str(out_dir)
        assert importlib.import_module(module).main(argv) == 0
        assert (out_dir / REPORTERS[module]).is_file()
        for report in out_dir.rglob(REPORTERS[module]):  # the top report and each language's stage-10 one
            rebuilt |= set(report.read_text(encoding="utf-8").splitlines())
    rows = [x for x in section.splitlines() if x.startswith("|")]
    assert len(rows) >= 4, f"{heading}: the section shows its table"
    claims = [x for x in section.splitlines() if x.startswith("- **")]
    if heading == HEADLINE:
        assert len(claims) >= 4, "the headline words the study's claims"
    missing = [x for x in rows + claims if x not in rebuilt]
    assert not missing, f"{heading}: rows or claims not in the rebuilt report (regenerate them): {missing}"
