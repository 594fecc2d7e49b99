"""Rank correlation inside each speaker, pooled: "error vs divergence" with the speaker held fixed.

In an L2 test set the speakers differ both in how far they depart from the intended words
and in how well the models hear their voices, so a correlation over all utterances mixes
the two (a speaker with no learner errors and an unusual voice fills the zero-divergence
bin alone). Here both variables are ranked within each speaker and centred on that
speaker's mean rank; the pooled correlation of the centred ranks uses only within-speaker
variation. Its p-value comes from permutations of one variable within every speaker (the
null: no association inside any speaker), so speakers never exchange utterances.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Sequence

import numpy as np
from scipy import stats

DEFAULT_PERMUTATIONS = 9999


def _centred_ranks(values: np.ndarray, groups: List[np.ndarray]) -> np.ndarray:
    out = np.zeros(len(values))
    for idx in groups:
        r = stats.rankdata(values[idx])
        out[idx] = r - r.mean()
    return out


def within_speaker_correlation(x: Sequence[float], y: Sequence[float], speakers: Sequence[str],
                               n_permutations: int = DEFAULT_PERMUTATIONS, seed: int = 0) -> Dict[str, Any]:
    """``{rho, p, n, n_spk, method}``: pooled correlation of within-speaker centred ranks, two-sided
    permutation p-value (permuting ``y`` within speakers); ``skipped`` where it is undefined."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    index: Dict[str, List[int]] = {}
    for i, s in enumerate(speakers):
        index.setdefault(s, []).append(i)
    # a speaker adds within-speaker information only with >= 2 utterances that vary in both variables
    groups = [np.array(v) for v in index.values()
              if len(v) >= 2 and np.ptp(x[v]) > 0 and np.ptp(y[v]) > 0]
    n = int(sum(len(g) for g in groups))
    method = "Spearman within speakers (centred ranks, pooled); p: permutations within speakers"
    if not groups or n < 3:
        return {"rho": None, "p": None, "n": n, "n_spk": len(groups), "method": method,
                "skipped": "undefined: no speaker with two or more utterances that differ in both variables"}
    rx, ry = _centred_ranks(x, groups), _centred_ranks(y, groups)
    keep = np.concatenate(groups)
    rx, ry = rx[keep], ry[keep]
    denom = float(np.sqrt((rx ** 2).sum() * (ry ** 2).sum()))
    rho = float((rx * ry).sum() / denom)
    rng = np.random.default_rng(seed)
    pos = np.cumsum([0] + [len(g) for g in groups])
    perm = np.empty((n_permutations, n), dtype=np.int64)
    for a, b in zip(pos[:-1], pos[1:]):          # permute within each speaker's stretch
        perm[:, a:b] = a + np.argsort(rng.random((n_permutations, b - a)), axis=1)
    null = (ry[perm] * rx).sum(axis=1) / denom
    p = float((1 + np.sum(np.abs(null) >= abs(rho) - 1e-12)) / (n_permutations + 1))
    return {"rho": rho, "p": p, "n": n, "n_spk": len(groups), "method": method}


def speakers_per_bin(utts_in_bin: Mapping[str, Sequence[str]], utt2spk: Mapping[str, str]) -> Dict[str, int]:
    """{bin: number of distinct speakers among its utterances}."""
    return {b: len({utt2spk[u] for u in us if u in utt2spk}) for b, us in utts_in_bin.items()}
