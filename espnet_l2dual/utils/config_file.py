"""Training configs defined once: a YAML file may say ``base: <file>`` and override only some keys.

    # egs2/l2ko/asr1/conf/tuning/train_mtl_tiny.yaml
    base: ../../../../TEMPLATE/asr1/conf/tuning/train_mtl_tiny.yaml
    max_epoch: 10

The base is loaded first (recursively: it may have a base of its own) and the file's other
keys are merged over it: mappings merge key by key (unless they say ``replace_base: true``),
anything else (a list, a scalar, ``null``) replaces the base's value. ``base`` is relative to the directory of the file *as named*, not
where a symlink points: a method file that lives in TEMPLATE and is symlinked into a recipe
(``base: train_mtl_tiny.yaml``) builds on that recipe's own MTL config.

ESPnet's parser knows nothing of ``base``: whatever hands a config to it uses the resolved
content (``write_resolved``, ``resolve_config_option``); whatever decides whether a config
changed digests the resolved content (``config_digest``), so an edited base counts.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import yaml

from espnet_l2dual.errors import DataError
from espnet_l2dual.utils import digest
from espnet_l2dual.utils.fileio import PathLike, atomic_write

BASE_KEY = "base"
# ``frontend_conf: {replace_base: true, model: ...}``: this mapping replaces the base's instead of
# merging into it (another front end takes none of the fbank front end's options)
REPLACE_KEY = "replace_base"
RESOLVED_NAME = "train_config.resolved.yaml"
_BASE_LINE = re.compile(rf"^{BASE_KEY}\s*:")


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> Dict[str, Any]:
    """``over`` merged onto ``base`` (new dicts; neither input is changed).

    Mappings merge recursively so an override names only the keys it changes; a list or
    scalar replaces as a whole (``tasks: [surface]`` must not be appended to the base's list);
    a mapping with ``replace_base: true`` replaces the base's mapping (the key itself dropped).
    """
    out: Dict[str, Any] = {k: (deep_merge({}, v) if isinstance(v, Mapping) else v) for k, v in base.items()}
    for key, value in over.items():
        if isinstance(value, Mapping) and value.get(REPLACE_KEY) is True:
            out[key] = deep_merge({}, {k: v for k, v in value.items() if k != REPLACE_KEY})
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = deep_merge({}, value) if isinstance(value, Mapping) else value
    return out


def _read_one(path: Path) -> Dict[str, Any]:
    """One file's own keys (``base`` included); every problem is a DataError naming file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise DataError(path, None, f"cannot read the config ({e.strerror})") from None
    except UnicodeDecodeError as e:
        raise DataError(path, None, f"cannot read the config (not UTF-8: {e.reason})") from None
    try:
        conf = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise DataError(path, mark.line + 1 if mark is not None else None,
                        f"not valid YAML ({getattr(e, 'problem', None) or e})") from None
    if conf is None:
        return {}
    if not isinstance(conf, dict):
        raise DataError(path, None, f"a training config is a mapping of keys, not {type(conf).__name__}")
    return conf


def _base_line(path: Path) -> Optional[int]:
    """The line of the top-level ``base:`` key (for error messages)."""
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if _BASE_LINE.match(line):
            return no
    return None


def _chain(path: PathLike) -> List[Tuple[Path, Dict[str, Any]]]:
    """``[(file, its own keys)]`` from the root base to ``path`` itself."""
    files: List[Tuple[Path, Dict[str, Any]]] = []
    seen: List[Tuple[str, str]] = []
    current = Path(path)
    while True:
        # what the next base resolves to depends on the real file and on the directory it was
        # named in; the same pair twice is a cycle
        state = (os.path.realpath(current), os.path.realpath(current.parent))
        if state in seen:
            names = " -> ".join(str(p) for p, _ in files) + f" -> {current}"
            first = files[-1][0]
            raise DataError(first, _base_line(first), f"the bases form a cycle: {names}")
        seen.append(state)
        conf = _read_one(current)
        files.append((current, conf))
        if BASE_KEY not in conf:
            break
        base = conf[BASE_KEY]
        if not isinstance(base, str) or not base.strip():
            raise DataError(current, _base_line(current),
                            f"'{BASE_KEY}' must be a path to a YAML file, got {base!r}")
        nxt = current.parent / base
        if not nxt.is_file():
            raise DataError(current, _base_line(current),
                            f"{BASE_KEY} '{base}' does not exist (looked for {nxt})")
        current = nxt
    files.reverse()
    return files


def config_chain(path: PathLike) -> List[Path]:
    """The files that make ``path``: the root base first, ``path`` itself last (paths as named)."""
    return [p for p, _ in _chain(path)]


def load_config(path: PathLike) -> Dict[str, Any]:
    """The resolved config: every base merged, the ``base`` keys removed."""
    out: Dict[str, Any] = {}
    for _, conf in _chain(path):
        out = deep_merge(out, {k: v for k, v in conf.items() if k != BASE_KEY})
    return out


def config_digest(path: PathLike) -> str:
    """SHA-1 of the resolved content: changes when any file of the chain changes a value.

    Key order, comments and layout do not count (moving keys into a base is no new config).
    """
    return digest.text_sha1(json.dumps(load_config(path), sort_keys=True, ensure_ascii=False, default=str))


def write_resolved(path: PathLike, out: PathLike) -> Path:
    """Write the resolved config of ``path`` to ``out`` atomically (a plain YAML ESPnet can read)."""
    conf = load_config(path)
    with atomic_write(out) as f:
        f.write(f"# {path} resolved (every base merged); written for ESPnet's --config\n")
        yaml.safe_dump(conf, f, allow_unicode=True, sort_keys=False, default_flow_style=False)
    return Path(out)


def _last_option(argv: Sequence[str], name: str) -> Tuple[Optional[int], Optional[str]]:
    """(index, value) of the last ``--name VALUE`` / ``--name=VALUE`` (argparse keeps the last)."""
    found: Tuple[Optional[int], Optional[str]] = (None, None)
    for i, a in enumerate(argv):
        if a == f"--{name}" and i + 1 < len(argv):
            found = (i, argv[i + 1])
        elif a.startswith(f"--{name}="):
            found = (i, a.split("=", 1)[1])
    return found


def config_option(argv: Sequence[str]) -> Optional[Path]:
    """The ``--config`` a command line names (the last one), or None."""
    _, value = _last_option(argv, "config")
    return Path(value) if value is not None else None


def resolve_config_option(argv: Sequence[str], out_dir: PathLike) -> List[str]:
    """``argv`` with its ``--config FILE`` replaced by ``out_dir/train_config.resolved.yaml``.

    ESPnet's parser rejects unknown keys such as ``base``, so it must read the resolved file.
    Without ``--config`` the command line is returned unchanged.
    """
    argv = list(argv)
    index, value = _last_option(argv, "config")
    if index is None or value is None:
        return argv
    resolved = str(write_resolved(value, Path(out_dir) / RESOLVED_NAME))
    if argv[index] == "--config":
        argv[index + 1] = resolved
    else:
        argv[index] = f"--config={resolved}"
    return argv


def output_dir_option(argv: Sequence[str]) -> Optional[Path]:
    """The ``--output_dir`` a command line names (the last one), or None."""
    _, value = _last_option(argv, "output_dir")
    return Path(value) if value is not None else None


def frontend_tag(conf: dict) -> str:
    """'' for ESPnet's default front end, else ``_<name><sha1 of frontend_conf, 8 hex>``."""
    name = conf.get("frontend") or "default"
    if name == "default":
        return ""
    blob = json.dumps(conf.get("frontend_conf") or {}, sort_keys=True, ensure_ascii=False)
    return f"_{name}{hashlib.sha1(blob.encode('utf-8')).hexdigest()[:8]}"
