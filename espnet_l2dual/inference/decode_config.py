"""A recipe's decoding options file (``conf/decode_asr.yaml``, l2dual.sh ``--inference_config``).

As ESPnet's ``asr.sh --inference_config``: the options stage 8 decodes with, in one file per
recipe. l2dual.sh reads it after its command line, so an option given there wins over the file,
and the file over l2dual.sh's built-in defaults. Each value is kept as written (``0.5`` stays
``0.5``): the decode dir ``decode_beam<beam>_ctc<ctc>`` and stage 8's record name the same text as
the same option given on the command line, so results decoded before stay found.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Tuple

import yaml

from espnet_l2dual.errors import DataError
from espnet_l2dual.utils.fileio import PathLike

# YAML key -> (l2dual.sh option it sets, type, lowest value, highest value)
KEYS: Dict[str, Tuple[str, type, float, float]] = {
    "beam_size": ("beam_size", int, 1, float("inf")),
    "decode_ctc_weight": ("decode_ctc_weight", float, 0.0, 1.0),
    "penalty": ("penalty", float, float("-inf"), float("inf")),
    "maxlenratio": ("maxlenratio", float, float("-inf"), float("inf")),
    "batch_size": ("inference_batch_size", int, 1, float("inf")),
}
# keys ESPnet's decode_asr.yaml uses that mean something else here
RENAMED = {"ctc_weight": "decode_ctc_weight (ctc_weight is the training loss weight, model_conf of the train config)"}


def read(path: PathLike) -> Dict[str, str]:
    """l2dual.sh option -> the value as written in ``path``; a DataError (file:line) on a bad entry."""
    path = Path(path)
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise DataError(path, None, f"cannot read ({e.strerror})") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise DataError(path, mark.line + 1 if mark else None, f"not valid YAML ({getattr(e, 'problem', e)})") from None
    if root is None:
        return {}
    if not isinstance(root, yaml.MappingNode):
        raise DataError(path, root.start_mark.line + 1, "expected a mapping of decoding options (beam_size: 5 ...)")
    out: Dict[str, str] = {}
    for key_node, value_node in root.value:
        line, key = key_node.start_mark.line + 1, str(key_node.value)
        if key in RENAMED:
            raise DataError(path, line, f"'{key}': use {RENAMED[key]}")
        if key not in KEYS:
            raise DataError(path, line, f"unknown decoding option '{key}' (known: {', '.join(KEYS)})")
        option, kind, low, high = KEYS[key]
        out[option] = _checked(path, line, key, value_node, kind, low, high)
    return out


def _checked(path: Path, line: int, key: str, node: yaml.Node, kind: type, low: float, high: float) -> str:
    value = yaml.safe_load(yaml.serialize(node)) if isinstance(node, yaml.ScalarNode) else None
    ok = isinstance(value, int) if kind is int else isinstance(value, (int, float))
    if not ok or isinstance(value, bool):
        raise DataError(path, line, f"{key} must be {'an integer' if kind is int else 'a number'}, got {node.value!r}")
    if not low <= value <= high:
        bounds = f">= {low:g}" if high == float("inf") else f"in [{low:g}, {high:g}]"
        raise DataError(path, line, f"{key} must be {bounds}, got {node.value}")
    return str(node.value)


def shell_lines(path: PathLike) -> List[str]:
    """``name=value`` lines for l2dual.sh (it sets only the options its command line left unset)."""
    return [f"{name}={value}" for name, value in read(path).items()]
