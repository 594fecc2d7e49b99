"""Read back sclite's per-utterance alignments (the ``pra`` part of ``result.txt``).

Pages that show where a hypothesis went wrong must show the alignment the reported
error rate counted, not a second one: two equal-cost alignments can place the edits
differently. sclite prints each utterance as ``REF:``/``HYP:`` rows of columns, a
run of ``*`` standing for the missing side, with errors upper-cased; so the columns are
taken from sclite and the units in them from the ``ref.trn``/``hyp.trn`` it read, in
order, and every utterance's edit labels are checked against sclite's own
``Scores: (#C #S #D #I)`` line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple, Union

from espnet_l2dual.utils.fileio import iter_utf8_lines

PathLike = Union[str, Path]
_NULL = re.compile(r"^\*+$")
_ID = re.compile(r"^id: \((.*)\)\s*$")
_SCORES = re.compile(r"^Scores: \(#C #S #D #I\)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)")
_TRN = re.compile(r"^(.*?)\s*\(([^()]*)\)\s*$")
_UNESCAPE = {"<at>": "@", "<lbrace>": "{", "<rbrace>": "}"}


@dataclass(frozen=True)
class Column:
    """One aligned position: ``op`` is C (correct), S (substitution), D (deletion) or I (insertion);
    ``ref``/``hyp`` is None on the side that has no unit."""

    op: str
    ref: Optional[str]
    hyp: Optional[str]


def _unescape(unit: str) -> str:
    for k, v in _UNESCAPE.items():
        unit = unit.replace(k, v)
    return unit


def read_trn(path: PathLike) -> Dict[str, List[str]]:
    """``{trn id: units}`` of a trn file (the id without its parentheses)."""
    out: Dict[str, List[str]] = {}
    for no, line in iter_utf8_lines(path):
        m = _TRN.match(line)
        if not m:
            raise ValueError(f"{path}:{no}: not a trn line (no '(id)' at its end)")
        out[m.group(2)] = m.group(1).split()
    return out


def _blocks(result: PathLike) -> Iterator[Tuple[int, str, Tuple[int, ...], List[str], List[str]]]:
    """(line of the id, id, sclite's C S D I, REF columns, HYP columns) per utterance."""
    uid: Optional[str] = None
    start, scores, ref_cols = 0, (), None
    for no, line in iter_utf8_lines(result):
        m = _ID.match(line)
        if m:
            uid, start, scores, ref_cols = m.group(1), no, (), None
            continue
        if uid is None:
            continue
        m = _SCORES.match(line)
        if m:
            scores = tuple(int(x) for x in m.groups())
        elif line.startswith("REF:"):
            ref_cols = line[4:].split()
        elif line.startswith("HYP:") and ref_cols is not None:
            yield start, uid, scores, ref_cols, line[4:].split()
            uid = None


def read_alignments(score_dir: PathLike) -> Dict[str, List[Column]]:
    """``{trn id: columns}`` of one sclite run (``run_sclite``'s ``score_dir``); the key of an
    utterance is ``sclite.trn_id(utt, spk)`` without its parentheses.

    ValueError at result.txt:line when sclite's columns do not match the trn units or its counts.
    """
    score_dir = Path(score_dir)
    result = score_dir / "result.txt"
    refs, hyps = read_trn(score_dir / "ref.trn"), read_trn(score_dir / "hyp.trn")
    out: Dict[str, List[Column]] = {}
    for no, uid, scores, ref_cols, hyp_cols in _blocks(result):
        where = f"{result}:{no}"
        if len(ref_cols) != len(hyp_cols):
            raise ValueError(f"{where}: REF has {len(ref_cols)} columns, HYP {len(hyp_cols)}")
        if uid not in refs or uid not in hyps:
            raise ValueError(f"{where}: utterance ({uid}) is not in {score_dir}/ref.trn and hyp.trn")
        ref_units, hyp_units = iter(refs[uid]), iter(hyps[uid])
        cols: List[Column] = []
        try:
            for r, h in zip(ref_cols, hyp_cols):
                ref = None if _NULL.match(r) else _unescape(next(ref_units))
                hyp = None if _NULL.match(h) else _unescape(next(hyp_units))
                op = "I" if ref is None else "D" if hyp is None else "C" if ref == hyp else "S"
                cols.append(Column(op, ref, hyp))
        except StopIteration:
            raise ValueError(f"{where}: more columns than units of ({uid}) in the trn files") from None
        if next(ref_units, None) is not None or next(hyp_units, None) is not None:
            raise ValueError(f"{where}: fewer columns than units of ({uid}) in the trn files")
        counts = tuple(sum(c.op == op for c in cols) for op in "CSDI")
        if scores and counts != scores:
            raise ValueError(f"{where}: columns give C S D I {counts}, sclite's Scores line {scores}")
        out[uid] = cols
    return out


def errors(cols: List[Column]) -> int:
    """Edits of one utterance (S + D + I)."""
    return sum(c.op != "C" for c in cols)


def utterance_counts(score_dir: PathLike) -> Dict[str, Tuple[int, int, int, int]]:
    """``{trn id: (C, S, D, I)}`` of one sclite run, as sclite aligned (and counted) each utterance."""
    return {uid: tuple(sum(c.op == op for c in cols) for op in "CSDI")  # type: ignore[misc]
            for uid, cols in read_alignments(score_dir).items()}
