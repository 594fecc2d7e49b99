"""REPORT.md of stage 10: tables, figure links, and one paragraph per analysis.

Rendering only: every number comes from analysis.json, every sentence is generated
from those numbers (no canned conclusions), and a difference is called higher or
lower only where its interval says so (:mod:`espnet_l2dual.report.verdict`).
"""

from __future__ import annotations

from typing import List, Optional, Sequence

from espnet_l2dual.report.cross_language import CHECKPOINT_RULE
from espnet_l2dual.report.verdict import format_ci, verdict

_ESTIMATOR = {"linear": "biased HSIC (Kornblith et al. 2019)", "debiased": "unbiased HSIC (Song et al. 2012)"}


def _f(x: Optional[float], nd: int = 3) -> str:
    return "-" if x is None else f"{x:.{nd}f}"


def _pp(x: Optional[float]) -> str:
    return "-" if x is None else f"{x:+.2f}"


def _similarity(x: Optional[float]) -> str:
    if x is None:
        return "undefined"
    if x >= 0.9:
        return "nearly identical"
    if x >= 0.7:
        return "similar"
    if x >= 0.4:
        return "partly similar"
    return "dissimilar"


def _n(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _mean(xs: Sequence[Optional[float]]) -> Optional[float]:
    vals = [x for x in xs if x is not None]
    return sum(vals) / len(vals) if vals else None


def _fig(figs: dict, key: str, alt: str) -> List[str]:
    return [f"![{alt}]({figs[key]})", ""] if key in figs else []


# ------------------------------------------------------------------ sections


def _divergence(g: dict, figs: dict) -> List[str]:
    div = g["divergence"]
    metric = div["metric"]
    lines = ["### 1. Error by surface–meaning divergence", "",
             "Each output is judged by its headline error rate (stage 9): "
             + ", ".join(f"{o} {m['name']} ({m['unit']} units)" for o, m in metric.items()) + ". "
             + CHECKPOINT_RULE[0].upper() + CHECKPOINT_RULE[1:] + ".", "",
             "|model|output|metric|all|" + "|".join(div["bins"]) + "|",
             "|---|---|---|---|" + "---|" * len(div["bins"])]
    for tag, outs in div["error"].items():
        for o, e in outs.items():
            k = metric[o]["kind"]
            lines.append(f"|{tag}|{o}|{metric[o]['name']}|{_f(e[k], 2)}|"
                         + "|".join(_f(b[k], 2) for b in e["bins"]) + "|")
    first = next(iter(next(iter(div['error'].values())).values()))["bins"]
    lines += ["", "Error rate (%) per divergence bin; #utterances (#speakers) per bin: "
              + ", ".join(f"{b['bin']}: {b['n_utt']}" + (f" ({b['n_spk']})" if "n_spk" in b else "") for b in first),
              "", "MTL − STL (points; negative = MTL better; 95% CI: " + _unit_text(div) + "):", "",
              "|MTL model|output|metric|all|95% CI|" + "|".join(div["bins"]) + "|Spearman ρ (divergence, Δ)|p|n|",
              "|---|---|---|---|---|" + "---|" * len(div["bins"]) + "---|---|---|"]
    text = []
    for mtl, outs in div["mtl_minus_stl"].items():
        for o, d in outs.items():
            k = metric[o]["kind"]
            sp = div["spearman"][mtl][o]
            ci = d["interval"]["ci95"]
            lines.append(f"|{mtl}|{o}|{metric[o]['name']}|{_pp(d['overall'][k])}|"
                         f"{format_ci(ci) if ci else 'none: ' + d['interval']['no_ci']}|"
                         + "|".join(_pp(b[k]) + _bin_ci(b) for b in d["bins"])
                         + f"|{_f(sp['rho'])}|{_f(sp['p'], 4)}|{sp['n']}|")
            text.append(divergence_sentence(mtl, o, metric[o]["name"], d, sp))
    lines += [""] + _fig(figs, "divergence", "error by divergence bin")
    lines += [" ".join(text), ""]
    return lines


def _unit_text(div: dict) -> str:
    """What the divergence intervals resample, read from the records themselves."""
    ivs = [d["interval"] for outs in div["mtl_minus_stl"].values() for d in outs.values()]
    unit = next((iv["unit"] for iv in ivs if iv.get("unit")), "utterances")
    per_bin = any("interval" in b for outs in div["mtl_minus_stl"].values() for d in outs.values() for b in d["bins"])
    return (f"paired percentile bootstrap over {unit}; the sentences read the Holm-adjusted interval over "
            "all outputs and MTL models"
            + ("; per bin: the same, Holm-adjusted over the bins of a row (brackets)" if per_bin
               else "; overall only, the per-bin differences have no interval"))


def _bin_ci(b: dict) -> str:
    iv = b.get("interval") or {}
    return f" {format_ci(iv['ci_adj'])}" if iv.get("ci_adj") else ""


def divergence_sentence(mtl: str, o: str, metric: str, d: dict, sp: dict) -> str:
    """The overall MTL−STL difference in words, from its interval; the per-bin and rank
    statements only as far as their own evidence goes."""
    iv = d["interval"]
    delta = iv["diff"]
    if delta is None:
        return f"{mtl} {o}: no {metric} to compare ({iv.get('no_ci', 'no shared utterance')})."
    label = f"Holm-adjusted {100 * iv['level_adj']:.1f}% CI" if iv.get("ci_adj") else "95% CI"
    v = verdict(iv.get("ci_adj") or iv["ci95"], lower="lower", higher="higher",
                no_ci=f"no interval could be computed ({iv.get('no_ci')})", label=label)
    if v.resolved:
        s = (f"{mtl} {o} {metric} is {v.text} than STL by {abs(delta):.2f} points "
             f"({label} of MTL−STL {format_ci(iv.get('ci_adj') or iv['ci95'])})")
    else:
        s = f"{mtl} {o} {metric}, MTL−STL {delta:+.2f} points: {v.text}"
    bins = [b for b in d["bins"] if b[iv["kind"]] is not None and b["n_utt"] > 0]
    if bins and v.resolved:
        sign = 1 if v.direction == "higher" else -1
        worst = max(bins, key=lambda b: sign * b[iv["kind"]])
        s += (f"; the largest per-bin difference in that direction is in the {worst['bin']} bin "
              f"({worst[iv['kind']]:+.2f}, {_n(worst['n_utt'], 'utterance')}"
              + (f" of {_n(worst['n_spk'], 'speaker')}" if "n_spk" in worst else "")
              + (f", Holm-adjusted interval {format_ci(worst['interval']['ci_adj'])})"
                 if (worst.get("interval") or {}).get("ci_adj") else "; no interval per bin)"))
    s += "."
    w = sp.get("within_speaker")
    if w is not None:  # the speaker confounds a pooled correlation: the within-speaker one is read
        if w.get("rho") is None:
            s += f" Within speakers: {w['skipped']}."
        else:
            trend = ("no trend with divergence resolved at 0.05" if w["p"] >= 0.05 else
                     "the MTL−STL difference grows with divergence" if w["rho"] > 0
                     else "the MTL−STL difference shrinks with divergence")
            s += (f" Within speakers (ranks inside each speaker, pooled), ρ = {w['rho']:.3f} (permutation "
                  f"p = {w['p']:.3g}, {w['n']} utterances of {w['n_spk']} speakers): {trend}; the pooled "
                  f"Spearman ρ = {_f(sp['rho'])} mixes speakers and is not read.")
    elif sp.get("rho") is not None:
        if sp["p"] < 0.05:
            trend = ("the MTL−STL difference grows with divergence" if sp["rho"] > 0
                     else "the MTL−STL difference shrinks with divergence")
            s += f" Per utterance, Spearman ρ = {sp['rho']:.3f} (p = {sp['p']:.3g}, n = {sp['n']}): {trend}."
        else:
            s += (f" Per utterance, Spearman ρ = {sp['rho']:.3f} (p = {sp['p']:.3g}, n = {sp['n']}): no trend "
                  "with divergence resolved at 0.05.")
    else:
        s += f" The rank correlation with divergence is {sp.get('skipped', 'undefined')}."
    return s


def _encoder(g: dict, figs: dict, est: str) -> List[str]:
    enc = g["encoder_cka"]
    pairs = enc["pairs"]
    lines = ["### 2. Encoder entanglement (CKA per layer)", "",
             f"Estimator: linear CKA, {_ESTIMATOR[est]}, on {g['n_encoder_frames']} encoder frames (seeded subsample).", "",
             "|pair|" + "|".join(f"layer {l}" for l in enc["layers"]) + "|mean|", "|---|" + "---|" * (len(enc["layers"]) + 1)]
    for key, p in pairs.items():
        if p.get(est):
            diag = list(p[est]["diag"]) + [None] * (len(enc["layers"]) - len(p[est]["diag"]))
            lines.append(f"|{p['a']} vs {p['b']}|" + "|".join(_f(x) for x in diag) + f"|{_f(_mean(diag))}|")
        else:
            lines.append(f"|{p['a']} vs {p['b']}|skipped: {p.get('skipped', 'too few examples')}|")
    lines.append("")
    lines += _fig(figs, "encoder_cka", "encoder CKA per layer")
    for key in pairs:
        lines += _fig(figs, f"heatmap:{key}", f"CKA matrix {key}")
    text = []
    base = pairs["stl_surface_vs_stl_meaning"]
    if base.get(est):
        d = base[est]["diag"]
        text.append(f"The two task-optimal encoders (STL-surface vs STL-meaning) are {_similarity(_mean(d))} "
                    f"(mean CKA {_f(_mean(d))}, last layer {_f(d[-1])}, first layer {_f(d[0])}).")
    for mtl in g["mtl"]:
        ps, pm = pairs.get(f"{mtl}_vs_stl_surface", {}), pairs.get(f"{mtl}_vs_stl_meaning", {})
        if ps.get(est) and pm.get(est):
            ls, lm = ps[est]["diag"][-1], pm[est]["diag"][-1]
            if ls is not None and lm is not None:
                closer = "STL-surface" if ls > lm else "STL-meaning" if lm > ls else "both STL models equally"
                text.append(f"The {mtl} encoder's last layer resembles {closer} "
                            f"(CKA {_f(ls)} vs surface, {_f(lm)} vs meaning; means over layers "
                            f"{_f(_mean(ps[est]['diag']))} and {_f(_mean(pm[est]['diag']))}).")
    ctx = g["context_cka"]
    if ctx:
        lines += ["Source-attention contexts inside the MTL model, surface vs meaning decoder "
                  "(one row per utterance: context averaged over tokens):", "",
                  "|MTL model|" + "decoder layers (CKA)|n utt|", "|---|---|---|"]
        for mtl, p in ctx.items():
            vals = ", ".join(_f(x) for x in p[est]["diag"]) if p.get(est) else f"skipped: {p.get('skipped', 'too few')}"
            lines.append(f"|{mtl}|{vals}|{p.get('n', '-')}|")
            if p.get(est):
                m = _mean(p[est]["diag"])
                state = ("entangled: both decoders read nearly the same thing from the encoder" if m is not None and m >= 0.9
                         else "partly task-specific" if m is not None and m >= 0.5 else "task-specific")
                text.append(f"In {mtl} the surface and meaning decoders' contexts have mean CKA {_f(m)} "
                            f"({state}).")
        lines.append("")
        lines += _fig(figs, "context_cka", "context CKA per decoder layer")
    lines += [" ".join(text), ""]
    return lines


def _decoders(g: dict, figs: dict, est: str) -> List[str]:
    lines = ["### 3. Cross-task decoders (MTL vs STL decoder hidden states)", "",
             "|MTL model|output|per decoder layer (CKA)|mean|n tokens|", "|---|---|---|---|---|"]
    text = []
    for mtl, per in g["decoder_cka"].items():
        means = {}
        for o, p in per.items():
            if p.get(est):
                means[o] = _mean(p[est]["diag"])
                lines.append(f"|{mtl}|{o}|{', '.join(_f(x) for x in p[est]['diag'])}|{_f(means[o])}|{p['n']}|")
            else:
                lines.append(f"|{mtl}|{o}|skipped: {p.get('skipped', 'too few examples')}|-|-|")
        if len([v for v in means.values() if v is not None]) == 2:
            adapt = min(means, key=lambda o: means[o])
            stay = max(means, key=lambda o: means[o])
            text.append(f"In {mtl} the {adapt} decoder departs most from its STL counterpart (mean CKA "
                        f"{_f(means[adapt])}), the {stay} decoder stays closer ({_f(means[stay])}).")
    lines.append("")
    lines += _fig(figs, "decoder_cka", "decoder CKA per layer")
    lines += [" ".join(text) or "No decoder comparison was possible.", ""]
    return lines


def _task_vectors(g: dict, figs: dict) -> List[str]:
    tv = g["task_vectors"]
    lines = ["### 4. Task vectors of the encoder (from the common θ0)", "",
             "|encoder part|cosine|‖Δθ surface‖|‖Δθ meaning‖|#params|", "|---|---|---|---|---|"]
    rows = list(tv["layers"]) + ([tv["other"]] if tv.get("other") else []) + [tv["all"]]
    for r in rows:
        lines.append(f"|{r['layer']}|{_f(r['cosine'])}|{_f(r['norm_surface'], 4)}|{_f(r['norm_meaning'], 4)}|{r['n_params']}|")
    lines.append("")
    lines += _fig(figs, "task_vectors", "task vector cosine per layer")
    cos = [(r["layer"], r["cosine"]) for r in tv["layers"] if r["cosine"] is not None]
    if cos:
        lo, hi = min(cos, key=lambda x: x[1]), max(cos, key=lambda x: x[1])
        overall = tv["all"]["cosine"]
        meaning = ("both tasks push the encoder the same way" if overall is not None and overall >= 0.5
                   else "the tasks move the encoder in largely different directions" if overall is not None and overall > -0.1
                   else "the tasks push the encoder in opposing directions")
        text = (f"Over the whole encoder the cosine of the two STL weight changes is {_f(overall)}: {meaning}. "
                f"It is lowest in {lo[0]} ({_f(lo[1])}) and highest in {hi[0]} ({_f(hi[1])}).")
    else:
        text = "The STL encoders did not move from θ0, so task vectors are undefined."
    same = tv.get("mtl_same_init", {})
    if same:
        text += " MTL θ0 identical to the STL θ0: " + ", ".join(f"{k}: {'yes' if v else 'no'}" for k, v in same.items()) + "."
    return lines + [text, ""]


def _gradient(g: dict, figs: dict) -> List[str]:
    lines = ["### 5. Gradient conflict in the shared encoder", ""]
    gc = g["gradient_conflict"]
    done = {mtl: r for mtl, r in gc.items() if "skipped" not in r}
    lines += [f"{mtl}: skipped ({r['skipped']})." for mtl, r in gc.items() if "skipped" in r]
    if not done:
        return lines + [""]
    lines += ["|MTL model|encoder part|mean cosine|std|per batch|", "|---|---|---|---|---|"]
    text = []
    for mtl, r in done.items():
        for row in list(r["layers"]) + list(r["parts"]) + [r["all"]]:
            lines.append(f"|{mtl}|{row['layer']}|{_f(row['mean'])}|{_f(row['std'])}|"
                         f"{', '.join(_f(x) for x in row['per_batch'])}|")
        neg = [row["layer"] for row in r["layers"] if row["mean"] is not None and row["mean"] < 0]
        overall = r["all"]["mean"]
        s = (f"In {mtl}, over {r['n_batches']} training batches of {r['batch_size']} utterances the surface and "
             f"meaning gradients of the whole encoder have mean cosine {_f(overall)}")
        s += (f"; the mean cosine is negative (the tasks conflict on average) in {', '.join(neg)}." if neg
              else "; no encoder layer has a negative mean cosine.")
        text.append(s)
    lines.append("")
    lines += _fig(figs, "gradient_conflict", "gradient cosine per layer")
    return lines + [" ".join(text), ""]


def render(analysis: dict, figures: dict) -> str:
    st = analysis["settings"]
    est = st["estimator"]
    lines = ["<!-- Generated by espnet_l2dual.bin.analyze -->", "# Stage 10: entanglement analysis", "",
             f"- language: `{st['lang']}`; test set `{st['test_set']}` ({st['n_utts']} utterances forwarded); "
             f"decode `{st['inference_tag']}`; checkpoint `{st['model_file']}`",
             f"- CKA: {est} estimator (both in analysis.json); at most {st['max_frames']} encoder frames and "
             f"{st['max_frames']} decoder tokens per model, subsampled with seed {st['seed']}; "
             "hidden states from forward hooks in eval mode, decoders teacher-forced",
             f"- gradient conflict: {st['grad_batches']} batches of {st['grad_batch_size']} from `{st['train_set']}`",
             "- every number is in `analysis.json`", ""]
    for name, g in analysis["groups"].items():
        figs = figures.get(name, {})
        lines += [f"## Size `{name}`: STL-surface `{g['stl_surface']}`, STL-meaning `{g['stl_meaning']}`, "
                  f"MTL {', '.join(f'`{m}`' for m in g['mtl'])}", ""]
        lines += _divergence(g, figs)
        lines += _encoder(g, figs, est)
        lines += _decoders(g, figs, est)
        lines += _task_vectors(g, figs)
        lines += _gradient(g, figs)
    return "\n".join(lines) + "\n"
