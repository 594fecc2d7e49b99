"""Content digests of a stage's input files, so a re-run knows what changed.

Text inputs (data-dir files, configs, token lists, models) are hashed whole. Audio
listed in a ``wav.scp`` can be large, so its digest reuses the hash recorded last
time for a file whose size and modification time are unchanged (as ``git``'s index
does); any other file is read again.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence

from espnet_l2dual.utils.fileio import PathLike, iter_table

_CHUNK = 1 << 20
ARK_ENTRY = re.compile(r"\.ark:\d+(\[[^\]]*\])?$")  # ``x.ark:123`` (optionally ``[slice]``)

# {path: [size, mtime_ns, sha1]} for the audio files of one wav.scp
AudioStats = Dict[str, List]


def file_sha1(path: PathLike) -> str:
    """SHA-1 of a file's bytes (symlinks followed)."""
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def text_sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def expand_inputs(paths: Sequence[PathLike]) -> List[str]:
    """Files named by ``paths``: a directory stands for its visible top-level regular files."""
    out: List[str] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out.extend(str(c) for c in sorted(p.iterdir()) if c.is_file() and not c.name.startswith("."))
        else:
            out.append(str(p))
    return out


def files_digest(paths: Sequence[PathLike]) -> Dict[str, Optional[str]]:
    """``{path: sha1}`` for every input file; a missing file is ``None`` (so its appearance counts)."""
    return {p: (file_sha1(p) if Path(p).is_file() else None) for p in expand_inputs(paths)}


def entry_files(value: str) -> List[str]:
    """The files one wav.scp value reads: a path, an ark behind ``:offset``, files named in a pipe."""
    if value.endswith("|"):
        return [tok for tok in value[:-1].split() if os.path.isfile(tok)]
    ark = ARK_ENTRY.search(value)
    return [value[:ark.start() + len(".ark")] if ark else value]


def audio_files(wav_scp: PathLike) -> List[str]:
    """Every file a wav.scp reads."""
    return sorted({f for _, _, value in iter_table(wav_scp) for f in entry_files(value)})


def audio_digest(wav_scp: PathLike, previous: Optional[Mapping[str, List]] = None) -> AudioStats:
    """``{file: [size, mtime_ns, sha1]}``; a file unchanged in size and mtime keeps its old hash."""
    previous = previous or {}
    out: AudioStats = {}
    for path in audio_files(wav_scp):
        try:
            st = os.stat(path)
        except OSError:
            out[path] = [None, None, None]  # missing: the stage's validator says so
            continue
        old = previous.get(path)
        if old and old[0] == st.st_size and old[1] == st.st_mtime_ns and old[2]:
            out[path] = [st.st_size, st.st_mtime_ns, old[2]]
        else:
            out[path] = [st.st_size, st.st_mtime_ns, file_sha1(path)]
    return out


def combined(digests: Mapping[str, object]) -> str:
    """One short digest of a mapping (sorted keys), for names and provenance."""
    h = hashlib.sha1()
    for key in sorted(digests):
        h.update(f"{key}\0{digests[key]}\n".encode("utf-8"))
    return h.hexdigest()[:16]
