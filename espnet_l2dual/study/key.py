"""What makes a model, as one short key: the record's name in the study store.

A record is keyed by what made it (resolved config, training options, seed, training data,
evaluation set), never by the toolkit commit: the same key on a fresh clone finds the
record and skips the training; anything else that changes is a new key, a new record.
Data are digested through their transcripts, speakers and utterance ids (audio paths
differ between machines; the audio of a corpus follows from its adapter and options).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Sequence

from espnet_l2dual.errors import DataError
from espnet_l2dual.utils.config_file import config_digest, load_config
from espnet_l2dual.utils.digest import file_sha1
from espnet_l2dual.utils.fileio import PathLike

# the files of a Kaldi data dir that say what the data are (wav.scp: only its ids)
DATA_FILES = ("text_surface", "text_meaning", "text_canonical", "utt2spk", "utt2l1", "utt2twin")
KEY_LENGTH = 16


def _wav_ids_sha1(wav_scp: Path) -> str:
    ids = [line.split(maxsplit=1)[0] for line in wav_scp.read_text(encoding="utf-8").splitlines() if line.strip()]
    return hashlib.sha1("\n".join(ids).encode("utf-8")).hexdigest()


def data_dir_digest(data_dir: PathLike) -> str:
    """sha1 of a data dir's transcripts, speakers and utterance ids; DataError if it is not there."""
    d = Path(data_dir)
    if not (d / "wav.scp").is_file():
        raise DataError(d / "wav.scp", None, "not found: the data dir must be prepared (stage 1) before its key")
    parts = {"wav.scp ids": _wav_ids_sha1(d / "wav.scp")}
    parts.update({name: file_sha1(d / name) for name in DATA_FILES if (d / name).is_file()})
    return hashlib.sha1(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()


def key_inputs(lang: str, config: PathLike, seed: Optional[int], train_dirs: Sequence[PathLike],
               eval_dir: PathLike, eval_set: str, train_args: str = "", run_args: str = "",
               recipe_run_sh: Optional[PathLike] = None, corpus: str = "") -> Dict[str, Any]:
    """Everything the key is made of (stored beside the record, so a changed key can be explained).

    ``seed``: the ``--seed`` given, else the resolved config's own ``seed``.
    """
    if seed is None:
        seed = load_config(config).get("seed")
    return {
        "lang": lang,
        "corpus": corpus,
        "config_sha1": config_digest(config),
        "train_args": " ".join(train_args.split()),
        "run_args": " ".join(run_args.split()),
        "recipe_run_sh_sha1": file_sha1(recipe_run_sh) if recipe_run_sh else None,
        "seed": seed,
        "data": {Path(d).name: data_dir_digest(d) for d in train_dirs},
        "eval_set": eval_set,
        "eval_data": data_dir_digest(eval_dir),
    }


def make_key(inputs: Mapping[str, Any]) -> str:
    """The record key: a short sha1 of the key inputs (order-independent)."""
    return hashlib.sha1(json.dumps(inputs, sort_keys=True).encode("utf-8")).hexdigest()[:KEY_LENGTH]


def group_key(model_keys: Sequence[str], analysis_options: str = "") -> str:
    """A seed group's analysis is made by its models (and the analysis options)."""
    blob = json.dumps({"models": sorted(model_keys), "options": " ".join(analysis_options.split())})
    return hashlib.sha1(blob.encode("utf-8")).hexdigest()[:KEY_LENGTH]
