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
from typing import List, Optional, Sequence, Tuple, Union

PathLike = Union[str, Path]

EVAL_SET = "eval"
TUNING_SET = "test"
AUTO = "auto"  # the report set: eval where every model scored it, else test

#: the mini corpus's eval set by default: speakers x utterances per speaker
EVAL_SPEAKERS = 20
EVAL_UTTS_PER_SPEAKER = 15


def scored_sets(results_json: PathLike) -> List[str]:
    """The sets a stage-9 ``results.json`` scored (its top-level keys that are set blocks).

    An unreadable file scored nothing here: the report that reads it names what is wrong.
    """
    try:
        doc = json.loads(Path(results_json).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(doc, dict):
        return []
    return [k for k, v in doc.items() if isinstance(v, dict) and k != "provenance"]


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


def resolve_report_set(requested: str, results: Sequence[PathLike]) -> Tuple[str, Optional[str]]:
    """``requested`` unless it is ``auto``: then :func:`report_set_of_results` of ``results``.

    Also returns a note for the user when ``auto`` fell back to ``test`` although some
    models scored ``eval`` (a mix of corpora, or models decoded before eval existed).
    """
    if requested != AUTO:
        return requested, None
    chosen, lacking = report_set_of_results(results)
    some_eval = any(Path(p).is_file() and EVAL_SET in scored_sets(p) for p in results)
    if chosen == TUNING_SET and some_eval:
        return chosen, (f"reporting on '{TUNING_SET}' (the tuning set): {len(lacking)} of {len(results)} "
                        f"results.json lack an '{EVAL_SET}' set (e.g. {lacking[0]}); run stages 1-9 there "
                        f"with the eval set to report on '{EVAL_SET}'")
    return chosen, None
