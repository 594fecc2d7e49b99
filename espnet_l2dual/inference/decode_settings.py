"""The search settings a model's RESULTS.md numbers were decoded with, carried in its packed zip.

Stage 8 decodes with the recipe's ``conf/decode_asr.yaml`` (``--inference_config``) and any option
given over it; it records the options in effect per decoded set (``.stage8.json``, the CTC weight
of the search as ``ctc_weight``) and stage 9 copies them into
``results.json`` (``provenance.decode.<dir>.options``).  Stage 11 packs them as ``decode.yaml``
so that ``transcribe`` and ``Speech2DualText.from_packed`` decode a shared model as it was
scored, not with their own defaults (a different CTC weight or beam gives other hypotheses).
An option given explicitly still wins; a zip packed before this carries none and decodes with
the defaults of :class:`~espnet_l2dual.inference.options.DecodeOptions`.
"""

from __future__ import annotations

import argparse
import json
import shlex
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

import yaml

from espnet_l2dual.errors import DataError
from espnet_l2dual.inference.options import DEFAULTS, OVERRIDABLE, TYPES, add_search_arguments
from espnet_l2dual.outputs import OUTPUTS
from espnet_l2dual.utils.fileio import PathLike

DECODE_YAML = "decode.yaml"
DEFAULT_BATCH_SIZE = 16  # transcribe's files per batched search when the zip records none
HEADER = ("# the search settings the model's RESULTS.md numbers were decoded with (stage 8);\n"
          "# transcribe and Speech2DualText.from_packed use them unless an option is given\n")


class _RecordParser(argparse.ArgumentParser):
    """Stage 8's decoder options, parsed as ``l2dual_inference`` parsed them; errors raise."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise ValueError(message)


def _record_parser() -> _RecordParser:
    p = _RecordParser(add_help=False)
    add_search_arguments(p, OUTPUTS)
    p.add_argument("--batch_size", type=int, default=None)
    return p


def _from_record(options: Mapping[str, Any]) -> Dict[str, Any]:
    """One set's effective settings: stage 8's options and its ``inference_args`` as the decoder saw them."""
    argv: List[str] = []
    for name in (*OVERRIDABLE, "batch_size"):
        if str(options.get(name, "")) != "":
            argv += [f"--{name}", str(options[name])]
    argv += shlex.split(str(options.get("inference_args", "")))
    args, other = _record_parser().parse_known_args(argv)
    overrides = {o: {n: getattr(args, f"{o}_{n}") for n in OVERRIDABLE if getattr(args, f"{o}_{n}") is not None}
                 for o in OUTPUTS}
    out: Dict[str, Any] = {"model": str(options.get("inference_model", "")) or None,
                           "options": {n: getattr(args, n) for n in OVERRIDABLE},
                           "output_overrides": {o: v for o, v in overrides.items() if v},
                           "batch_size": args.batch_size}
    if other:  # decoder options that are not search settings (--outputs ...): kept, told apart
        out["other_inference_args"] = other
    return out


def _flat(s: Mapping[str, Any]) -> Dict[str, Any]:
    """What makes hypotheses differ, one level deep (batch size does not: same n-best)."""
    flat = {"model": s["model"], **s["options"]}
    flat.update({f"{o}_{n}": v for o, opts in s["output_overrides"].items() for n, v in opts.items()})
    if s.get("other_inference_args"):
        flat["inference_args"] = " ".join(s["other_inference_args"])
    return flat


def from_results(results_json: PathLike, model_file: PathLike) -> Optional[Dict[str, Any]]:
    """The settings every scored set of ``results.json`` was decoded with, for packing ``model_file``.

    None when it records no decode options (scored before they were recorded).  Refuses
    (``DataError``) sets decoded with different settings, and a model file other than the one
    the numbers were scored with.
    """
    results_json = Path(results_json)
    try:
        results = json.loads(results_json.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise DataError(results_json, None, f"cannot read the scored results ({e})") from None
    decode = ((results.get("provenance") or {}).get("decode") or {}) if isinstance(results, dict) else {}
    per_set: Dict[str, Dict[str, Any]] = {}
    for where, rec in decode.items():
        options = (rec or {}).get("options") if isinstance(rec, dict) else None
        if not options:  # a record without options tells nothing about the search
            continue
        try:
            per_set[Path(where).name] = _from_record(options)
        except ValueError as e:
            raise DataError(results_json, None, f"provenance.decode.{where}: bad decode option ({e})") from None
    if not per_set:
        return None
    groups: Dict[str, List[str]] = {}
    for name, s in per_set.items():
        groups.setdefault(json.dumps(_flat(s), sort_keys=True), []).append(name)
    if len(groups) > 1:
        flats = [json.loads(k) for k in groups]
        keys = sorted({k for f in flats for k in f if any(g.get(k) != f.get(k) for g in flats)})
        parts = [f"{', '.join(sorted(names))} ({' '.join(f'{k}={f.get(k)}' for k in keys)})"
                 for f, names in zip(flats, groups.values())]
        raise DataError(results_json, None, f"the scored sets were decoded with different settings: "
                        f"{' vs '.join(parts)}; decode them alike (stage 8) before packing")
    first = next(iter(per_set.values()))
    batch_sizes = {s["batch_size"] for s in per_set.values()}
    settings = {**first, "batch_size": batch_sizes.pop() if len(batch_sizes) == 1 else None,
                "sets": sorted(per_set)}
    _check_model(results_json, settings["model"], Path(model_file))
    return settings


def _check_model(results_json: Path, scored: Optional[str], model_file: Path) -> None:
    """The numbers belong to the model file they were decoded with: packing another would mislabel them."""
    if not scored:
        return
    candidate = results_json.parent / scored
    same = candidate.resolve() == model_file.resolve() if candidate.exists() else Path(scored).name == model_file.name
    if not same:
        raise DataError(results_json, None, f"the scored sets were decoded with {scored}, "
                        f"not {model_file}: pack {candidate}")


def for_packing(results_json: Optional[PathLike], model_file: PathLike) -> Tuple[Path, Optional[Dict[str, Any]]]:
    """(results.json, its settings or None) for packing ``model_file``: the one given, else the one
    beside the model when there is one. A given one that is missing is refused (``DataError``)."""
    results = Path(results_json) if results_json else Path(model_file).parent / "results.json"
    if results_json and not results.is_file():
        raise DataError(results, None, "scored results not found")
    return results, (from_results(results, model_file) if results.is_file() else None)


def packing_line(results: Path, settings: Optional[Mapping[str, Any]]) -> str:
    """What was packed as decode.yaml, and from where; a note when nothing was."""
    if settings is None:
        why = f"{results} records none" if results.is_file() else f"no {results}"
        return f"note: packed without decode settings ({why}): transcribe will use its defaults"
    return f"decode settings of {', '.join(settings['sets'])} (from {results}): " + summary(settings)


def summary(settings: Mapping[str, Any]) -> str:
    """One line of packed settings: ``model=... beam_size=3 ctc_weight=0.5 ...``."""
    text = " ".join(f"{k}={v}" for k, v in {"model": settings.get("model"), **settings["options"]}.items())
    for o, opts in settings.get("output_overrides", {}).items():
        text += f"; {o}: " + " ".join(f"{n}={v}" for n, v in opts.items())
    return text + (f"; batch_size={settings['batch_size']}" if settings.get("batch_size") else "")


def dump(settings: Mapping[str, Any]) -> str:
    """``decode.yaml``'s text."""
    body = {k: v for k, v in settings.items() if v not in (None, {}, [])}
    return HEADER + yaml.safe_dump(body, allow_unicode=True, sort_keys=False)


def read_packed(zip_path: PathLike) -> Optional[Dict[str, Any]]:
    """The packed settings of a zip, or None for a zip packed without them."""
    where = f"{zip_path}:{DECODE_YAML}"
    try:
        with zipfile.ZipFile(zip_path) as zf:
            if DECODE_YAML not in zf.namelist():
                return None
            settings = yaml.safe_load(zf.read(DECODE_YAML).decode("utf-8"))
    except (zipfile.BadZipFile, yaml.YAMLError, UnicodeDecodeError) as e:
        raise DataError(where, None, f"cannot read ({type(e).__name__}: {e})") from None
    if not isinstance(settings, dict) or not isinstance(settings.get("options", {}), dict) \
            or not isinstance(settings.get("output_overrides", {}), dict):
        raise DataError(where, None, "expected a mapping with 'options' and 'output_overrides' mappings")
    options = _typed(where, settings.get("options") or {})
    overrides = {}
    for o, opts in (settings.get("output_overrides") or {}).items():
        if o not in OUTPUTS or not isinstance(opts, dict):
            raise DataError(where, None, f"output_overrides: '{o}' is not an output with a mapping of options")
        overrides[o] = _typed(where, opts)
    batch = settings.get("batch_size")
    if batch is not None and (not isinstance(batch, int) or batch < 1):
        raise DataError(where, None, f"batch_size must be a positive integer, got {batch!r}")
    return {**settings, "options": options, "output_overrides": overrides}


def _typed(where: str, opts: Mapping[str, Any]) -> Dict[str, Any]:
    out = {}
    for name, value in opts.items():
        if name not in OVERRIDABLE:
            raise DataError(where, None, f"unknown search option '{name}' (known: {', '.join(OVERRIDABLE)})")
        ok = isinstance(value, int) if TYPES[name] is int else isinstance(value, (int, float))
        if not ok or isinstance(value, bool):
            raise DataError(where, None, f"{name} must be a {TYPES[name].__name__}, got {value!r}")
        out[name] = TYPES[name](value)
    return out


@dataclass(frozen=True)
class SearchSettings:
    """The settings a packed model decodes with, and where each came from (given, packed, default)."""

    options: Dict[str, Any]
    output_overrides: Dict[str, Dict[str, Any]]
    batch_size: int
    origin: Dict[str, str] = field(default_factory=dict)
    packed: bool = False

    def describe(self) -> str:
        """``beam_size=3 ctc_weight=0.5 ...`` and where each came from."""
        text = " ".join(f"{n}={v}" for n, v in {**self.options, "batch_size": self.batch_size}.items())
        for o, opts in self.output_overrides.items():
            text += f"; {o}: " + " ".join(f"{n}={v}" for n, v in opts.items())
        sources: Dict[str, List[str]] = {}
        for name, where in self.origin.items():
            sources.setdefault(where, []).append(name)
        said = {"given": "given", "packed": "packed (as its RESULTS.md was decoded)", "default": "default"}
        return f"{text} ({'; '.join(said[w] + ': ' + ', '.join(n) for w, n in sources.items())})"


def resolve(packed: Optional[Mapping[str, Any]], given: Mapping[str, Any],
            given_overrides: Optional[Mapping[str, Mapping[str, Any]]] = None,
            given_batch_size: Optional[int] = None) -> SearchSettings:
    """An option given (not None) wins; else the packed one; else the default."""
    p_opts = dict((packed or {}).get("options") or {})
    options: Dict[str, Any] = {}
    origin: Dict[str, str] = {}
    for name in OVERRIDABLE:
        if given.get(name) is not None:
            options[name], origin[name] = given[name], "given"
        elif name in p_opts:
            options[name], origin[name] = p_opts[name], "packed"
        else:
            options[name], origin[name] = DEFAULTS[name], "default"
    overrides: Dict[str, Dict[str, Any]] = {}
    for o, opts in ((packed or {}).get("output_overrides") or {}).items():  # a given option beats them too
        kept = {n: v for n, v in opts.items() if origin[n] != "given"}
        if kept:
            overrides[o] = kept
    for o, opts in (given_overrides or {}).items():
        overrides.setdefault(o, {}).update({n: v for n, v in opts.items() if v is not None})
    batch = given_batch_size if given_batch_size is not None else (packed or {}).get("batch_size")
    origin["batch_size"] = "given" if given_batch_size is not None else "packed" if batch else "default"
    return SearchSettings(options, {o: v for o, v in overrides.items() if v}, batch or DEFAULT_BATCH_SIZE,
                          origin, packed is not None)
