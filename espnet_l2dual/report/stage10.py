"""REPORT.md of stage 10: tables, figure links, and one paragraph per analysis.

Rendering only: every number comes from analysis.json, every sentence is generated
from those numbers (no canned conclusions), and a difference is called higher or
lower only where its interval says so (:mod:`espnet_l2dual.report.verdict`; CKA
differences by :func:`cka_verdict`, on their Bonferroni-adjusted interval as printed).
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence

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


def _ci(ci: Optional[Sequence[Optional[float]]]) -> str:
    return "" if not ci or any(x is None for x in ci) else f" [{ci[0]:.3f}, {ci[1]:.3f}]"


def _cell(p: dict, est: str, i: int) -> str:
    """A layer's CKA and, for the debiased estimator, its interval."""
    diag = p[est]["diag"]
    if i >= len(diag):
        return "-"
    cis = p.get("interval", {}).get("ci95") if est == "debiased" else None
    return _f(diag[i]) + (_ci(cis[i]) if cis and i < len(cis) else "")


def _null_cells(p: dict) -> str:
    nl = p.get("null") or {}
    if nl.get("mean") is None:
        return f"{nl.get('skipped', '-')}|-|"
    return f"{_f(nl['mean'])} / {_f(nl['p95'])}|{nl['p']:.3g}|"


def _above_null(p: dict) -> Optional[bool]:
    nl = p.get("null") or {}
    return None if nl.get("p") is None else nl["p"] <= 0.05


def _null_words(p: dict) -> str:
    nl = p.get("null") or {}
    if nl.get("p") is None:
        return "no permutation null"
    return (f"permutation null at layer {nl['layer']}: mean {_f(nl['mean'])}, 95th percentile {_f(nl['p95'])}, "
            f"p = {nl['p']:.3g}")


def cka_verdict(ci: Optional[Sequence[Optional[float]]]) -> Optional[str]:
    """"higher"/"lower" where the (adjusted) interval of a CKA difference excludes 0 as printed
    (3 decimals), else None: not resolved."""
    if not ci or any(x is None for x in ci):
        return None
    lo, hi = round(float(ci[0]), 3), round(float(ci[1]), 3)
    return "higher" if lo > 0 else "lower" if hi < 0 else None


def _diff_words(c: dict) -> str:
    if c.get("diff") is None:
        return f"no difference ({c.get('no_ci', 'missing')})"
    return (f"difference {c['diff']:+.3f}, 95% CI{_ci(c['ci95'])}, Bonferroni-adjusted over {c['family_size']} "
            f"CKA comparisons{_ci(c['ci_adjusted'])}")


def comparison_sentence(c: dict, mtl: str) -> str:
    """The words of one CKA difference: a direction only where the adjusted interval excludes 0."""
    v = cka_verdict(c.get("ci_adjusted"))
    if c["name"].startswith("encoder"):
        where = "last layer" if c["name"] == "encoder_last" else "encoder (mean over layers)"
        if v is None:
            return (f"Whether the {mtl} {where} resembles STL-surface or STL-meaning more: not resolved "
                    f"({_diff_words(c)}).")
        more, less = ("STL-surface", "STL-meaning") if v == "higher" else ("STL-meaning", "STL-surface")
        return f"The {mtl} {where} resembles {more} more than {less} ({_diff_words(c)})."
    if v is None:
        return (f"Which {mtl} decoder departs more from its STL counterpart: not resolved "
                f"(surface minus meaning, {_diff_words(c)}).")
    far, near = ("meaning", "surface") if v == "higher" else ("surface", "meaning")
    return (f"In {mtl} the {far} decoder departs more from its STL counterpart than the {near} decoder "
            f"(surface minus meaning, {_diff_words(c)}).")


def _encoder(g: dict, figs: dict, est: str) -> List[str]:
    enc = g["encoder_cka"]
    pairs = enc["pairs"]
    cs = g.get("cka_settings", {})
    lines = ["### 2. Encoder entanglement (CKA per layer)", "",
             f"Estimator: linear-kernel CKA, {_ESTIMATOR[est]}, on {g['n_encoder_frames']} encoder frames "
             "(seeded subsample); "
             "the last column is the biased estimator (last layer), for comparison only."
             + (f" Brackets: 95% CI, {cs['interval']}. Null: {cs['null']}." if est == "debiased" and cs else ""), "",
             f"|pair ({est} CKA)|" + "|".join(f"layer {l}" for l in enc["layers"])
             + "|mean|null mean / 95th pct|p (null)|biased, last layer|",
             "|---|" + "---|" * (len(enc["layers"]) + 4)]
    for key, p in pairs.items():
        if p.get(est):
            diag = p[est]["diag"]
            mean_ci = _ci(p.get("interval", {}).get("mean_ci95")) if est == "debiased" else ""
            biased = _f(p["linear"]["diag"][-1]) if p.get("linear") else "-"
            lines.append(f"|{p['a']} vs {p['b']}|" + "|".join(_cell(p, est, i) for i in range(len(enc["layers"])))
                         + f"|{_f(_mean(diag))}{mean_ci}|{_null_cells(p)}{biased}|")
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
        word = _similarity(_mean(d)) if _above_null(base) is not False else "not distinguishable from unrelated"
        text.append(f"The two task-optimal encoders (STL-surface vs STL-meaning) are {word} "
                    f"(mean CKA {_f(_mean(d))}, last layer {_f(d[-1])}, first layer {_f(d[0])}; {_null_words(base)}).")
    comps = g.get("cka_comparisons", [])
    for mtl in g["mtl"]:
        ps, pm = pairs.get(f"{mtl}_vs_stl_surface", {}), pairs.get(f"{mtl}_vs_stl_meaning", {})
        if ps.get(est) and pm.get(est):
            text.append(f"The {mtl} encoder vs STL-surface: last layer {_f(ps[est]['diag'][-1])}, mean "
                        f"{_f(_mean(ps[est]['diag']))}; vs STL-meaning: last layer {_f(pm[est]['diag'][-1])}, mean "
                        f"{_f(_mean(pm[est]['diag']))}.")
        if est == "debiased":
            text += [comparison_sentence(c, mtl) for c in comps if c["mtl"] == mtl and c["name"].startswith("encoder")]
    ctx = g["context_cka"]
    if ctx:
        lines += [f"Source-attention contexts inside the MTL model, surface vs meaning decoder ({est} CKA; "
                  "one row per utterance: context averaged over tokens):", "",
                  "|MTL model|" + "decoder layers (CKA)|null mean / 95th pct|p (null)|n utt|", "|---|---|---|---|---|"]
        for mtl, p in ctx.items():
            if p.get(est):
                vals = ", ".join(_cell(p, est, i) for i in range(len(p[est]["diag"])))
                lines.append(f"|{mtl}|{vals}|{_null_cells(p)}{p.get('n', '-')}|")
            else:
                lines.append(f"|{mtl}|skipped: {p.get('skipped', 'too few')}|-|-|{p.get('n', '-')}|")
            if p.get(est):
                m = _mean(p[est]["diag"])
                state = ("entangled: both decoders read nearly the same thing from the encoder" if m is not None and m >= 0.9
                         else "partly task-specific" if m is not None and m >= 0.5 else "task-specific")
                if _above_null(p) is False:
                    state = "not distinguishable from unrelated contexts"
                text.append(f"In {mtl} the surface and meaning decoders' contexts have mean CKA {_f(m)} "
                            f"({state}; {_null_words(p)}).")
        lines.append("")
        lines += _fig(figs, "context_cka", "context CKA per decoder layer")
    lines += [" ".join(text), ""]
    return lines


def _decoders(g: dict, figs: dict, est: str) -> List[str]:
    lines = ["### 3. Cross-task decoders (MTL vs STL decoder hidden states)", "",
             f"|MTL model|output|per decoder layer ({est} CKA)|mean|null mean / 95th pct|p (null)|n tokens|",
             "|---|---|---|---|---|---|---|"]
    text = []
    for mtl, per in g["decoder_cka"].items():
        for o, p in per.items():
            if p.get(est):
                mean_ci = _ci(p.get("interval", {}).get("mean_ci95")) if est == "debiased" else ""
                lines.append(f"|{mtl}|{o}|{', '.join(_cell(p, est, i) for i in range(len(p[est]['diag'])))}|"
                             f"{_f(_mean(p[est]['diag']))}{mean_ci}|{_null_cells(p)}{p['n']}|")
            else:
                lines.append(f"|{mtl}|{o}|skipped: {p.get('skipped', 'too few examples')}|-|-|-|-|")
        if est == "debiased":
            text += [comparison_sentence(c, mtl) for c in g.get("cka_comparisons", [])
                     if c["mtl"] == mtl and c["name"] == "decoder_mean"]
    lines.append("")
    lines += _fig(figs, "decoder_cka", "decoder CKA per layer")
    lines += [" ".join(text) or "No decoder comparison was worded (it needs the debiased estimator's intervals).", ""]
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
    lines += ["|MTL model|encoder part|mean cosine|95% CI (batches)|std|per batch|", "|---|---|---|---|---|---|"]
    text = []
    for mtl, r in done.items():
        for row in list(r["layers"]) + list(r["parts"]) + [r["all"]]:
            ci = row.get("ci95")
            ci_text = _ci(ci).strip() or "none: " + row.get("no_ci", "")
            lines.append(f"|{mtl}|{row['layer']}|{_f(row['mean'])}|{ci_text}|"
                         f"{_f(row['std'])}|{', '.join(_f(x) for x in row['per_batch'])}|")
        text.append(gradient_sentence(mtl, r))
    lines.append("")
    lines += _fig(figs, "gradient_conflict", "gradient cosine per layer")
    return lines + [" ".join(text), ""]


def gradient_sentence(mtl: str, r: dict) -> str:
    """Words about the gradient cosine only where its interval over batches exists and excludes 0."""
    all_ci = r["all"].get("ci95")
    if not all_ci:
        return (f"In {mtl}, {r['n_batches']} training batches give no interval for the gradient cosine "
                f"({r['all'].get('no_ci', 'too few batches')}): no statement is made.")
    s = (f"In {mtl}, over {r['n_batches']} training batches of {r['batch_size']} utterances the surface and "
         f"meaning gradients of the whole encoder have mean cosine {_f(r['all']['mean'])} (95% CI{_ci(all_ci)}, "
         f"{r.get('interval', 'bootstrap over batches')})")
    neg = [row["layer"] for row in r["layers"] if row.get("ci95") and round(row["ci95"][1], 3) < 0]
    s += (f"; the interval lies below 0 (the tasks conflict) in {', '.join(neg)}." if neg
          else "; in no encoder layer does the interval lie below 0.")
    return s


FOLLOWING_TITLE = ("### 6. Error following on the learner-error twins "
                   "(unit: speakers, then utterances; percentile bootstrap)")


def _rate_cell(r: dict) -> str:
    ci = r.get("ci95")
    return f"{r['rate']:.2f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else f" (no interval: {r.get('no_ci', '-')})")


def following_sentence(d: dict) -> str:
    """The MTL − STL-surface normalisation difference in words: a direction only where its
    (Holm-adjusted) interval excludes 0, else "not resolved". In percentage points: the verdict
    judges the ends as printed, and a rate's 2 decimals would round an interval of
    [+0.004, +0.048] to one that includes 0."""
    ci = d.get("ci_adj") or d.get("ci95")
    label = (f"Holm-adjusted {100 * d['level_adj']:.1f}% CI" if d.get("ci_adj") else "95% CI")
    if d.get("diff") is None or not ci:
        return (f"Whether {d['mtl']} normalises learner errors more often than {d['stl_surface']}: not resolved "
                f"(no interval: {d.get('no_ci', 'none')}).")
    points = [100 * float(x) for x in ci]
    v = verdict(points, lower="less", higher="more", label=label)
    diff = f"normalisation rate MTL − STL-surface {100 * float(d['diff']):+.2f} percentage points"
    if not v.resolved:
        return (f"Whether {d['mtl']} normalises learner errors more often than {d['stl_surface']}: not resolved "
                f"({diff}, {label} {format_ci(points)}).")
    return f"{d['mtl']} normalises learner errors {v.text} often than {d['stl_surface']} ({diff}, {label} {format_ci(points)})."


def _error_following(g: dict) -> List[str]:
    """Section 6: per model the rates of follows / normalises / other on the single-error twins,
    and the paired MTL − STL-surface normalisation difference (absent in an analysis.json made
    before the twin set existed: no section)."""
    ef = g.get("error_following")
    if ef is None:
        return []
    if "skipped" in ef:
        return [FOLLOWING_TITLE, "", f"Skipped: {ef['skipped']}.", ""]
    lines = [FOLLOWING_TITLE, "",
             "Where a single-error twin carries its one learner error, what the surface output writes: the "
             "error (follows: what was said), the canonical form (normalises: what was meant) or neither "
             f"(other). {_n(ef['n_errors'], 'error')} in {_n(ef['n_originals'], 'original utterance')} of "
             f"{_n(ef['n_speakers'], 'speaker')} (`{ef['twin_set']}`); 95% CI: {ef['method']} over {ef['unit']}"
             + ("" if ef["n_speakers"] > 1 else " (one speaker: over utterances only)")
             + ". Rates per error kind are in analysis.json.", "",
             "|model|errors|follows|normalises|other|", "|---|---|---|---|---|"]
    for tag, m in ef["models"].items():
        o = m["overall"]
        lines.append(f"|{tag}|{o['n_errors']}|{_rate_cell(o['follows'])}|{_rate_cell(o['normalises'])}|"
                     f"{_rate_cell(o['other'])}|")
    diffs = ef["normalisation_difference"]
    if diffs:
        lines += ["", "|MTL model|normalisation rate, MTL − STL-surface|95% CI|Holm-adjusted CI|",
                  "|---|---|---|---|"]
        for d in diffs:
            ci, adj = d.get("ci95"), d.get("ci_adj")
            lines.append(f"|{d['mtl']}|{_pp(d['diff'])}|{format_ci(ci) if ci else 'none: ' + d.get('no_ci', '-')}|"
                         + (f"{format_ci(adj)} ({100 * d['level_adj']:.1f}%)|" if adj else "-|"))
        lines += ["", " ".join(following_sentence(d) for d in diffs)]
    return lines + [""]


DISTANCE_TITLE = ("### 7. Twin distance per encoder layer "
                  "(unit: speakers, then utterances; percentile bootstrap)")


def _mean_cell(r: dict, key: str) -> str:
    """``0.12 [0.08, 0.15]`` (a difference signed), or the bare value where there is no interval."""
    ci = r.get("ci95")
    value = f"{r[key]:+.2f}" if key == "diff" else f"{r[key]:.2f}"
    return value + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "")


def _twin_distance(g: dict) -> List[str]:
    """Section 7: per model and encoder layer how far one learner error moves the representation
    (1.0 = as far as a different sentence of the same speaker), and MTL − STL-surface per layer
    (absent in an analysis.json made before it existed: no section)."""
    td = g.get("twin_distance")
    if td is None:
        return []
    if "skipped" in td:
        return [DISTANCE_TITLE, "", f"Skipped: {td['skipped']}.", ""]
    n_layers = max(len(m["layers"]) for m in td["models"].values())
    head = "|" + "|".join(str(i) for i in range(n_layers)) + "|"
    rule = "|---" * (n_layers + 1) + "|"
    lines = [DISTANCE_TITLE, "",
             f"How far one learner error moves each encoder layer: {td['distance']}, between a single-error "
             f"twin and the canonical twin of its original, over {td['normalised_by']}. "
             f"{_n(td['n_pairs'], 'twin pair')} in {_n(td['n_originals'], 'original utterance')} of "
             f"{_n(td['n_speakers'], 'speaker')} (`{td['twin_set']}`); 95% CI: {td['method']} over {td['unit']}.",
             "", "|model (layer)" + head, rule]
    for tag, m in td["models"].items():
        lines.append(f"|{tag}|" + "|".join(_mean_cell(r, "mean") for r in m["layers"]) + "|")
    if td["mtl_minus_stl_surface"]:
        lines += ["", "|MTL − STL-surface (layer)" + head, rule]
        for tag, d in td["mtl_minus_stl_surface"].items():
            lines.append(f"|{tag}|" + "|".join(_mean_cell(r, "diff") for r in d["layers"]) + "|")
    return lines + [""]


def _over_seeds(block: Dict[str, dict]) -> List[str]:
    """CKA differences over the seeds of one size: mean over seeds, interval over seeds and utterances."""
    lines = ["## CKA differences over seeds", ""]
    for size, b in block.items():
        lines += [f"Size `{size}`, groups {', '.join(f'`{g}`' for g in b['groups'])}. Mean over seeds of each "
                  f"debiased CKA difference; 95% CI: {b['method']}; adjusted: Bonferroni over "
                  f"{len(b['comparisons'])} comparisons.", "",
                  "|MTL model|difference|per seed|mean|95% CI|adjusted CI|", "|---|---|---|---|---|---|"]
        text = []
        for c in b["comparisons"]:
            lines.append(f"|{c['mtl']}|{c['what']}|{', '.join(_f(x) for x in c['per_seed'])}|{_f(c['mean'])}|"
                         f"{_ci(c['ci95']).strip() or '-'}|{_ci(c['ci_adjusted']).strip() or '-'}|")
            text.append(comparison_sentence({**c, "diff": c["mean"]}, c["mtl"]))
        lines += ["", " ".join(text), ""]
    return lines


def render(analysis: dict, figures: dict) -> str:
    st = analysis["settings"]
    est = st["estimator"]
    lines = ["<!-- Generated by espnet_l2dual.bin.analyze -->", "# Stage 10: entanglement analysis", "",
             f"- language: `{st['lang']}`; test set `{st['test_set']}` ({st['n_utts']} utterances forwarded); "
             f"decode `{st['inference_tag']}`; checkpoint `{st['model_file']}`",
             f"- CKA: {est} estimator ({_ESTIMATOR[est]}; both in analysis.json); permutation null: "
             f"{st.get('cka_permutations', '-')} shuffles of the utterance pairing; intervals: "
             f"{st.get('cka_bootstrap', '-')} bootstrap resamples of speakers, then utterances, percentile; "
             "differences of CKA worded only where their Bonferroni-adjusted interval excludes 0 "
             "(else \"not resolved\"); rows compared only where both models have the same frame rate; "
             f"at most {st['max_frames']} encoder frames and "
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
        lines += _error_following(g)
        lines += _twin_distance(g)
    if analysis.get("cka_over_seeds"):
        lines += _over_seeds(analysis["cka_over_seeds"])
    return "\n".join(lines) + "\n"
