"""The trained model a post-training method starts from (l2dual.sh ``--init_model_dir exp/<tag>``).

Why: a post-trained model must read its input and write its tokens exactly as the model it
starts from, so its token lists and feature statistics are that model's own copies (stage 7
wrote them into its exp dir), never stages 5-6's of the new training set. Stage 7 then loads
its weights with ``--init_param``. A dir that lacks any of these is refused in one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Sequence

import yaml

from espnet_l2dual.utils import stage_record
from espnet_l2dual.utils.digest import file_sha1
from espnet_l2dual.utils.fileio import PathLike

TOKEN_TYPES = ("bpe", "char", "jamo", "word")


class InitModelError(ValueError):
    """The init model dir cannot be started from (the message names what is missing)."""


def _need(path: Path, what: str) -> Path:
    if not path.is_file():
        raise InitModelError(f"--init_model_dir: {path.as_posix()} not found ({what}); "
                             "give the exp dir of a model stage 7 trained")
    return path


def init_settings(init_dir: PathLike, inference_model: str, outputs: Sequence[str]) -> Dict[str, str]:
    """The shell settings stages 6-7 use instead of stage 5's: ``<output>_token_type``,
    ``<output>_token_dir`` per output, and ``init_param`` (the model file to start from)."""
    d = Path(init_dir)
    if not d.is_dir():
        raise InitModelError(f"--init_model_dir {d.as_posix()}: no such directory (train that model first)")
    why = stage_record.unfinished(d, "7")
    if why is not None:
        raise InitModelError(f"--init_model_dir {d.as_posix()}: {why} (train that model first)")
    conf_path = _need(d / "config.yaml", "the model's config")
    conf = yaml.safe_load(conf_path.read_text(encoding="utf-8")) or {}
    out = {}
    for o in outputs:
        tokens = _need(d / "token_list" / o / "tokens.txt", f"the {o} token list")
        ttype = conf.get(f"{o}_token_type")
        if ttype not in TOKEN_TYPES:
            raise InitModelError(f"{conf_path.as_posix()}: {o}_token_type is {ttype!r}, not one of "
                                 f"{', '.join(TOKEN_TYPES)}")
        if ttype == "bpe":
            _need(tokens.parent / "bpe.model", f"the {o} bpe model")
        out[f"{o}_token_type"] = ttype
        out[f"{o}_token_dir"] = tokens.parent.as_posix()
    _need(d / "feats_stats.npz", "the model's feature statistics")
    out["init_param"] = _need(d / inference_model, "the model's weights, --inference_model").as_posix()
    return out


def init_record(init_param: PathLike) -> Dict[str, str]:
    """What provenance.json says of the model a post-trained one started from."""
    p = Path(init_param)
    return {"dir": p.parent.as_posix(), "model": p.as_posix(), "sha1": file_sha1(p)}
