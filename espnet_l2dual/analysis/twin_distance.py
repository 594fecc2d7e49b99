"""Stage 10's twin distance: how far one learner error moves the encoder representation, layer by layer.

Why: error following reads the surface *output*; this reads the encoder. A single-error twin and
the canonical twin of the same original share sentence, voice and rate and differ by exactly one
learner error, so the distance between their encoder states at layer ``l`` is what that one
error changes there. An MTL encoder whose meaning task pulls towards the intended form should
move less than the STL-surface encoder (it represents the error less).

Distance: ``1 - cosine`` between the time-pooled (mean over frames) layer outputs. Mean pooling
is length-robust: the error changes the duration by a few frames, which a frame-aligned distance
would count as a large change. The raw distance is not comparable across layers or models (their
geometry differs), so each is divided by the mean distance between *unrelated* utterances of the
same speaker at that layer (the canonical twins of the speaker's other originals): 0 = the error
changes nothing, 1.0 = the error moves the representation as far as a different sentence does.

Per model and layer: the mean normalised distance over the single-error twins, with a blocked
bootstrap interval (speakers, then original utterances; an original's twins together; the
reference is held fixed); per MTL model and layer the paired difference MTL − STL-surface.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Sequence

import numpy as np

from espnet_l2dual.analysis.access import skipped
from espnet_l2dual.analysis.feature_cache import cached_states
from espnet_l2dual.analysis.group_cka import layer_names
from espnet_l2dual.analysis.utterances import load_utterances
from espnet_l2dual.data.twin_map import CANONICAL, parse_twin_value
from espnet_l2dual.scoring.blocked_bootstrap import METHOD, SPEAKERS, Resampled, resample
from espnet_l2dual.utils.fileio import read_table

UNIT = "speakers, then original utterances (the twins of one utterance are resampled together)"
DIGITS = 3
# every frame is kept: a frame subsample would differ between twin and canonical (it is seeded by the id)
ALL_FRAMES_PER_UTT = 100_000


@dataclass(frozen=True)
class TwinPair:
    """A single-error twin and the canonical twin of the same original: they differ by one error."""

    twin: str
    canonical: str
    original: str
    speaker: str
    kind: str


def twin_pairs(utt2twin: Mapping[str, str], utt2spk: Mapping[str, str]) -> List[TwinPair]:
    """Every single-error twin with its original's canonical twin (originals without one are left out)."""
    canon, errors = {}, []
    for twin, value in sorted(utt2twin.items()):
        original, error, what = parse_twin_value(value)
        if what == CANONICAL:
            canon[original] = twin
        elif error is not None:
            errors.append((twin, original, error.kind))
    return [TwinPair(t, canon[o], o, utt2spk[t], k) for t, o, k in errors if o in canon]


def pooled_layers(states: Mapping[str, np.ndarray], prefix: str = "enc.") -> np.ndarray:
    """``(layers, utterances, dim)``: each utterance's rows of ``<prefix><i>`` averaged over time.

    Rows are stored utterance by utterance, ``index.rows.enc`` of them each (feature_cache.cached_states).
    """
    names = layer_names(states, prefix)
    if not names:
        raise ValueError(f"no '{prefix}<i>' layer in the hidden states")
    counts = np.asarray(states["index.rows.enc"]).reshape(-1).astype(int)
    if np.any(counts < 1):
        raise ValueError("an utterance has no encoder frame kept")
    bounds = np.concatenate([[0], np.cumsum(counts)])
    out = []
    for name in names:
        x = np.asarray(states[name], dtype=np.float64)
        if x.shape[0] != bounds[-1]:
            raise ValueError(f"{name}: {x.shape[0]} rows, the index says {bounds[-1]}")
        out.append(np.stack([x[a:b].mean(axis=0) for a, b in zip(bounds[:-1], bounds[1:])]))
    return np.stack(out)


def cosine_distance(a: np.ndarray, b: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """``1 - cos`` along the last axis (0 for identical directions, 1 for orthogonal ones)."""
    num = np.sum(a * b, axis=-1)
    den = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    return 1.0 - num / np.maximum(den, eps)


def speaker_references(pooled: np.ndarray, index: Mapping[str, int], pairs: Sequence[TwinPair]) -> Dict[str, np.ndarray]:
    """Per speaker, per layer: the mean distance between the canonical twins of different originals.

    A speaker with one original has no unrelated utterance: absent (its pairs are left out).
    """
    by_spk: Dict[str, List[str]] = {}
    for p in pairs:
        ids = by_spk.setdefault(p.speaker, [])
        if p.canonical not in ids:
            ids.append(p.canonical)
    out = {}
    for spk, ids in by_spk.items():
        if len(ids) < 2:
            continue
        rows = [index[u] for u in ids]
        d = [cosine_distance(pooled[:, i], pooled[:, j]) for n, i in enumerate(rows) for j in rows[n + 1:]]
        out[spk] = np.mean(d, axis=0)
    return out


def normalised_distances(pooled: np.ndarray, utt_ids: Sequence[str], pairs: Sequence[TwinPair]) -> np.ndarray:
    """``(pairs, layers)``: each pair's distance over its speaker's reference; NaN without a reference."""
    index = {u: i for i, u in enumerate(utt_ids)}
    ref = speaker_references(pooled, index, pairs)
    out = np.full((len(pairs), pooled.shape[0]), np.nan)
    for k, p in enumerate(pairs):
        if p.speaker in ref:
            d = cosine_distance(pooled[:, index[p.twin]], pooled[:, index[p.canonical]])
            out[k] = d / np.maximum(ref[p.speaker], 1e-12)
    return out


def _columns(dist: np.ndarray, pairs: Sequence[TwinPair], layer: int, keys: Sequence[str]) -> np.ndarray:
    """``len(keys) x 2`` per original: the sum of its twins' normalised distances at ``layer``, their count."""
    row = {k: i for i, k in enumerate(keys)}
    cols = np.zeros((len(keys), 2))
    for p, d in zip(pairs, dist[:, layer]):
        if np.isfinite(d):
            cols[row[p.original]] += (d, 1.0)
    return cols


def _units(pairs: Sequence[TwinPair], dist: np.ndarray) -> tuple:
    kept = [p for p, d in zip(pairs, dist[:, 0]) if np.isfinite(d)]
    speaker = {p.original: p.speaker for p in kept}
    keys = sorted(speaker)
    return keys, [speaker[k] for k in keys]


def layer_means(dist: np.ndarray, pairs: Sequence[TwinPair], n_resamples: int, seed: int,
                unit: str = SPEAKERS) -> List[Resampled]:
    """Per layer the mean normalised distance over the twins, blocked bootstrap (one draw for all layers)."""
    keys, speakers = _units(pairs, dist)
    if not keys:
        raise ValueError("no twin pair has a same-speaker reference")
    return [resample(_columns(dist, pairs, layer, keys), speakers, lambda s: s[:, 0] / s[:, 1], unit,
                     n_resamples, seed) for layer in range(dist.shape[1])]


def layer_differences(a: np.ndarray, b: np.ndarray, pairs: Sequence[TwinPair], n_resamples: int, seed: int,
                      unit: str = SPEAKERS) -> List[Resampled]:
    """Per layer: mean normalised distance of model ``a`` minus model ``b`` on the same twins, paired."""
    usable = np.isfinite(a[:, 0]) & np.isfinite(b[:, 0])
    a, b = np.where(usable[:, None], a, np.nan), np.where(usable[:, None], b, np.nan)
    keys, speakers = _units(pairs, a)
    if not keys:
        raise ValueError("no twin pair has a same-speaker reference in both models")
    n = min(a.shape[1], b.shape[1])
    return [resample(np.hstack([_columns(a, pairs, layer, keys), _columns(b, pairs, layer, keys)]), speakers,
                     lambda s: s[:, 0] / s[:, 1] - s[:, 2] / s[:, 3], unit, n_resamples, seed)
            for layer in range(n)]


def _record(r: Resampled, name: str) -> Dict[str, Any]:
    ci = r.interval()
    out: Dict[str, Any] = {name: round(r.point, DIGITS)}
    if ci is None:
        out.update(ci95=None, no_ci=r.no_ci or "no interval")
    else:
        out["ci95"] = [round(ci[0], DIGITS), round(ci[1], DIGITS)]
    return out


def distance_record(dists: Mapping[str, np.ndarray], kinds: Mapping[str, str], stl_surface: str,
                    mtl: Sequence[str], pairs: Sequence[TwinPair], n_resamples: int, seed: int) -> Dict[str, Any]:
    """The per-model layer means and the per-layer MTL − STL-surface differences, as analysis.json stores them."""
    models = {}
    for tag, dist in dists.items():
        means = layer_means(dist, pairs, n_resamples, seed)
        models[tag] = {"kind": kinds[tag], "layers": [_record(r, "mean") for r in means],
                       "n_pairs": int(np.sum(np.isfinite(dist[:, 0])))}
    diffs = {x: [_record(r, "diff") for r in layer_differences(dists[x], dists[stl_surface], pairs,
                                                              n_resamples, seed)]
             for x in mtl}
    first = next(iter(dists.values()))
    keys, speakers = _units(pairs, first)
    return {"distance": "1 - cosine of the time-pooled (mean over frames) encoder layer outputs",
            "normalised_by": "the mean distance between the canonical twins of different originals of the same "
                             "speaker at that layer (1.0 = as far as a different sentence)",
            "pairs": "each single-error twin with the canonical twin of its original (they differ by one error)",
            "unit": UNIT, "method": f"{METHOD} bootstrap, {n_resamples} resamples",
            "n_pairs": len(pairs), "n_originals": len(keys), "n_speakers": len(set(speakers)),
            "models": models,
            "mtl_minus_stl_surface": {x: {"stl_surface": stl_surface, "layers": d} for x, d in diffs.items()}}


def twin_distance(group: Mapping[str, Any], args, load_model: Callable[[Any], Callable]) -> Dict[str, Any]:
    """The ``twin_distance`` block of one analysis group; ``load_model(info)`` -> a loader of
    ``(model, preprocess, collate)`` (pipeline.model_loader). ``{"skipped": why}`` without a twin set."""
    twin_set = getattr(args, "twin_set", None)
    if not twin_set:
        return skipped("no twin set (--local_data_opts \"--twins true\" makes data/eval_twins)")
    data_dir = Path(args.data_root) / twin_set
    if not (data_dir / "utt2twin").is_file() or not (data_dir / "utt2spk").is_file():
        return skipped(f"{data_dir}/utt2twin or utt2spk not found (stages 3-4 prepare the twin set)")
    pairs = twin_pairs(read_table(data_dir / "utt2twin"), read_table(data_dir / "utt2spk"))
    if not pairs:
        return skipped(f"{data_dir / 'utt2twin'} has no single-error twin with a canonical twin")
    utt_ids = sorted({u for p in pairs for u in (p.twin, p.canonical)})
    models = [group["stl_surface"], group["stl_meaning"]] + list(group["mtl"])
    dists: Dict[str, np.ndarray] = {}
    for info in models:
        loader = load_model(info)
        states = cached_states(lambda loader=loader: loader()[:2], info.dir / args.model_file,
                               Path(args.out_dir) / "feats_twins" / info.tag,
                               lambda: load_utterances(data_dir, utt_ids), utt_ids,
                               ALL_FRAMES_PER_UTT * len(utt_ids), args.seed, info.tag)
        dists[info.tag] = normalised_distances(pooled_layers(states), utt_ids, pairs)
    if not np.any(np.isfinite(dists[group["stl_surface"].tag][:, 0])):
        return skipped("no speaker has two originals with twins: no same-speaker reference distance")
    out = distance_record(dists, {m.tag: m.kind for m in models}, group["stl_surface"].tag,
                          [x.tag for x in group["mtl"]], pairs, args.twin_bootstrap, args.seed)
    out["twin_set"] = twin_set
    return out

