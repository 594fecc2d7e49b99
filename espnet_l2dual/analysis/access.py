"""Read results.json (stage 9) and analysis.json (stage 10) through explicit key paths.

A report that reads these files with chains of ``.get(..., {})`` turns every change of
their layout into a quiet "n/a". Here a missing key is an error naming the file and
the full key path, and the stage that writes it. A quantity that was deliberately not
computed is written as ``{"skipped": "<reason>"}`` by the stage (gradient conflict with
``--grad_batches 0``, a CKA pair with too few frames, an undefined correlation), and
read back as such, so a report can print "skipped (reason)" instead of "n/a".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from espnet_l2dual.errors import DataError
from espnet_l2dual.scoring import sclite_alignment
from espnet_l2dual.scoring.units import Headline, headline_from_json

Value = Union[float, Dict[str, str]]  # a number, {"skipped": reason} or {"not_applicable": reason}


def skipped(reason: str) -> Dict[str, str]:
    """A quantity the stage chose not to (or could not) compute, with why."""
    return {"skipped": reason}


def not_applicable(reason: str) -> Dict[str, str]:
    """A quantity that does not exist for this model (e.g. task encoder CKA of one shared encoder)."""
    return {"not_applicable": reason}


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class Doc:
    """A JSON document (or a part of it) whose missing keys are errors naming their full path."""

    def __init__(self, data: Any, source: Union[str, Path], writer: str, prefix: Sequence[str] = ()) -> None:
        self.data, self.source, self.writer, self.prefix = data, str(source), writer, tuple(prefix)

    @classmethod
    def load(cls, path: Path, writer: str) -> "Doc":
        """Read ``path``; a missing or unreadable file is a DataError saying which stage writes it."""
        if not path.is_file():
            raise DataError(path, None, f"not found ({writer} writes it)")
        try:
            return cls(json.loads(path.read_text(encoding="utf-8")), path, writer)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise DataError(path, None, f"not valid JSON ({e}); re-run {writer}") from None

    def _missing(self, path: Sequence[str], have: Any) -> DataError:
        keys = ", ".join(sorted(map(str, have))) if isinstance(have, dict) else type(have).__name__
        return DataError(self.source, None, f"missing key '{'.'.join(path)}' (there: {keys or 'nothing'}); "
                         f"written by {self.writer}: re-run it with this toolkit version")

    def has(self, *keys: str) -> bool:
        node = self.data
        for k in keys:
            if not isinstance(node, dict) or k not in node:
                return False
            node = node[k]
        return True

    def need(self, *keys: str) -> Any:
        """The value at ``keys`` (below this part's prefix); DataError naming the path if absent."""
        node = self.data
        for i, k in enumerate(keys):
            if not isinstance(node, dict) or k not in node:
                raise self._missing(self.prefix + tuple(keys[:i + 1]), node)
            node = node[k]
        return node

    def at(self, *keys: str) -> "Doc":
        """The part at ``keys``, which reports its own missing keys with the full path."""
        return Doc(self.need(*keys), self.source, self.writer, self.prefix + tuple(keys))

    def number(self, *keys: str) -> Value:
        """A number at ``keys``; a ``skipped`` block on the way, or null, reads as skipped."""
        node, parent = self.data, self.data
        for i, k in enumerate(keys):
            if isinstance(node, dict) and k not in node and "skipped" in node:
                return skipped(str(node["skipped"]))
            if not isinstance(node, dict) or k not in node:
                raise self._missing(self.prefix + tuple(keys[:i + 1]), node)
            parent, node = node, node[k]
        if node is None:
            return skipped(str(parent.get("skipped", "undefined (recorded as null)")))
        if not is_number(node):
            raise DataError(self.source, None, f"'{'.'.join(self.prefix + tuple(keys))}' is not a number: {node!r}")
        return float(node)


# ------------------------------------------------------------------ results.json (stage 9)

STAGE9 = "stage 9 (espnet_l2dual.bin.score)"
STAGE10 = "stage 10 (espnet_l2dual.bin.analyze)"


def load_results(path: Path) -> Doc:
    return Doc.load(path, STAGE9)


def output_entry(results: Doc, test_set: str, output: str) -> Doc:
    return results.at(test_set, output)


def headline_of(entry: Doc) -> Headline:
    """The output's headline metric; an entry from before headlines were recorded is an error."""
    block = entry.need("headline")
    try:
        return headline_from_json(block)
    except (KeyError, TypeError, ValueError) as e:
        raise DataError(entry.source, None, f"'{'.'.join(entry.prefix + ('headline',))}' is not a headline "
                        f"block ({e}); re-run {STAGE9}") from None


def headline_value(entry: Doc) -> float:
    v = entry.need("headline", "value")
    if not is_number(v):
        raise DataError(entry.source, None, f"'{'.'.join(entry.prefix + ('headline', 'value'))}' is not a "
                        f"number: {v!r}")
    return float(v)


def score_dir(entry: Doc) -> Path:
    """Where stage 9 left the output's sclite files (relative to results.json's directory)."""
    return Path(entry.source).parent / str(entry.need("score_dir"))


def utterance_errors(entry: Doc, kind: str) -> Dict[str, Tuple[int, int]]:
    """{utterance (sclite's trn id): (edits, reference length)} of one output and error kind, as
    sclite counted them: from a study-store record's ``counts_<kind>.tsv``, else from the
    alignments of stage 9's sclite run (``score_<kind>/result.txt``) in exp/."""
    base = score_dir(entry)
    counts_tsv = base / f"counts_{kind}.tsv"
    if counts_tsv.is_file():
        out: Dict[str, Tuple[int, int]] = {}
        for no, line in enumerate(counts_tsv.read_text(encoding="utf-8").splitlines(), 1):
            if line.startswith("#") or not line.strip():
                continue
            cells = line.split("\t")
            if len(cells) != 5 or not all(c.isdigit() for c in cells[1:]):
                raise DataError(counts_tsv, no, "expected 'id C S D I' (tab-separated counts)")
            c, s, d, i = (int(x) for x in cells[1:])
            out[cells[0]] = (s + d + i, c + s + d)
        return out
    return {uid: (s + d + i, c + s + d) for uid, (c, s, d, i) in sclite_counts(base / f"score_{kind}").items()}


def sclite_counts(score_dir: Path) -> Dict[str, Tuple[int, int, int, int]]:
    """{trn id: (C, S, D, I)} of one sclite run of stage 9; DataError naming what is missing or wrong."""
    try:
        return sclite_alignment.utterance_counts(score_dir)
    except FileNotFoundError as e:
        raise DataError(e.filename, None, "not found: stage 9 leaves sclite's per-utterance files here "
                        "(the paired bootstrap needs them); re-run stage 9") from None
    except ValueError as e:
        raise DataError(Path(score_dir) / "result.txt", None, str(e)) from None


# ------------------------------------------------------------------ analysis.json (stage 10)


def load_analysis(path: Path) -> Doc:
    return Doc.load(path, STAGE10)


def group(analysis: Doc, size: str) -> Doc:
    return analysis.at("groups", size)


def cka_diag(pair: Doc, estimator: str = "debiased") -> Union[List[Optional[float]], Dict[str, str]]:
    """The per-layer CKA of one pair (debiased unless asked), or its ``skipped`` block."""
    if isinstance(pair.data, dict) and "skipped" in pair.data:
        return skipped(str(pair.data["skipped"]))
    if pair.need(estimator) is None:
        return skipped(f"the {estimator} estimator needs at least 4 examples")
    return pair.need(estimator, "diag")


def last_layer(diag: Union[List[Optional[float]], Dict[str, str]]) -> Value:
    if isinstance(diag, dict):
        return diag
    if not diag:
        return skipped("no layers recorded")
    return skipped("undefined (not finite)") if diag[-1] is None else float(diag[-1])


def layer_mean(diag: Union[List[Optional[float]], Dict[str, str]]) -> Value:
    if isinstance(diag, dict):
        return diag
    vals = [x for x in diag if x is not None]
    return sum(vals) / len(vals) if vals else skipped("undefined (no finite layer)")
