"""Stage 10's error following: what each model's surface output does with the learner errors of the twin set.

Why: the divergence bins compare different utterances; a single-error twin differs from its
canonical twin by one learner error only, so whether a model writes the error it heard
(``follows``), the form the speaker meant (``normalises``) or something else can be read
per error (:mod:`espnet_l2dual.analysis.error_following`). An MTL model whose meaning task
pulls on the shared encoder may normalise more than the STL-surface model of its group;
that difference is measured on the same twins, both models resampled with one draw.

Per group: every model with a surface output (STL-surface and the MTL models), rates
overall and per error kind, and per MTL model the normalisation rate minus STL-surface's
(one Holm family per group). Intervals resample speakers, then original utterances (an
original's twins together). Without a decoded twin set the block is ``{"skipped": why}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

from espnet_l2dual.analysis.access import skipped
from espnet_l2dual.analysis.error_following import (NORMALISES, OUTCOMES, ErrorOutcome, classify_twins,
                                                    following_rates, rate_difference)
from espnet_l2dual.data.twin_map import parse_twin_value
from espnet_l2dual.errors import DataError
from espnet_l2dual.scoring.blocked_bootstrap import METHOD, Resampled
from espnet_l2dual.scoring.multiplicity import adjust_family
from espnet_l2dual.scoring.paired_bootstrap import interval_record
from espnet_l2dual.utils.fileio import iter_table, read_table

NO_TWIN_SET = ('no twin set (make one with --local_data_opts "--twins true": stage 1 writes data/eval_twins, '
               'which stages 3-4 and 8-9 then prepare, decode and score)')
UNIT = "speakers, then original utterances (the twins of one utterance are resampled together)"
DIGITS = 3


def _rate(r: Resampled) -> Dict[str, Any]:
    """A rate and its percentile interval as analysis.json stores it (``no_ci`` where there is none)."""
    ci = r.interval()
    out: Dict[str, Any] = {"rate": round(r.point, DIGITS), "n_units": r.n_utt, "n_speakers": r.n_spk,
                           "unit": r.unit}
    if ci is None:
        out.update(ci95=None, no_ci=r.no_ci or "no interval")
    else:
        out["ci95"] = [round(ci[0], DIGITS), round(ci[1], DIGITS)]
    return out


def _rates(outcomes: Sequence[ErrorOutcome], n_resamples: int, seed: int) -> Dict[str, Any]:
    rates = following_rates(outcomes, n_resamples=n_resamples, seed=seed)
    return {"n_errors": len(outcomes), **{o: _rate(rates[o]) for o in OUTCOMES}}


def model_record(outcomes: Sequence[ErrorOutcome], kind: str, n_resamples: int, seed: int) -> Dict[str, Any]:
    """One model's rates of each outcome, overall and per error kind."""
    kinds = sorted({o.kind for o in outcomes})
    return {"kind": kind, "overall": _rates(outcomes, n_resamples, seed),
            "by_error_kind": {k: _rates([o for o in outcomes if o.kind == k], n_resamples, seed) for k in kinds}}


def normalisation_difference(mtl: Sequence[ErrorOutcome], stl: Sequence[ErrorOutcome],
                             n_resamples: int, seed: int) -> Dict[str, Any]:
    """MTL minus STL-surface normalisation rate, one paired draw; ``interval_at`` for the family adjustment."""
    r = rate_difference(mtl, stl, NORMALISES, n_resamples=n_resamples, seed=seed)
    out: Dict[str, Any] = {"diff": r.point, "n_utt": r.n_utt, "n_spk": r.n_spk, "unit": UNIT, "method": METHOD,
                           "interval_at": r.interval}
    ci = r.interval()
    if ci is None:
        out.update(lo=None, hi=None, p=None, no_ci=r.no_ci or "no interval")
    else:
        out.update(lo=ci[0], hi=ci[1], p=r.p_value(), n_resamples=len(r.reps))
    return out


def read_twin_set(data_dir: Path) -> Dict[str, Mapping[str, str]]:
    """utt2twin (checked line by line), text_surface, text_canonical and utt2spk of a twin set."""
    path = data_dir / "utt2twin"
    twins = {}
    for no, twin, value in iter_table(path):
        try:
            parse_twin_value(value)
        except ValueError as e:
            raise DataError(path, no, str(e)) from None
        twins[twin] = value
    tables: Dict[str, Mapping[str, str]] = {"utt2twin": twins}
    for name in ("text_surface", "text_canonical", "utt2spk"):
        if not (data_dir / name).is_file():
            raise DataError(data_dir / name, None, "not found: a twin set needs it (make_mini_corpus --twins)")
        tables[name] = read_table(data_dir / name, allow_empty_value=name == "text_surface")
    return tables


def _hyps(path: Path) -> Dict[str, str]:
    return {utt: text for _, utt, text in iter_table(path, allow_empty_value=True)}


def error_following(group: Mapping[str, Any], data_root: Path, twin_set: Optional[str], inference_tag: str,
                    n_resamples: int, seed: int) -> Dict[str, Any]:
    """The ``error_following`` block of one analysis group (``group``: :func:`exp_models.make_groups`'s entry)."""
    if not twin_set:
        return skipped(NO_TWIN_SET)
    data_dir = data_root / twin_set
    if not (data_dir / "utt2twin").is_file():
        return skipped(f"{data_dir / 'utt2twin'} not found (stages 3-4 prepare the twin set made at stage 1)")
    models = [group["stl_surface"]] + list(group["mtl"])
    hyp_paths = {m.tag: m.dir / inference_tag / twin_set / "surface" / "text" for m in models}
    missing = [f"{m.tag} ({hyp_paths[m.tag]})" for m in models if not hyp_paths[m.tag].is_file()]
    if missing:
        return skipped(f"the twin set {twin_set} is not decoded by {', '.join(missing)}: run stages 8-9 for it")
    t = read_twin_set(data_dir)
    outcomes: Dict[str, List[ErrorOutcome]] = {}
    for m in models:
        try:
            outcomes[m.tag] = classify_twins(t["utt2twin"], t["text_canonical"], t["text_surface"],
                                             _hyps(hyp_paths[m.tag]), t["utt2spk"])
        except (KeyError, ValueError) as e:
            raise DataError(hyp_paths[m.tag], None, f"cannot classify against {data_dir}: {e}") from None
    first = outcomes[models[0].tag]
    if not first:
        return skipped(f"{data_dir / 'utt2twin'} has no single-error twin")
    s = group["stl_surface"]
    diffs = [normalisation_difference(outcomes[x.tag], outcomes[s.tag], n_resamples, seed) for x in group["mtl"]]
    adjust_family(f"normalisation rate, MTL − STL-surface ({twin_set})", diffs)
    return {
        "twin_set": twin_set,
        "unit": UNIT,
        "method": f"{METHOD} bootstrap, {n_resamples} resamples",
        "n_errors": len(first),
        "n_originals": len({o.original for o in first}),
        "n_speakers": len({o.speaker for o in first}),
        "models": {m.tag: model_record(outcomes[m.tag], m.kind, n_resamples, seed) for m in models},
        "normalisation_difference": [{"mtl": x.tag, "stl_surface": s.tag, **interval_record(d, DIGITS)}
                                     for x, d in zip(group["mtl"], diffs)],
    }
