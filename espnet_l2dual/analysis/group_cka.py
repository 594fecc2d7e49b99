"""The CKA pairs of one analysis group: encoder (and SSL front end), source-attention context
and decoder, and the CKA differences REPORT.md words, with their bootstrap replicates kept for
paired differences and for the interval over seeds."""

from __future__ import annotations

import logging
from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np

from espnet_l2dual.analysis import cka_pairs
from espnet_l2dual.analysis.exp_models import ModelInfo
from espnet_l2dual.outputs import PAIR

log = logging.getLogger("espnet_l2dual.analysis")


def estimators(debiased: bool) -> List[str]:
    """Both CKA estimators, the headline one first."""
    return ["debiased", "linear"] if debiased else ["linear", "debiased"]


def layer_names(states: Mapping[str, np.ndarray], prefix: str) -> List[str]:
    """The keys ``<prefix><i>`` of one model's states, in layer order."""
    return sorted((k for k in states if k.startswith(prefix) and k[len(prefix):].isdigit()),
                  key=lambda k: int(k[len(prefix):]))


def layers(states: Dict[str, np.ndarray], prefix: str) -> List[np.ndarray]:
    """The matrices ``<prefix><i>`` of one model's states, in layer order."""
    return [states[k] for k in layer_names(states, prefix)]


class Pairs:
    """CKA pairs of one group, with their bootstrap replicates kept for paired differences."""

    def __init__(self, st: cka_pairs.Settings, states: Dict[str, Dict[str, np.ndarray]], n_utts: int) -> None:
        self.st, self.states, self.n_utts = st, states, n_utts
        self.reps: Dict[str, Optional[np.ndarray]] = {}

    def rows(self, tag: str, kind: str) -> Optional[cka_pairs.Rows]:
        return cka_pairs.rows_of(self.states[tag], kind, self.n_utts)

    def pair(self, key: str, xs, ys, a: str, b: str, ra, rb) -> dict:
        rec, reps = cka_pairs.cka_pair(xs, ys, a, b, ra, rb, self.st)
        if "skipped" in rec and xs and ys:
            log.warning("CKA %s vs %s refused: %s", a, b, rec["skipped"])
        self.reps[key] = reps
        return rec


def encoder_cka(pairs: Pairs, s: ModelInfo, m: ModelInfo, mtls: Sequence[ModelInfo]) -> dict:
    """Encoder CKA per layer: STL-surface vs STL-meaning, each MTL output's own encoder path vs
    the STL encoder of that output, and (where the paths differ) the MTL's two paths."""
    states = pairs.states
    enc = {tag: layers(st_, "enc.") for tag, st_ in states.items()}
    n_layers = max(len(v) for v in enc.values())
    out = {"layers": [str(i) for i in range(n_layers)], "pairs": {}}
    out["pairs"]["stl_surface_vs_stl_meaning"] = pairs.pair(
        "stl_surface_vs_stl_meaning", enc[s.tag], enc[m.tag], s.tag, m.tag,
        pairs.rows(s.tag, "enc"), pairs.rows(m.tag, "enc"))
    out["own_paths"] = {}  # does the model have an encoder path per output (partial, moe)?
    for x in mtls:
        # each output's own encoder path (differs from the other's above a task split)
        path = {o: layers(states[x.tag], f"enc.{o}.") or enc[x.tag] for o in PAIR}
        for o, stl in (("surface", s), ("meaning", m)):
            key = f"{x.tag}_vs_stl_{o}"
            out["pairs"][key] = pairs.pair(key, path[o], enc[stl.tag], x.tag, stl.tag,
                                           pairs.rows(x.tag, "enc"), pairs.rows(stl.tag, "enc"))
        out["own_paths"][x.tag] = bool(layers(states[x.tag], "enc.surface."))
        if out["own_paths"][x.tag]:
            key = f"{x.tag}:surface_vs_{x.tag}:meaning"
            out["pairs"][key] = pairs.pair(key, path["surface"], path["meaning"], f"{x.tag}:surface",
                                           f"{x.tag}:meaning", pairs.rows(x.tag, "enc"), pairs.rows(x.tag, "enc"))
    return out


def ssl_cka(pairs: Pairs, s: ModelInfo, m: ModelInfo, mtls: Sequence[ModelInfo]) -> Optional[dict]:
    """An SSL front end's layers (``ssl.<i>``), where the models have one: the encoder's pairs."""
    ssl = {tag: layers(st_, "ssl.") for tag, st_ in pairs.states.items()}
    if not any(ssl.values()):
        return None
    return {"pairs": {f"{a.tag}_vs_{b.tag}": pairs.pair(f"ssl:{a.tag}_vs_{b.tag}", ssl[a.tag], ssl[b.tag],
                                                        a.tag, b.tag, pairs.rows(a.tag, "ssl"),
                                                        pairs.rows(b.tag, "ssl"))
                      for a, b in [(s, m)] + [(x, y) for x in mtls for y in (s, m)]}}


def context_cka(pairs: Pairs, mtls: Sequence[ModelInfo]) -> Dict[str, dict]:
    """Per MTL model: its surface vs meaning source-attention contexts, per decoder layer, one row
    per utterance (the two decoders' token sequences differ)."""
    out = {}
    for x in mtls:
        st_ = pairs.states[x.tag]
        out[x.tag] = pairs.pair(f"ctx:{x.tag}", layers(st_, "ctxmean.surface."), layers(st_, "ctxmean.meaning."),
                                f"{x.tag}:surface", f"{x.tag}:meaning",
                                pairs.rows(x.tag, "ctxmean"), pairs.rows(x.tag, "ctxmean"))
        out[x.tag]["unit"] = "utterance (context averaged over tokens)"
    return out


def decoder_cka(pairs: Pairs, s: ModelInfo, m: ModelInfo, mtls: Sequence[ModelInfo]) -> Dict[str, dict]:
    """Per MTL model and output: its decoder vs the STL decoder of that output, per layer."""
    out: Dict[str, dict] = {}
    for x in mtls:
        out[x.tag] = {}
        for o, stl in (("surface", s), ("meaning", m)):
            out[x.tag][o] = pairs.pair(
                f"dec:{x.tag}:{o}", layers(pairs.states[x.tag], f"dec.{o}."),
                layers(pairs.states[stl.tag], f"dec.{o}."), f"{x.tag}:{o}", f"{stl.tag}:{o}",
                pairs.rows(x.tag, f"dec.{o}"), pairs.rows(stl.tag, f"dec.{o}"))
            out[x.tag][o]["unit"] = "token position (teacher forcing)"
    return out


def _at(rec: dict, layer: Optional[int]) -> Optional[float]:
    """The debiased CKA of a pair at ``layer`` (-1: the last; None: the mean over layers)."""
    if not rec.get("debiased"):
        return None
    diag = rec["debiased"]["diag"]
    if layer is None:
        vals = [v for v in diag if v is not None]
        return float(np.mean(vals)) if vals else None
    return diag[layer]


def comparisons(pairs: Pairs, encoder: dict, decoder: dict, mtls: Sequence[ModelInfo],
                keep: Optional[dict] = None) -> List[dict]:
    """The CKA differences REPORT.md words: per MTL model, its encoder vs each STL encoder (last
    layer, mean over layers) and its decoders vs their STL counterparts (mean over layers); one
    family, Bonferroni-adjusted. ``keep`` receives each difference's replicates, keyed by the
    MTL model's name across seeds (for the interval over seeds)."""
    wanted = []
    for x in mtls:
        ks, km = f"{x.tag}_vs_stl_surface", f"{x.tag}_vs_stl_meaning"
        wanted.append((x, "encoder_last", encoder[ks], encoder[km], ks, km, -1,
                       "MTL encoder last layer: CKA vs STL-surface minus CKA vs STL-meaning"))
        wanted.append((x, "encoder_mean", encoder[ks], encoder[km], ks, km, None,
                       "MTL encoder, mean over layers: CKA vs STL-surface minus CKA vs STL-meaning"))
        ds, dm = decoder[x.tag]["surface"], decoder[x.tag]["meaning"]
        wanted.append((x, "decoder_mean", ds, dm, f"dec:{x.tag}:surface", f"dec:{x.tag}:meaning", None,
                       "decoders, mean over layers: CKA(MTL surface, STL surface) minus CKA(MTL meaning, STL meaning)"))
    out = []
    for x, name, ra, rb, ka, kb, layer, what in wanted:
        reps_a, reps_b = pairs.reps.get(ka), pairs.reps.get(kb)
        if layer is not None and reps_a is not None and reps_b is not None:
            reps_a, reps_b = reps_a[layer], reps_b[layer]
        elif reps_a is not None and reps_b is not None:
            reps_a, reps_b = cka_pairs.mean_over_layers(reps_a), cka_pairs.mean_over_layers(reps_b)
        rec = cka_pairs.difference(_at(ra, layer), _at(rb, layer), reps_a, reps_b, len(wanted), what)
        out.append({"mtl": x.tag, "name": name, **rec})
        if keep is not None:  # for the interval over seeds: the same comparison of every seed's group
            keep[(x.name, name)] = (rec["diff"], None if reps_a is None or reps_b is None
                                    else reps_a - reps_b, what)
    return out
