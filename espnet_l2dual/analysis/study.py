"""The cross-language study's numbers, computed in one place (report.json).

STL vs MTL per language and output, the rows of every other config (a disentangling
method) against both, MDD F1, the task CKA of each model and the entanglement scalars
of stage 10. Every difference carries its 95% paired-bootstrap interval over speakers, then
utterances within them (:mod:`espnet_l2dual.scoring.paired_bootstrap`), computed from sclite's
per-utterance counts of each output's headline error rate (PER for phones, CER for
characters), and each language's comparisons form declared families (MTL−STL; the methods
against STL and MTL; MDD F1), Holm-adjusted (:mod:`espnet_l2dual.scoring.multiplicity`). The
STL/MTL/method table is built by :mod:`espnet_l2dual.analysis.tables`, which also builds the report
over seeds from the same scores. Rendering is :mod:`espnet_l2dual.report.cross_language`'s job;
nothing here writes words.

Inputs are read through :mod:`espnet_l2dual.analysis.access`: whatever the report needs
and does not find is collected into one :class:`MissingInputs` that names the language,
the config and the file, so no table is ever filled with a silent "n/a".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from espnet_l2dual.analysis import access
from espnet_l2dual.analysis.access import Doc, not_applicable
from espnet_l2dual.analysis.tables import BASE_CONFIGS, OneSeed, Scored, adjust, comparison_table, score_output
from espnet_l2dual.errors import DataError
from espnet_l2dual.scoring.blocked_bootstrap import DEFAULT_RESAMPLES, METHOD, SPEAKERS, speaker_of, unit_label
from espnet_l2dual.scoring.multiplicity import ADJUSTMENT
from espnet_l2dual.scoring.paired_bootstrap import paired_f1_difference, read_mdd_counts

from espnet_l2dual.outputs import PAIR as OUTPUTS  # noqa: E402  (the study compares this pair)
MDD_REFERENCES = ("prompted", "prompt_free")


class MissingInputs(ValueError):
    """What the report needs and did not find, one line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Recipe:
    """One language's recipe directory, e.g. egs2/l2ko/asr1."""

    path: Path

    @property
    def lang(self) -> str:
        name = self.path.resolve().parent.name  # l2ko
        return name[2:] if name.startswith("l2") else name

    def results_path(self, config: str, suffix: str) -> Path:
        return self.path / "exp" / f"asr_{config}{suffix}" / "results.json"

    @property
    def analysis_path(self) -> Path:
        return self.path / "exp" / "analysis" / "analysis.json"

    # the reader interface the reports use (the study store's side: espnet_l2dual.study.store.StoreRecipe)

    def load_results(self, config: str, suffix: str) -> Doc:
        return access.load_results(self.results_path(config, suffix))

    def load_analysis(self) -> Doc:
        return access.load_analysis(self.analysis_path)

    def eval_divergence(self, test_set: str) -> Dict[str, float]:
        """{utt: divergence} of the evaluation set (stage 4's utt2divergence)."""
        from espnet_l2dual.scoring.by_divergence import read_divergence

        return read_divergence(self.path / "dump" / "raw" / test_set / "utt2divergence")


def tasks_of(config: str) -> Tuple[str, ...]:
    """The outputs a config decodes: STL configs one, every other config both."""
    return {"stl_surface": ("surface",), "stl_meaning": ("meaning",)}.get(config, OUTPUTS)


@dataclass
class Models:
    """One language's models at one seed: each results.json read and each output scored once
    (the report over seeds builds its tables from the same scores)."""

    docs: Dict[str, Doc]
    scored: Dict[Tuple[str, str], Scored]
    provenance: Dict[str, Any]


# ------------------------------------------------------------------ the study


def collect(recipes: Sequence[Recipe], configs: Sequence[str], suffix: str, test_set: str,
            with_analysis: bool = True, unit: str = SPEAKERS, allow_absent: bool = False) -> Dict[str, Any]:
    """Everything the report shows, as plain data (report.json); MissingInputs lists what is missing.

    ``unit``: what the intervals resample ("speakers": speakers, then utterances within them;
    "utterances": utterances only). ``allow_absent``: a method config (not STL/MTL) with no
    ``results.json`` in a recipe (never trained there) is left out of that language and named in
    ``absent_configs`` instead of being a problem; anything else missing still is."""
    return collect_models(recipes, configs, suffix, test_set, with_analysis, unit, allow_absent)[0]


def check_configs(recipes: Sequence[Recipe], configs: Sequence[str]) -> None:
    """ValueError unless ``configs`` has the baselines and no two recipes are of one language."""
    missing = [c for c in BASE_CONFIGS if c not in configs]
    if missing:
        raise ValueError(f"--configs must include {', '.join(BASE_CONFIGS)} (the report compares against "
                         f"them); missing: {', '.join(missing)}")
    langs = [r.lang for r in recipes]
    if len(set(langs)) != len(langs):
        raise ValueError(f"two recipes of one language: {', '.join(str(r.path) for r in recipes)}")


def collect_models(recipes: Sequence[Recipe], configs: Sequence[str], suffix: str, test_set: str,
                   with_analysis: bool = True, unit: str = SPEAKERS,
                   allow_absent: bool = False) -> Tuple[Dict[str, Any], Dict[str, Models]]:
    """:func:`collect`, and each language's scored models (the report over seeds reuses them)."""
    check_configs(recipes, configs)
    problems: List[str] = []
    out: Dict[str, Any] = {"test_set": test_set, "suffix": suffix, "with_analysis": with_analysis,
                           "configs": list(configs), "languages": {}, "interval": interval_method(unit),
                           "absent_configs": {}}
    models: Dict[str, Models] = {}
    for r in recipes:
        present = list(configs)
        if allow_absent:
            absent = [c for c in configs if c not in BASE_CONFIGS and not r.results_path(c, suffix).is_file()]
            present = [c for c in configs if c not in absent]
            if absent:
                out["absent_configs"][r.lang] = absent
        n_before = len(problems)
        models[r.lang] = read_models(r, present, suffix, test_set, problems)
        lang = _language(r, models[r.lang], present, suffix, test_set, with_analysis, problems, unit, n_before)
        if lang is not None:
            out["languages"][r.lang] = lang
    if problems:
        raise MissingInputs(problems)
    return out, models


def _attempt(problems: List[str], where: str, fn: Callable[[], Any]) -> Any:
    """Run ``fn``; a DataError becomes one problem line prefixed with ``where``."""
    try:
        return fn()
    except DataError as e:
        problems.append(f"{where}: {e}")
        return None


def interval_method(unit: str, seeds: bool = False) -> Dict[str, Any]:
    """What every interval of a report resamples and how (the tables print it)."""
    return {"unit": unit_label(unit, seeds), "method": f"{METHOD} bootstrap", "n_resamples": DEFAULT_RESAMPLES,
            "confidence": 0.95, "adjustment": f"{ADJUSTMENT} within each family (family-wise 0.05)"}


def read_models(r: Recipe, configs: Sequence[str], suffix: str, test_set: str, problems: List[str]) -> Models:
    """Each config's results.json and the per-utterance counts of each output, read once;
    what is missing, or outputs judged by different metrics, become ``problems``."""
    m = Models({}, {}, {})
    for c in configs:
        doc = _attempt(problems, f"{r.lang} {c}", lambda c=c: r.load_results(c, suffix))
        if doc is None:
            continue
        m.docs[c] = doc
        m.provenance[c] = _attempt(problems, f"{r.lang} {c}", lambda doc=doc: doc.need("provenance"))
        for o in tasks_of(c):
            s = _attempt(problems, f"{r.lang} {c} {o}", lambda doc=doc, o=o: score_output(doc, test_set, o))
            if s is not None:
                m.scored[(c, o)] = s
    for o in OUTPUTS:  # one metric per output, or the differences mean nothing
        names = {c: m.scored[(c, o)].metric for c in configs if (c, o) in m.scored}
        if len(set(names.values())) > 1:
            problems.append(f"{r.lang} {o}: the configs judge this output by different metrics ("
                            + ", ".join(f"{c} {h.name} ({h.unit} units)" for c, h in names.items())
                            + "): train them with the same token type, or score them with the same --unit_" + o)
    return m


def _language(r: Recipe, models: Models, configs: Sequence[str], suffix: str, test_set: str, with_analysis: bool,
              problems: List[str], unit: str, n_before: int) -> Optional[Dict[str, Any]]:
    """One language's report at one seed; None if it (or reading its models) added problems."""
    analysis = None
    if with_analysis:
        analysis = _attempt(problems, f"{r.lang} analysis", lambda: r.load_analysis())
    if len(problems) > n_before:
        return None
    lang: Dict[str, Any] = {"recipe": str(r.path),
                            **comparison_table({k: [v] for k, v in models.scored.items()}, configs, OneSeed(unit))}
    lang["provenance"] = models.provenance
    mtl_surface = models.scored[("mtl", "surface")]
    spk = speakers_of(mtl_surface.errors[mtl_surface.metric.kind])
    lang["mdd"] = _attempt(problems, f"{r.lang} MDD", lambda: mdd_rows(models.docs, configs, test_set, spk, unit))
    lang["families"] = adjust_language(r.lang, lang)
    if analysis is not None:
        size = suffix.lstrip("_") or "full"
        g = _attempt(problems, f"{r.lang} analysis", lambda: access.group(analysis, size))
        if g is not None:
            lang["task_cka"] = {c: _attempt(problems, f"{r.lang} {c} task CKA", lambda c=c: task_cka(g, f"asr_{c}{suffix}"))
                                for c in ["mtl", *lang["methods"]]}
            lang["entanglement"] = _attempt(problems, f"{r.lang} entanglement",
                                            lambda: entanglement_summary(g, f"asr_mtl{suffix}",
                                                                         {c: f"asr_{c}{suffix}" for c in lang["methods"]}))
    return None if len(problems) > n_before else lang


def speakers_of(errors: Mapping[str, Any]) -> Dict[str, str]:
    """{utt: speaker} from sclite trn ids ``spk-utt`` (MDD counts are keyed by the plain utt id)."""
    return {k.split("-", 1)[-1]: speaker_of(k) for k in errors}


def comparison_families(lang_name: str, lang: Mapping[str, Any]) -> Dict[str, List[Dict[str, Any]]]:
    """The families of one language's report: MTL−STL (every output and metric), the methods
    against STL and MTL, and the MDD F1 differences."""
    fams: Dict[str, List[Dict[str, Any]]] = {
        f"{lang_name} MTL−STL": [r["mtl_minus_stl"] for o in OUTPUTS for r in lang["outputs"][o]["rows"]],
        f"{lang_name} methods vs STL and MTL": [v[o][key] for v in lang["methods"].values() for o in OUTPUTS
                                                 for key in ("vs_stl", "vs_mtl")],
        f"{lang_name} MDD F1 differences": [block[key] for row in (lang.get("mdd") or {}).values()
                                            for block in row.values() for key in ("vs_stl_surface", "vs_mtl")
                                            if key in block],
    }
    return {k: v for k, v in fams.items() if v}


def adjust_language(lang_name: str, lang: Mapping[str, Any]) -> Dict[str, int]:
    """Holm-adjust each family of one language, then store every comparison's record."""
    return adjust(comparison_families(lang_name, lang), OneSeed())


# ------------------------------------------------------------------ MDD


def mdd_rows(docs: Mapping[str, Doc], configs: Sequence[str], test_set: str,
             speakers: Optional[Mapping[str, str]] = None, unit: str = SPEAKERS) -> Dict[str, Any]:
    """F1 of each config's surface MDD, prompted and prompt-free, with paired-bootstrap intervals
    against STL-surface and against MTL, over the test utterances (configs without an MDD block:
    the test set has no text_canonical, none is shown)."""
    rows: Dict[str, Any] = {}
    counts: Dict[Tuple[str, str], Any] = {}
    for c in (c for c in configs if "surface" in tasks_of(c)):
        entry = access.output_entry(docs[c], test_set, "surface")
        if not entry.has("mdd"):
            continue
        rows[c] = {}
        for ref in MDD_REFERENCES:
            block = entry.at("mdd", ref)
            if block.has("note") or not block.has("f1"):  # not computed or undefined, and the block says why
                rows[c][ref] = {"note": block.need("note")}
                continue
            rows[c][ref] = {k: block.need(k) for k in ("precision", "recall", "f1")}
            f = access.score_dir(entry) / "score_mdd" / f"{ref}.tsv"
            if not f.is_file():
                raise DataError(f, None, f"not found: the per-utterance MDD counts of {c} (stage 9 writes them)")
            counts[(c, ref)] = read_mdd_counts(f)
    for c, row in rows.items():
        for ref in MDD_REFERENCES:
            for base in ("stl_surface", "mtl"):
                if base == c or base not in rows or "note" in row[ref]:
                    continue
                if "note" in rows[base][ref]:
                    row[ref][f"vs_{base}"] = {"ci95": None, "no_ci": f"{base}: {rows[base][ref]['note']}"}
                    continue
                d = paired_f1_difference(counts[(base, ref)], counts[(c, ref)], unit=unit,
                                         speakers=speakers if unit == SPEAKERS else None)
                row[ref][f"vs_{base}"] = {"_raw": d}
    return rows


# ------------------------------------------------------------------ stage 10 scalars


def task_cka(g: Doc, tag: str) -> Dict[str, access.Value]:
    """How alike the two outputs' representations are inside model ``tag`` (debiased CKA): decoder
    contexts (mean over layers) and, for models with an encoder path per output, their last layer."""
    contexts = access.layer_mean(access.cka_diag(g.at("context_cka", tag)))
    if g.need("encoder_cka", "own_paths", tag):
        encoder = access.last_layer(access.cka_diag(g.at("encoder_cka", "pairs", f"{tag}:surface_vs_{tag}:meaning")))
    else:
        encoder = not_applicable("one encoder path shared by both outputs")
    return {"contexts": contexts, "encoder": encoder}


SPEARMAN = "Spearman rho, divergence vs MTL−STL surface error rate (headline metric)"
NORMALISES = "learner errors normalised by the surface output (twin set), MTL − STL-surface rate"
TWIN_DISTANCE = "twin distance, last encoder layer, MTL − STL-surface (1.0: as far as another sentence)"
WITHIN = "the same, ranked within each speaker (pooled): the speaker cannot confound it"


def entanglement_summary(g: Doc, mtl_tag: str, method_tags: Mapping[str, str] = {}) -> Dict[str, access.Value]:
    """The scalars of one recipe's stage-10 analysis that the cross-language table compares
    (``method_tags``: the report's method configs and their model tags, for the twin rows)."""
    if mtl_tag not in g.need("mtl"):
        raise DataError(g.source, None, f"'{'.'.join(g.prefix)}.mtl' does not list {mtl_tag} "
                        f"(it lists {', '.join(g.need('mtl')) or 'none'}): re-run stage 10")

    def enc(pair: str) -> access.Value:
        return access.last_layer(access.cka_diag(g.at("encoder_cka", "pairs", pair)))

    def dec(o: str) -> access.Value:
        return access.last_layer(access.cka_diag(g.at("decoder_cka", mtl_tag, o)))

    def grad() -> access.Value:
        """The whole-encoder gradient cosine, only with its interval over batches."""
        v = g.number("gradient_conflict", mtl_tag, "all", "mean")
        if isinstance(v, dict) or g.at("gradient_conflict", mtl_tag, "all").data.get("ci95"):
            return v
        return access.skipped("no interval over batches: "
                              + str(g.at("gradient_conflict", mtl_tag, "all").data.get("no_ci", "too few batches")))

    sp = ("divergence", "spearman", mtl_tag, "surface")
    return {
        "encoder debiased CKA, STL-surface vs STL-meaning (last layer)": enc("stl_surface_vs_stl_meaning"),
        "  permutation null, 95th percentile (same pair, last layer)":
            g.number("encoder_cka", "pairs", "stl_surface_vs_stl_meaning", "null", "p95"),
        "encoder debiased CKA, MTL vs STL-surface (last layer)": enc(f"{mtl_tag}_vs_stl_surface"),
        "encoder debiased CKA, MTL vs STL-meaning (last layer)": enc(f"{mtl_tag}_vs_stl_meaning"),
        "MTL surface vs meaning decoder contexts, debiased CKA (mean over layers)":
            access.layer_mean(access.cka_diag(g.at("context_cka", mtl_tag))),
        "decoder debiased CKA, MTL vs STL surface decoder (last layer)": dec("surface"),
        "decoder debiased CKA, MTL vs STL meaning decoder (last layer)": dec("meaning"),
        "task-vector cosine, whole encoder": g.number("task_vectors", "all", "cosine"),
        "gradient cosine surface vs meaning, whole encoder": grad(),
        SPEARMAN: g.number(*sp, "rho"),
        "  (p-value)": g.number(*sp, "p"),
        **({WITHIN: g.number(*sp, "within_speaker", "rho"), "  (within speakers: permutation p-value)":
            g.number(*sp, "within_speaker", "p")} if g.has(*sp, "within_speaker") else {}),
        **twin_summary(g, mtl_tag, method_tags),
    }


def _computed(g: Doc, key: str) -> bool:
    """A stage-10 block that is there and was not skipped (an older or twin-less analysis has none)."""
    return g.has(key) and isinstance(g.need(key), dict) and "skipped" not in g.need(key)


def normalised_by(name: str, than: str) -> str:
    """The row of a difference in the rate of normalised learner errors (``than``: STL-surface or MTL)."""
    return NORMALISES.replace("MTL − STL-surface", f"{name} − {than}")


def twin_summary(g: Doc, mtl_tag: str, method_tags: Mapping[str, str]) -> Dict[str, access.Value]:
    """The interventional scalars of a group whose twin set was decoded: MTL − STL-surface in the rate
    of normalised learner errors, and in how far one error moves the last encoder layer; for every
    method model of the group (a second two-output model), its rate minus STL-surface's and minus
    MTL's (the same twins, so the difference of the two differences is exact); ``method_tags``:
    the report's method configs and their model tags."""
    out: Dict[str, access.Value] = {}
    if _computed(g, "error_following"):
        rows = g.need("error_following", "normalisation_difference")
        diffs = [d for d in rows if d.get("mtl") == mtl_tag]
        if len(diffs) != 1:
            raise DataError(g.source, None, f"'{'.'.join(g.prefix)}.error_following.normalisation_difference' "
                            f"has {len(diffs)} entries for {mtl_tag} (expected 1): re-run stage 10")
        mtl_diff = diffs[0].get("diff")
        out[NORMALISES] = access.skipped(diffs[0]["no_ci"]) if mtl_diff is None else float(mtl_diff)
        by_tag = {d.get("mtl"): d for d in rows}
        for name, tag in method_tags.items():
            d = by_tag.get(tag)
            if d is None:
                continue  # a method without a surface output, or not in this group's twin analysis
            if d.get("diff") is None:
                out[normalised_by(name, "STL-surface")] = access.skipped(d.get("no_ci", "no rate"))
                continue
            out[normalised_by(name, "STL-surface")] = float(d["diff"])
            out[normalised_by(name, "MTL")] = (access.skipped("no MTL rate") if mtl_diff is None
                                              else round(float(d["diff"]) - float(mtl_diff), 6))
    if _computed(g, "twin_distance"):
        layers = g.need("twin_distance", "mtl_minus_stl_surface", mtl_tag, "layers")
        out[TWIN_DISTANCE] = float(layers[-1]["diff"]) if layers else access.skipped("no encoder layer")
    return out
