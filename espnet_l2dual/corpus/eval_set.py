"""The held-out evaluation set ``eval``, and which set a report's numbers come from.

Why: the tiny defaults (token units, epochs, decoding CTC weight) were chosen on the
mini corpus's ``test`` set, so a comparison reported on ``test`` favours whatever was
tuned there. ``test`` stays as the tuning set; ``eval`` has new sentences and unseen
voices and is never used for a choice, so final numbers come from it. A corpus that
has no ``eval`` set (the adapters of real corpora) reports on ``test`` as before.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, List, Sequence, Tuple, Union

PathLike = Union[str, Path]

EVAL_SET = "eval"
TUNING_SET = "test"
AUTO = "auto"  # the report set: eval where every model scored it, else test

#: the mini corpus's eval set by default: speakers x utterances per speaker
EVAL_SPEAKERS = 20
EVAL_UTTS_PER_SPEAKER = 15


def report_set(available: Iterable[str]) -> str:
    """``eval`` when it is among the sets ``available``, else ``test``."""
    return EVAL_SET if EVAL_SET in set(available) else TUNING_SET


def scored_sets(results_json: PathLike) -> List[str]:
    """The sets a stage-9 ``results.json`` scored (its top-level keys that are set blocks)."""
    doc = json.loads(Path(results_json).read_text(encoding="utf-8"))
    return [k for k, v in doc.items() if isinstance(v, dict) and k not in ("provenance",)]


def report_set_of_results(results: Sequence[PathLike]) -> Tuple[str, List[Path]]:
    """The set every one of ``results`` (stage-9 results.json files) scored: ``eval`` if all did, else ``test``.

    Also returns the files that lack ``eval`` (empty when the answer is ``eval``): a report
    over several recipes compares like with like, so one recipe without ``eval`` puts them all
    on ``test``, and the caller says so. Missing files count as scoring nothing; the report
    itself names them.
    """
    lacking = [Path(p) for p in results if not Path(p).is_file() or EVAL_SET not in scored_sets(p)]
    found = [p for p in results if Path(p).is_file()]
    if not found:
        return TUNING_SET, lacking
    return (EVAL_SET, []) if not lacking else (TUNING_SET, lacking)
