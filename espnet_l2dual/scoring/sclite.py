"""Score unit sequences with NIST sclite and read its counts back.

sclite is the reference scorer ESPnet users compare against, so its report
(``result.txt``, with per-utterance alignments) is kept beside every score.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Mapping, Optional, Sequence, Union

from espnet_l2dual.utils.fileio import atomic_write

PathLike = Union[str, Path]
# Debian's sctk puts sclite here and only a ``sctk`` dispatcher on PATH.
_KNOWN_SCLITE = ("/usr/lib/sctk/bin/sclite", "/usr/bin/sclite", "/usr/local/bin/sclite")


@dataclass(frozen=True)
class ErrorCounts:
    """Edit counts summed over a set; ``n_ref`` is the number of reference units."""

    n_ref: int
    sub: int
    dele: int
    ins: int
    n_utt: int = 0

    @property
    def errors(self) -> int:
        return self.sub + self.dele + self.ins

    @property
    def rate(self) -> float:
        """Error rate in percent, (S+D+I)/N, from the counts (not sclite's rounded %)."""
        if self.n_ref == 0:
            return 0.0 if self.errors == 0 else float("inf")
        return 100.0 * self.errors / self.n_ref

    def as_dict(self) -> Dict[str, float]:
        return {"n_utt": self.n_utt, "n_ref": self.n_ref, "sub": self.sub,
                "del": self.dele, "ins": self.ins, "err": self.rate}


def find_sclite() -> str:
    """Path of sclite: $SCLITE, then PATH, then Debian's sctk location."""
    env = os.environ.get("SCLITE")
    if env:
        return env
    found = shutil.which("sclite")
    if found:
        return found
    for cand in _KNOWN_SCLITE:
        if os.access(cand, os.X_OK):
            return cand
    raise FileNotFoundError(
        "sclite not found (set $SCLITE, or install it: apt-get install sctk)")


def _escape_unit(unit: str) -> str:
    """Keep a unit from being read as sclite trn syntax ('{' starts alternations, '@' alone is null)."""
    if unit == "@":
        return "<at>"
    return unit.replace("{", "<lbrace>").replace("}", "<rbrace>")


def trn_id(utt_id: str, speaker: Optional[str]) -> str:
    """``(spk-utt)``: the id form sclite's ``-i rm`` reads (speaker before the first '-')."""
    for what, value in (("utterance id", utt_id), ("speaker id", speaker or "")):
        if "(" in value or ")" in value:
            raise ValueError(f"{what} '{value}' contains a parenthesis, which sclite trn cannot hold")
    return f"({speaker or 'all'}-{utt_id})"


def write_trn(path: PathLike, units: Mapping[str, Sequence[str]],
              utt2spk: Optional[Mapping[str, str]] = None) -> None:
    """Write ``u1 u2 ... (spk-utt)`` lines, one per utterance, atomically."""
    utt2spk = utt2spk or {}
    with atomic_write(path) as f:
        for utt, seq in units.items():
            body = " ".join(_escape_unit(u) for u in seq)
            f.write(f"{body} {trn_id(utt, utt2spk.get(utt))}\n" if body
                    else f"{trn_id(utt, utt2spk.get(utt))}\n")


def parse_result(path: PathLike) -> ErrorCounts:
    """Read the summed counts of an ``-o all`` report.

    The ``Sum/Avg`` row holds rounded percentages; the ``Sum`` row of the raw
    summary holds the counts (#Snt #Wrd | Corr Sub Del Ins Err S.Err), which are used.
    """
    path = Path(path)
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0] == "Sum":
            snt_wrd, scores = cells[1].split(), cells[2].split()
            if len(snt_wrd) != 2 or len(scores) < 4:
                break
            n_utt, n_ref = int(snt_wrd[0]), int(snt_wrd[1])
            _corr, sub, dele, ins = (int(x) for x in scores[:4])
            return ErrorCounts(n_ref=n_ref, sub=sub, dele=dele, ins=ins, n_utt=n_utt)
    raise RuntimeError(f"{path}: no 'Sum' count row found in the sclite report")


def run_sclite(score_dir: PathLike, refs: Mapping[str, Sequence[str]],
               hyps: Mapping[str, Sequence[str]],
               utt2spk: Optional[Mapping[str, str]] = None) -> ErrorCounts:
    """Write ref.trn/hyp.trn into ``score_dir``, run sclite into result.txt, return its counts.

    Alignment is case-sensitive and UTF-8 aware (``-s -e utf-8``) so sclite scores
    exactly the units it is given, like jiwer does.
    """
    score_dir = Path(score_dir)
    score_dir.mkdir(parents=True, exist_ok=True)
    ref_trn, hyp_trn, result = score_dir / "ref.trn", score_dir / "hyp.trn", score_dir / "result.txt"
    write_trn(ref_trn, refs, utt2spk)
    write_trn(hyp_trn, {u: hyps.get(u, []) for u in refs}, utt2spk)
    cmd = [find_sclite(), "-r", str(ref_trn), "trn", "-h", str(hyp_trn), "trn",
           "-i", "rm", "-s", "-e", "utf-8", "-o", "all", "stdout"]
    proc = subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8", errors="replace")
    if proc.returncode != 0 or "Error" in proc.stderr:
        raise RuntimeError(f"sclite failed (exit {proc.returncode}) in {score_dir}: "
                           f"{' '.join(cmd)}\n{proc.stderr.strip()[-2000:]}")
    with atomic_write(result) as f:
        f.write(proc.stdout)
    return parse_result(result)
