"""The HTML page of transcribe's recordings.

Audio players, both outputs with their differing words marked, the mispronounced words: the
same row layout as the report pages, so one template serves both.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, List, Mapping, Optional

from espnet_l2dual.outputs import OUTPUTS
from espnet_l2dual.text.word_differences import difference_segments


def html_row(path: str, texts: Mapping[str, str], errors: Optional[List[dict]], mode: str, aligned: bool,
             page_dir: Path, model: str) -> dict:
    """One row of ``--html``: the recording, both outputs with their differing words marked, and the
    mispronounced words (``report.utterance_rows`` rows have the same keys)."""
    audio = Path(os.path.relpath(Path(path).resolve(), page_dir.resolve())).as_posix()
    both = aligned and "surface" in texts and "meaning" in texts
    cells = [{"output": o, "reference": None,
              "hyps": [{"model": model, "errors": 0, "n_ref": 0,
                        "segments": difference_segments(t, texts[OUTPUTS[1 - OUTPUTS.index(o)]] if both else None)}]}
             for o, t in texts.items()]
    mdd = [] if errors is None else [{"who": mode, "found": [
        {"expected": e["expected"] or "-", "said": e["said"] or "-"} for e in errors]}]
    return {"utt": path, "spk": "", "divergence": None, "bin": "", "audio": audio, "outputs": cells,
            "mtl_minus_stl": {}, "mdd": mdd, "canonical": ""}


def write_page(html: Path, rows: List[dict], model: str, noted: Iterable[str]) -> None:
    """The page at ``html``: one row per recording (:func:`html_row`), the run's notes above them."""
    from espnet_l2dual.report.html_page import Section, render

    header = [{"output": o, "metric": "", "models": [Path(model).name]}
              for o in OUTPUTS if any(o in [c["output"] for c in r["outputs"]] for r in rows)]
    note = "; ".join(sorted(noted)) or "words where the two outputs differ are marked"
    render(html, "espnet_l2dual transcriptions", [Section("recordings", rows, header, note=note)],
           provenance=f"model: {model}")
