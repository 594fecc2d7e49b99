"""The per-utterance rows of the HTML report: audio, references, every model's hypotheses with
sclite's edits, divergence, mispronunciations, and MTL's edits minus STL's per output.

Everything comes from files stages 4-9 wrote: the data dir (``text_<output>``,
``text_canonical``, ``utt2spk``, ``utt2divergence``, ``wav.scp``) and each model's
``results.json``, whose headline ``score_dir``/``score_subdir`` name the sclite run whose
alignment is shown: the one the reported error rate counted.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from espnet_l2dual.outputs import OUTPUTS, STL_CONFIG
from espnet_l2dual.scoring.by_divergence import DEFAULT_BINS, parse_bins, read_divergence
from espnet_l2dual.scoring.mdd_scoring import differences
from espnet_l2dual.scoring.sclite import trn_id
from espnet_l2dual.scoring.sclite_alignment import Column, errors, read_alignments
from espnet_l2dual.scoring.units import SPACE
from espnet_l2dual.utils.fileio import read_table

BROWSER_AUDIO = (".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a")


@dataclass
class ModelRun:
    """One trained model's decoded test set: ``name`` is its config (``mtl``, ``stl_surface``...)."""

    name: str
    exp_dir: Path
    metric: Dict[str, str] = field(default_factory=dict)  # output -> headline name (CER, PER)
    hyps: Dict[str, Dict[str, str]] = field(default_factory=dict)  # output -> utt -> text
    columns: Dict[str, Dict[str, List[Column]]] = field(default_factory=dict)  # output -> trn id -> cols

    @classmethod
    def load(cls, exp_dir: Path, name: str, results: Mapping, test_set: str) -> "ModelRun":
        """Read the hypotheses and sclite alignments ``results.json`` points at."""
        run = cls(name, exp_dir)
        block = results.get(test_set)
        if not block:
            raise ValueError(f"{exp_dir}/results.json: no '{test_set}' set scored")
        for o in OUTPUTS:
            if o not in block:
                continue
            score_dir = exp_dir / block[o]["score_dir"]
            head = block[o]["headline"]
            run.metric[o] = head["name"]
            run.hyps[o] = read_table(score_dir / "text", allow_empty_value=True)
            run.columns[o] = read_alignments(score_dir / head["score_subdir"])
        return run


def segments(cols: Sequence[Column], joiner: str) -> List[Dict[str, str]]:
    """Runs of the hypothesis for display: ``{"op", "text", "ref"}``; a deletion shows the reference
    unit (struck through by the page), a character model's ``<space>`` shows as a space."""
    def show(unit: Optional[str]) -> str:
        return " " if unit == SPACE else (unit or "")

    out: List[Dict[str, str]] = []
    for c in cols:
        text = show(c.ref) if c.op == "D" else show(c.hyp)
        if c.op != "C" and text == " ":
            text = "\u2423"  # an inserted/deleted/substituted word boundary must be visible
        out.append({"op": c.op, "text": text + joiner, "ref": show(c.ref) if c.op == "S" else ""})
    return out


def _joiner(cols_by_utt: Mapping[str, List[Column]]) -> str:
    """'' for character alignments (they carry ``<space>``), ' ' for words, phones and tokens."""
    for cols in cols_by_utt.values():
        if any(c.ref == SPACE or c.hyp == SPACE for c in cols):
            return ""
    return " "


def mispronounced(canonical: str, said: str) -> List[Dict[str, str]]:
    """Expected vs said per differing word (character outputs) or phone (phone outputs)."""
    return [{"expected": d["expected"] or "-", "said": d["said"] or "-"}
            for d in differences(canonical.split(), said.split())]


def audio_link(entry: str, utt: str, out_dir: Path, copy: bool, base: Path) -> Optional[str]:
    """A link the page can play: a relative path to an audio file of wav.scp (copied with ``copy``).

    Relative entries are relative to ``base`` (the recipe dir, where the stages run). Entries a
    browser cannot open (pipes, ark offsets) are written out as wav files.
    """
    path = Path(entry) if Path(entry).is_absolute() else base / entry
    if path.suffix.lower() in BROWSER_AUDIO and path.is_file():
        if not copy:
            return Path(os.path.relpath(path.resolve(), out_dir.resolve())).as_posix()
        target = out_dir / "audio" / f"{utt}{path.suffix.lower()}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        return f"audio/{target.name}"
    import kaldiio
    import numpy as np
    import soundfile

    rate, samples = kaldiio.load_mat(entry)
    target = out_dir / "audio" / f"{utt}.wav"
    target.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(target, np.asarray(samples), rate)
    return f"audio/{target.name}"


def build_rows(data_dir: Path, models: Sequence[ModelRun], out_dir: Path, copy_audio: bool = False,
               bins_spec: str = DEFAULT_BINS, mtl_name: str = "mtl",
               base: Path = Path(".")) -> Tuple[List[dict], List[dict]]:
    """The table's rows (one per test utterance) and its columns (per output: the models that have it).

    ``base``: the dir that relative wav.scp entries are relative to (the recipe dir)."""
    refs = {o: read_table(data_dir / f"text_{o}", allow_empty_value=True) for o in OUTPUTS
            if (data_dir / f"text_{o}").is_file()}
    utts = list(next(iter(refs.values())))
    utt2spk = read_table(data_dir / "utt2spk") if (data_dir / "utt2spk").is_file() else {}
    div_path = data_dir / "utt2divergence"
    utt2div = read_divergence(div_path) if div_path.is_file() else {}
    canon_path = data_dir / "text_canonical"
    canonical = read_table(canon_path, allow_empty_value=True) if canon_path.is_file() else None
    wav = read_table(data_dir / "wav.scp") if (data_dir / "wav.scp").is_file() else {}
    bins = parse_bins(bins_spec)
    header = [{"output": o, "metric": next((m.metric[o] for m in models if o in m.metric), ""),
               "models": [m.name for m in models if o in m.hyps]} for o in OUTPUTS if o in refs]
    joiners = {(m.name, o): _joiner(m.columns[o]) for m in models for o in m.columns}
    by_name = {m.name: m for m in models}
    rows: List[dict] = []
    for utt in utts:
        spk = utt2spk.get(utt)
        key = trn_id(utt, spk)[1:-1]
        div = utt2div.get(utt)
        row: dict = {"utt": utt, "spk": spk or "", "divergence": div,
                     "bin": next((b.label for b in bins if div is not None and b.holds(div)), ""),
                     "audio": audio_link(wav[utt], utt, out_dir, copy_audio, base) if utt in wav else None,
                     "outputs": [], "mtl_minus_stl": {}, "mdd": [], "canonical": ""}
        for col in header:
            o = col["output"]
            cell = {"output": o, "reference": refs[o][utt], "hyps": []}
            for name in col["models"]:
                cols = by_name[name].columns[o].get(key)
                if cols is None:
                    raise ValueError(f"{by_name[name].exp_dir}: no sclite alignment of utterance {utt} ({o})")
                cell["hyps"].append({"model": name, "segments": segments(cols, joiners[(name, o)]),
                                     "errors": errors(cols), "n_ref": sum(c.ref is not None for c in cols)})
            errs = {h["model"]: h["errors"] for h in cell["hyps"]}
            stl = STL_CONFIG[o]
            if mtl_name in errs and stl in errs:
                row["mtl_minus_stl"][o] = errs[mtl_name] - errs[stl]
            row["outputs"].append(cell)
        if canonical is not None and utt in canonical:
            row["canonical"] = canonical[utt]
            if "surface" in refs:
                row["mdd"].append({"who": "annotated", "found": mispronounced(canonical[utt], refs["surface"][utt])})
            for m in models:
                if "surface" in m.hyps:
                    row["mdd"].append({"who": m.name,
                                       "found": mispronounced(canonical[utt], m.hyps["surface"].get(utt, ""))})
        rows.append(row)
    return rows, header
