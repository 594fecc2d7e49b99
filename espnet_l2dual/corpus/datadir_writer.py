"""Write a set of corpus utterances as one Kaldi data dir (the contract in DESIGN.md).

Every adapter (``dual``, ``l2arctic``, ``manifest``) ends here, so the data-dir
rules live in one place: tables sorted by id, ``spk2utt`` derived from
``utt2spk``, optional files written only when every utterance has a value. The
dir is built beside its final place, validated there, and only then renamed
into place: a killed or failing run never leaves a half-written or invalid
``data/<set>`` behind, and a re-run simply redoes it.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

from espnet_l2dual.data.dir_tables import spk2utt_rows
from espnet_l2dual.data.validate import Summary, validate_data_dir
from espnet_l2dual.utils.fileio import remove_earlier_temps, write_table

PathLike = Union[str, Path]


@dataclass(frozen=True)
class Utterance:
    """One utterance as an adapter found it; texts are already normalised."""

    utt_id: str
    speaker: str
    wav: str  # the wav.scp value: a path or a ``command |``
    surface: str
    meaning: str
    canonical: Optional[str] = None  # the meaning in surface units (e.g. canonical phones)
    lang: Optional[str] = None
    l1: Optional[str] = None
    duration: Optional[float] = None  # seconds, for the summary only
    age: Optional[str] = None  # the speaker's age in years (per utterance, so speed perturbation keeps it)
    gender: Optional[str] = None  # the speaker's gender, m or f


def _optional_column(utts: Sequence[Utterance], name: str) -> Optional[Dict[str, str]]:
    """``{utt: value}`` when every utterance has ``name``; None when none has; else an error."""
    values = {u.utt_id: getattr(u, name) for u in utts}
    given = [v for v in values.values() if v is not None]
    if not given:
        return None
    if len(given) != len(values):
        missing = sorted(k for k, v in values.items() if v is None)[0]
        raise ValueError(f"utterance '{missing}' has no {name} while others have one (all or none)")
    return values


def write_data_dir(out_dir: PathLike, utts: Sequence[Utterance], check_audio: bool = True) -> Summary:
    """Write ``utts`` as the data dir ``out_dir`` (replacing it) and return the validator's summary."""
    out_dir = Path(out_dir)
    if not utts:
        raise ValueError(f"{out_dir}: no utterances to write")
    ids: Dict[str, Utterance] = {}
    for u in utts:
        if u.utt_id in ids:
            raise ValueError(f"{out_dir}: duplicate utterance id '{u.utt_id}'")
        ids[u.utt_id] = u

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    remove_earlier_temps(out_dir, [f".{glob.escape(out_dir.name)}.*.old"])
    # a name of its own per run: two runs never write into one another's temp dir
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    try:
        write_table(tmp / "wav.scp", [(u.utt_id, u.wav) for u in utts])
        write_table(tmp / "utt2spk", [(u.utt_id, u.speaker) for u in utts])
        write_table(tmp / "spk2utt", spk2utt_rows({u.utt_id: u.speaker for u in utts}))
        write_table(tmp / "text_surface", [(u.utt_id, u.surface) for u in utts])
        write_table(tmp / "text_meaning", [(u.utt_id, u.meaning) for u in utts])
        for field, name in (("canonical", "text_canonical"), ("lang", "utt2lang"), ("l1", "utt2l1"),
                            ("age", "utt2age"), ("gender", "utt2gender")):
            column = _optional_column(utts, field)
            if column is not None:
                write_table(tmp / name, column.items())
        validate_data_dir(tmp, check_audio=check_audio)
        old = tmp.with_suffix(".old")  # unique because tmp is
        if out_dir.exists():
            os.replace(out_dir, old)
        os.replace(tmp, out_dir)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Summary(out_dir, len(ids), len({u.speaker for u in utts}), sorted(p.name for p in out_dir.iterdir()))


def write_data_sets(out_root: PathLike, sets: Dict[str, List[Utterance]], check_audio: bool = True) -> None:
    """Write each ``{set name: utterances}`` as ``out_root/<set name>``."""
    for name, utts in sets.items():
        write_data_dir(Path(out_root) / name, utts, check_audio=check_audio)
