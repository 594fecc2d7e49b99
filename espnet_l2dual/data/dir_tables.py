"""The files of a Kaldi data dir, grouped by what their first field is keyed on.

Tools that rewrite a whole data dir (speed perturbation, combining, filtering)
must carry along every file the user put there, including ones this toolkit
does not know (``utt2l1``, ``utt2rules`` ...). The rule: every plain file is a
per-utterance table, except the few listed here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterable, List, Tuple

from espnet_l2dual.utils.fileio import PathLike, atomic_write, read_table

# Regenerated from utt2spk; never copied.
DERIVED_FILES = frozenset({"spk2utt"})
# Keyed by speaker id, not utterance id.
SPEAKER_FILES = frozenset({"spk2gender"})
# Not tables: one value for the whole dir (ESPnet dump dirs hold these).
VERBATIM_FILES = frozenset({"feats_type", "audio_format"})
# Segmented recordings would need their own handling in every tool; the
# data-dir contract has one utterance per recording.
UNSUPPORTED_FILES = frozenset({"segments", "reco2file_and_channel"})


def data_files(data_dir: PathLike) -> List[str]:
    """Names of the plain, non-hidden files of ``data_dir``, sorted."""
    return sorted(p.name for p in Path(data_dir).iterdir() if p.is_file() and not p.name.startswith("."))


def utterance_files(data_dir: PathLike) -> List[str]:
    """Names of the per-utterance tables of ``data_dir`` (``wav.scp``, ``utt2spk``, texts ...)."""
    skip = DERIVED_FILES | SPEAKER_FILES | VERBATIM_FILES
    return [name for name in data_files(data_dir) if name not in skip]


def read_any_table(path: PathLike) -> Dict[str, str]:
    """A table whose values may be empty (an utterance may have an empty transcription)."""
    return read_table(path, allow_empty_value=True)


def spk2utt_rows(utt2spk: Dict[str, str]) -> List[Tuple[str, str]]:
    """``(spk, "utt1 utt2 ...")`` rows, speakers and utterances sorted."""
    by_spk: Dict[str, List[str]] = {}
    for utt in sorted(utt2spk):
        by_spk.setdefault(utt2spk[utt], []).append(utt)
    return [(spk, " ".join(utts)) for spk, utts in sorted(by_spk.items())]


def write_spk2utt(data_dir: PathLike, utt2spk: Dict[str, str]) -> None:
    """(Re)write ``data_dir/spk2utt`` from an utt2spk map."""
    write_rows(Path(data_dir) / "spk2utt", spk2utt_rows(utt2spk))


def write_rows(path: PathLike, rows: Iterable[Tuple[str, str]]) -> None:
    """Write sorted ``key value`` lines; an empty value leaves just the key (no trailing space)."""
    with atomic_write(path) as f:
        for key, value in sorted(rows, key=lambda kv: kv[0]):
            f.write(f"{key} {value}\n" if value else f"{key}\n")
