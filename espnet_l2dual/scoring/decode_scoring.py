"""Stage 9: score decoded outputs (CER/WER, + JER for Korean, + TER/PER for token/phone outputs).

For each set and output with a hypothesis file ``<decode_dir>/<set>/<output>/text``
the reference is ``<data_root>/<set>/text_<output>``. sclite reports go to
``<decode_dir>/<set>/<output>/score_<kind>/``; every total is recounted with jiwer
and a disagreement stops the stage. Results per divergence bin use
``<data_root>/<set>/utt2divergence``. Writes results.json and RESULTS.md atomically.

Each output's entry names its headline error rate by unit (``"headline": {"name": "PER",
"kind": "ter", "unit": "phone", "value": ..., "score_subdir": "score_ter"}``; CER for
characters): the cross-language report and stage 10 judge the output by it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import yaml

from espnet_l2dual.errors import DataError
from espnet_l2dual.outputs import OUTPUTS
from espnet_l2dual.scoring.by_divergence import parse_bins, rates_by_divergence, read_divergence
from espnet_l2dual.scoring.cross_check import assert_agree, jiwer_counts
from espnet_l2dual.scoring.mdd_scoring import score_mdd
from espnet_l2dual.scoring.sclite import run_sclite
from espnet_l2dual.scoring.units import headline, kinds_for, to_units, unit_from_config
from espnet_l2dual.utils.fileio import iter_table, read_table

log = logging.getLogger("espnet_l2dual.score")


def read_hyps(hyp_path: Path, ref: Mapping[str, str], ref_path: Path) -> Dict[str, str]:
    """Read hypotheses (an empty one is ``utt`` alone); an id not in the reference is an error."""
    hyps: Dict[str, str] = {}
    for no, utt, text in iter_table(hyp_path, allow_empty_value=True):
        if utt not in ref:
            raise DataError(hyp_path, no, f"hypothesis id '{utt}' is not in the reference {ref_path}")
        if utt in hyps:
            raise DataError(hyp_path, no, f"duplicate id '{utt}'")
        hyps[utt] = text
    missing = [u for u in ref if u not in hyps]
    if missing:
        log.warning("%s: %d of %d reference utterances have no hypothesis (scored as empty), "
                    "e.g. %s", hyp_path, len(missing), len(ref), ", ".join(missing[:3]))
    return hyps


def score_output(
    ref_path: Path, hyp_path: Path, score_root: Path, lang: str, unit: str,
    utt2spk: Optional[Mapping[str, str]], utt2div: Optional[Mapping[str, float]], bins_spec: str,
) -> dict:
    """Score one output of one set; returns its results.json entry."""
    ref = read_table(ref_path)
    hyps = read_hyps(hyp_path, ref, ref_path)
    entry: dict = {"n_utt": len(ref), "n_missing_hyp": sum(1 for u in ref if u not in hyps)}
    counts: dict = {}
    units: Dict[str, Dict[str, Tuple[List[str], List[str]]]] = {}
    for kind in kinds_for(lang, unit):
        ref_units = {u: to_units(t, kind, lang) for u, t in ref.items()}
        hyp_units = {u: to_units(hyps.get(u, ""), kind, lang) for u in ref}
        sc = run_sclite(score_root / f"score_{kind}", ref_units, hyp_units, utt2spk)
        jw = jiwer_counts(ref_units, hyp_units)
        if not assert_agree(sc, jw, f"{hyp_path} {kind.upper()}"):
            log.info("%s %s: sclite chose an equal-cost alignment with more edits "
                     "(%d vs %d, %.4f%% vs %.4f%%); reporting sclite", hyp_path, kind.upper(),
                     sc.errors, jw.errors, sc.rate, jw.rate)
        entry[kind] = sc.rate
        counts[kind] = {**sc.as_dict(), "err_min_edit": jw.rate}
        units[kind] = {u: (ref_units[u], hyp_units[u]) for u in ref}
    entry["counts"] = counts
    head = headline(unit)
    entry["headline"] = head.to_json(entry[head.kind])
    if utt2div is not None:
        unknown = [u for u in ref if u not in utt2div]
        if unknown:
            log.warning("%s: %d utterances have no divergence and are left out of the bins",
                        ref_path, len(unknown))
        entry["by_divergence"] = rates_by_divergence(
            parse_bins(bins_spec), utt2div, {k: units[k] for k in dict.fromkeys(("cer", "wer", head.kind))}, utt2spk)
    else:
        entry["by_divergence"] = []
    return entry


def default_units(model_config: Optional[Path], given: Optional[Mapping[str, Optional[str]]] = None) -> Dict[str, str]:
    """Each output's unit: the one ``given``, else from the model's config.yaml
    (:func:`units.unit_from_config`), else ``char``."""
    conf = {}
    if model_config is not None and model_config.is_file():
        conf = yaml.safe_load(model_config.read_text(encoding="utf-8")) or {}
    return {o: (given or {}).get(o) or unit_from_config(conf, o) for o in OUTPUTS}


def score_sets(decode_dir: Path, data_root: Path, sets: Sequence[str], outputs: Sequence[str], lang: str,
               units: Mapping[str, str], bins: str, results_dir: Path) -> dict:
    """``{set: {output: entry}}`` for every set and output with hypotheses; ``score_dir`` is relative to
    ``results_dir`` (where results.json goes), for paired tests between systems."""
    results: dict = {}
    for set_name in sets:
        data_dir = data_root / set_name
        hyp_paths = {out: decode_dir / set_name / out / "text" for out in outputs}
        for out, hyp_path in hyp_paths.items():
            if not hyp_path.is_file():
                log.info("no hypotheses at %s: skipped", hyp_path)
        hyp_paths = {out: p for out, p in hyp_paths.items() if p.is_file()}
        if not hyp_paths:
            continue
        utt2spk_path, div_path = data_dir / "utt2spk", data_dir / "utt2divergence"
        utt2spk = read_table(utt2spk_path) if utt2spk_path.is_file() else None
        utt2div = read_divergence(div_path) if div_path.is_file() else None
        if utt2div is None:
            log.warning("%s not found: no per-divergence results for %s", div_path, set_name)
        for out, hyp_path in hyp_paths.items():
            ref_path = data_dir / f"text_{out}"
            if not ref_path.is_file():
                raise DataError(ref_path, None, f"reference for output '{out}' not found")
            log.info("scoring %s against %s", hyp_path, ref_path)
            entry = score_output(ref_path, hyp_path, hyp_path.parent, lang,
                                 units.get(out, "char"), utt2spk, utt2div, bins)
            # where the sclite trn files are, for paired tests between systems (make_report)
            entry["score_dir"] = os.path.relpath(hyp_path.parent, results_dir)
            results.setdefault(set_name, {})[out] = entry
            log.info("%s %s: headline %s %.2f%% (%s)", set_name, out, entry["headline"]["name"],
                     entry["headline"]["value"], "  ".join(
                         f"{k.upper()} {entry[k]:.2f}%" for k in ("cer", "wer", "jer", "ter") if k in entry))
        if "surface" in hyp_paths:  # mispronunciation detection where the data dir has text_canonical
            meaning = read_table(hyp_paths["meaning"], allow_empty_value=True) if "meaning" in hyp_paths else None
            mdd = score_mdd(data_dir, read_table(hyp_paths["surface"], allow_empty_value=True), meaning,
                            lang, units.get("surface", "char"), utt2div, bins,
                            out_dir=hyp_paths["surface"].parent / "score_mdd", utt2spk=utt2spk)
            if mdd is not None:
                results[set_name]["surface"]["mdd"] = mdd
                p = mdd["prompted"]
                log.info("%s surface MDD (prompted, %s): precision %s recall %s F1 %s", set_name, mdd["units"],
                         p["precision"], p["recall"], p["f1"])
    return results
