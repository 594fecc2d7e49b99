"""The STL-vs-MTL comparison table of one language, for one seed or over several.

One builder serves both reports. Each model output is scored once (:func:`score_output`:
its results.json entry and sclite's per-utterance counts, read through
:mod:`espnet_l2dual.analysis.access`), and :func:`comparison_table` takes, per (config,
output), the list of those scores, one per seed. Only the statistic differs between the
report of one seed and the report over seeds (``--seeds``, even with a single seed):

* :class:`OneSeed`: the value itself, and ``b − a`` with its paired bootstrap over speakers,
  then utterances within them (:mod:`espnet_l2dual.scoring.paired_bootstrap`);
* :class:`OverSeeds`: mean and sd over seeds, and ``b − a`` with the seeds x utterances
  bootstrap and the t interval over seeds (:mod:`espnet_l2dual.scoring.seed_intervals`).

Comparisons keep their raw bootstrap (``_raw``) until their family is Holm-adjusted
(:func:`adjust`); only then are the stored records written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Protocol, Sequence, Tuple

from espnet_l2dual.analysis import access
from espnet_l2dual.analysis.access import Doc
from espnet_l2dual.outputs import PAIR as OUTPUTS
from espnet_l2dual.outputs import STL_CONFIG as STL
from espnet_l2dual.scoring.blocked_bootstrap import SPEAKERS
from espnet_l2dual.scoring.multiplicity import families
from espnet_l2dual.scoring.paired_bootstrap import interval_record, paired_difference
from espnet_l2dual.scoring.seed_intervals import mean_sd, over_seeds, seed_interval_record
from espnet_l2dual.scoring.units import Headline

BASE_CONFIGS = ("stl_surface", "stl_meaning", "mtl")
UtteranceErrors = Dict[str, Tuple[int, int]]
Key = Tuple[str, str]  # (config, output)


# ------------------------------------------------------------------ one model's scores


@dataclass
class Scored:
    """One output of one model: its headline metric and the values/per-utterance errors of each kind."""

    metric: Headline
    values: Dict[str, float]
    errors: Dict[str, UtteranceErrors]


def kinds_shown(metric: Headline) -> List[str]:
    """Headline first; WER beside CER for character outputs (for phones WER is the PER, CER meaningless)."""
    return [metric.kind] + (["wer"] if metric.kind == "cer" else [])


def metric_name(kind: str, metric: Headline) -> str:
    return metric.name if kind == metric.kind else kind.upper()


def metric_json(h: Headline) -> Dict[str, str]:
    return {"name": h.name, "kind": h.kind, "unit": h.unit}


def score_output(results: Doc, test_set: str, output: str) -> Scored:
    """Read one output's results.json entry and the sclite trn files it points at."""
    entry = access.output_entry(results, test_set, output)
    metric = access.headline_of(entry)
    values = {metric.kind: access.headline_value(entry)}
    errors: Dict[str, UtteranceErrors] = {}
    for kind in kinds_shown(metric):
        if kind != metric.kind:
            values[kind] = entry.need(kind)
        errors[kind] = access.utterance_errors(entry, kind)  # sclite's per-utterance counts (exp/ or store)
    return Scored(metric, values, errors)


# ------------------------------------------------------------------ one seed: paired bootstrap


def difference(b: Optional[float], a: Optional[float]) -> Dict[str, Optional[float]]:
    """``b − a`` in points and relative to ``a`` (for error rates: positive = b is worse)."""
    if b is None or a is None:
        return {"abs": None, "rel": None}
    rel = (b - a) / a * 100.0 if a > 0 else None
    return {"abs": round(b - a, 2), "rel": None if rel is None else round(rel, 1)}


def rate_of(err: UtteranceErrors) -> Optional[float]:
    """Error rate in % from per-utterance (edits, reference length) counts."""
    n = sum(x[1] for x in err.values())
    return 100.0 * sum(x[0] for x in err.values()) / n if n else None


def compare(b: Optional[float], a: Optional[float], b_err: Optional[UtteranceErrors],
            a_err: Optional[UtteranceErrors], unit: str = SPEAKERS) -> Dict[str, Any]:
    """``b − a`` with its paired-bootstrap interval (``ci95``; None with ``no_ci`` where none exists).

    With per-utterance counts, the difference is computed from them (sclite's), like its
    interval; ``_raw`` keeps the bootstrap for the family adjustment (:func:`finish`).
    """
    if a_err is None or b_err is None:
        out: Dict[str, Any] = difference(b, a)
        out.update(ci95=None, n_utt=0, no_ci="per-utterance scores missing")
        return out
    raw = paired_difference(a_err, b_err, unit=unit)
    if raw is None:
        out = difference(b, a)
        out["_raw"] = None
        return out
    out = difference(rate_of({u: b_err[u] for u in a_err if u in b_err}),
                     rate_of({u: a_err[u] for u in a_err if u in b_err}))
    out["_raw"] = raw
    return out


def finish(d: Dict[str, Any]) -> Dict[str, Any]:
    """Replace a comparison's ``_raw`` bootstrap by its stored record (after its family was adjusted)."""
    raw = d.pop("_raw", None)
    if raw is not None or "ci95" not in d:
        d.update({k: v for k, v in interval_record(raw).items() if k != "diff" or "abs" not in d})
    return d


def raw_of(d: Optional[Mapping[str, Any]]) -> Optional[Dict[str, Any]]:
    return None if d is None else d.get("_raw")


# ------------------------------------------------------------------ over seeds: seeds x utterances, and t


def round_floats(d: Mapping[str, Optional[float]], digits: int = 2) -> Dict[str, Any]:
    return {k: (round(v, digits) if isinstance(v, float) else v) for k, v in d.items()}


def versus_over_seeds(b: Sequence[Scored], a: Sequence[Scored], kind: str, unit: str = SPEAKERS) -> Dict[str, Any]:
    """``b − a`` over seeds: both intervals (seed i of b paired with seed i of a), from sclite's
    per-utterance counts; ``_raw`` until :func:`finish_over_seeds` (after the family adjustment)."""
    raw = over_seeds([x.errors[kind] for x in a], [x.errors[kind] for x in b], unit=unit)
    return {"_raw": raw}


def finish_over_seeds(d: Dict[str, Any]) -> Dict[str, Any]:
    """Replace ``_raw`` by the stored record (after the family adjustment); per-seed values from the same counts."""
    raw = d.pop("_raw")
    d.update(seed_interval_record(raw, raw["t"]))
    d["per_seed"] = [round(x, 2) for x in raw["per_seed"]]
    return d


# ------------------------------------------------------------------ the statistic of a table


class Statistic(Protocol):
    """What a table shows of a model's runs, and how it compares two models' runs."""

    def value(self, runs: Sequence[Scored], kind: str) -> Any: ...

    def versus(self, b: Sequence[Scored], a: Sequence[Scored], kind: str) -> Dict[str, Any]: ...

    def finish(self, d: Dict[str, Any]) -> Dict[str, Any]: ...


@dataclass(frozen=True)
class OneSeed:
    """One run per model: its value, and ``b − a`` with the paired bootstrap over ``unit``."""

    unit: str = SPEAKERS

    def value(self, runs: Sequence[Scored], kind: str) -> Any:
        (x,) = runs
        return x.values[kind]

    def versus(self, b: Sequence[Scored], a: Sequence[Scored], kind: str) -> Dict[str, Any]:
        (bx,), (ax,) = b, a
        return compare(bx.values[kind], ax.values[kind], bx.errors[kind], ax.errors[kind], self.unit)

    def finish(self, d: Dict[str, Any]) -> Dict[str, Any]:
        return finish(d)


@dataclass(frozen=True)
class OverSeeds:
    """One run per seed: mean and sd, and ``b − a`` with the seeds x ``unit`` bootstrap and t over seeds."""

    unit: str = SPEAKERS

    def value(self, runs: Sequence[Scored], kind: str) -> Any:
        return round_floats(mean_sd([x.values[kind] for x in runs]))

    def versus(self, b: Sequence[Scored], a: Sequence[Scored], kind: str) -> Dict[str, Any]:
        return versus_over_seeds(b, a, kind, self.unit)

    def finish(self, d: Dict[str, Any]) -> Dict[str, Any]:
        return finish_over_seeds(d)


# ------------------------------------------------------------------ the table


def comparison_table(scored: Mapping[Key, Sequence[Scored]], configs: Sequence[str],
                     stat: Statistic) -> Dict[str, Any]:
    """MTL−STL per output and metric, and every method config against STL and MTL.

    ``scored[(config, output)]``: that output's scores, one per seed (seed i of every config
    paired). Comparisons hold ``_raw`` until :func:`adjust`."""
    table: Dict[str, Any] = {"outputs": {}, "methods": {}}
    for o in OUTPUTS:
        stl, mtl = scored[(STL[o], o)], scored[("mtl", o)]
        metric = stl[0].metric
        table["outputs"][o] = {
            "metric": metric_json(metric),
            "rows": [{"metric": metric_name(k, metric), "kind": k, "stl": stat.value(stl, k),
                      "mtl": stat.value(mtl, k), "mtl_minus_stl": stat.versus(mtl, stl, k)}
                     for k in kinds_shown(metric)],
        }
    for c in (c for c in configs if c not in BASE_CONFIGS):
        table["methods"][c] = {}
        for o in OUTPUTS:
            m = scored[(c, o)]
            k = m[0].metric.kind
            table["methods"][c][o] = {"value": stat.value(m, k),
                                      "vs_stl": stat.versus(m, scored[(STL[o], o)], k),
                                      "vs_mtl": stat.versus(m, scored[("mtl", o)], k)}
    return table


def adjust(fams: Mapping[str, List[Dict[str, Any]]], stat: Statistic) -> Dict[str, int]:
    """Holm-adjust each family, then store every comparison's record; {family: size}."""
    sizes = families({k: [raw_of(d) for d in v] for k, v in fams.items()})
    for items in fams.values():
        for d in items:
            stat.finish(d)
    return sizes
