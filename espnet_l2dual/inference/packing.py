"""Pack a trained model into one zip for sharing (stage 11).

The zip holds everything decoding needs and nothing tied to the recipe directory:

    config.yaml        the training config, file paths rewritten to in-zip paths
    model.pth          the weights
    files/...          files the config points to (bpe models, feature stats, token lists)
    token_list/<o>.txt each output's token list, one token a line (for people and other tools)
    extra/...          anything given with --extra
    decode.yaml        the search settings the model's RESULTS.md numbers were decoded with
    meta.yaml          version, date, the file map and which config keys were rewritten

``Speech2DualText.from_packed(zip)`` unpacks it and decodes exactly as the original
(the packing itself is ``espnet_l2dual.inference.packing``), and ``transcribe`` decodes with
the settings of decode.yaml unless an option is given.  They come from ``--results_json``
(stage 9's ``results.json``, which records stage 8's options per scored set); sets decoded
with different settings are refused, since no one setting reproduces their numbers.

    python -m espnet_l2dual.bin.pack_model --train_config exp/x/config.yaml \\
        --model_file exp/x/valid.acc.ave.pth --results_json exp/x/results.json --out exp/x/packed.zip

Paths are rewritten both ways with ESPnet's own rule (``pack_funcs.find_path_and_change_it_recursive``:
a config value equal to a file's path becomes its new path). ESPnet's ``pack``/``unpack`` themselves
are not used: ``pack`` writes its own ``meta.yaml`` (ours carries the training stack and the decode
settings) and names members after the cwd-relative source paths, and ``unpack`` extracts in place,
so a killed run would leave a half cache that looks whole.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import yaml
from espnet2.main_funcs.pack_funcs import find_path_and_change_it_recursive

import espnet_l2dual
from espnet_l2dual.compat import stack
from espnet_l2dual.errors import DataError
from espnet_l2dual.inference import decode_settings
from espnet_l2dual.utils.fileio import PathLike, atomic_write

PACK_META = "meta.yaml"
RESOLVED_CONFIG = "config.resolved.yaml"
FORMAT = "espnet_l2dual-packed-model"


def _is_packable_key(key: str) -> bool:
    """Config keys whose string value is a file the model needs at decode time.

    Data paths (``*_data_path_and_name_and_type``, shape files) are deliberately left
    out: they belong to the recipe, not to the model.
    """
    return key.endswith("bpemodel") or key.endswith("token_list") or key == "stats_file"


def _file_keys(conf: Any, prefix: str = "") -> Iterator[Tuple[str, str]]:
    """Yield ``(dotted.key, path)`` for every packable string value that names a file."""
    if isinstance(conf, dict):
        for key, value in conf.items():
            dotted = f"{prefix}{key}"
            if isinstance(value, str) and _is_packable_key(str(key)) and Path(value).is_file():
                yield dotted, value
            elif isinstance(value, dict):
                yield from _file_keys(value, dotted + ".")


def _versions(train_config: PathLike) -> Dict[str, str]:
    """The stack the model was trained with (stage 7 provenance), else this one; read at load."""
    return {"espnet_l2dual": espnet_l2dual.__version__,
            **(stack.recorded_versions(train_config) or stack.stack_versions())}


def pack(train_config: PathLike, model_file: PathLike, out: PathLike,
         extra: Sequence[PathLike] = (), settings: Optional[Dict[str, Any]] = None) -> Path:
    """Write the packed zip atomically and return its path.

    ``settings``: the search settings the model was scored with
    (:func:`decode_settings.from_results`), packed as ``decode.yaml``; None packs none."""
    for path, what in [(train_config, "training config"), (model_file, "model file")] + \
            [(e, "extra file") for e in extra]:
        if not Path(path).is_file():
            raise DataError(path, None, f"{what} not found")
    with open(train_config, encoding="utf-8") as f:
        try:
            conf = yaml.safe_load(f)
        except yaml.YAMLError as e:
            raise DataError(train_config, None, f"not valid YAML: {e}") from None
    if not isinstance(conf, dict):
        raise DataError(train_config, None, "training config is not a YAML mapping")

    members: Dict[str, Path] = {"model.pth": Path(model_file)}
    rewritten: Dict[str, str] = {}
    by_source: Dict[Path, str] = {}
    for dotted, value in list(_file_keys(conf)):
        source = Path(value).resolve()
        if source not in by_source:  # one copy per file, names kept unique
            name = f"files/{dotted.replace('.', '_')}/{source.name}"
            by_source[source] = name
            members[name] = source
        rewritten[dotted] = by_source[source]
        conf = find_path_and_change_it_recursive(conf, value, by_source[source])
    for e in extra:
        members[f"extra/{Path(e).name}"] = Path(e)

    token_lists: Dict[str, List[str]] = {}
    for key, value in conf.items():
        if key.endswith("_token_list") and isinstance(value, list):
            token_lists[f"token_list/{key[: -len('_token_list')]}.txt"] = [str(t) for t in value]

    meta = {
        "format": FORMAT,
        "version": _versions(train_config),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "files": {"config": "config.yaml", "model": "model.pth",
                  **({"decode": decode_settings.DECODE_YAML} if settings is not None else {}),
                  "other": sorted(n for n in members if n != "model.pth") + sorted(token_lists)},
        "rewritten": rewritten,
    }
    out = Path(out)
    with atomic_write(out, mode="wb") as f:
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("config.yaml", yaml.safe_dump(conf, allow_unicode=True, sort_keys=False))
            for name, source in members.items():
                zf.write(source, name)
            for name, tokens in token_lists.items():
                zf.writestr(name, "".join(f"{t}\n" for t in tokens))
            if settings is not None:
                zf.writestr(decode_settings.DECODE_YAML, decode_settings.dump(settings))
            zf.writestr(PACK_META, yaml.safe_dump(meta, allow_unicode=True, sort_keys=False))
    return out


# ------------------------------------------------------------------ unpacking


def _sha256(path: PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def default_cache_dir() -> Path:
    return Path(os.environ.get("ESPNET_L2DUAL_CACHE") or Path.home() / ".cache" / "espnet_l2dual")


def unpack(zip_path: PathLike, cache_dir: Optional[PathLike] = None) -> Tuple[Path, Path]:
    """Extract a packed model once (keyed by its sha256) and return ``(config, model_file)``.

    The config inside the zip holds in-zip relative paths; the extracted copy gets a
    ``config.resolved.yaml`` with those paths made absolute, so decoding works from any cwd.
    Extraction goes to a temp dir renamed into place, so a killed run leaves no half cache.
    """
    zip_path = Path(zip_path)
    if not zip_path.is_file():
        raise DataError(zip_path, None, "packed model not found")
    root = (Path(cache_dir) if cache_dir else default_cache_dir()).resolve()
    target = root / _sha256(zip_path)[:16]
    try:
        with zipfile.ZipFile(zip_path) as zf:
            meta = yaml.safe_load(zf.read(PACK_META).decode("utf-8"))
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise DataError(zip_path, None, f"{PACK_META} does not describe a {FORMAT}")
            if not (target / RESOLVED_CONFIG).is_file():
                root.mkdir(parents=True, exist_ok=True)
                tmp = Path(tempfile.mkdtemp(prefix=".unpack.", dir=root))
                try:
                    zf.extractall(tmp)
                    _write_resolved_config(tmp, meta, final=target)
                    shutil.rmtree(target, ignore_errors=True)
                    os.replace(tmp, target)
                except OSError:
                    if not (target / RESOLVED_CONFIG).is_file():  # not a concurrent unpack: real error
                        raise
                finally:
                    shutil.rmtree(tmp, ignore_errors=True)
    except (zipfile.BadZipFile, KeyError, yaml.YAMLError, UnicodeDecodeError) as e:
        raise DataError(zip_path, None, f"not a packed espnet_l2dual model ({type(e).__name__}: {e})") from None
    return target / RESOLVED_CONFIG, target / meta["files"]["model"]


def _write_resolved_config(root: Path, meta: Dict[str, Any], final: Path) -> None:
    """Write the config with in-zip paths made absolute under ``final`` (where ``root`` will be moved)."""
    with open(root / meta["files"]["config"], encoding="utf-8") as f:
        conf = yaml.safe_load(f)
    for rel in sorted(set((meta.get("rewritten") or {}).values())):
        conf = find_path_and_change_it_recursive(conf, rel, str(final / rel))
    with open(root / RESOLVED_CONFIG, "w", encoding="utf-8") as f:
        yaml.safe_dump(conf, f, allow_unicode=True, sort_keys=False)
