"""Stage 9's MDD block: prompted and prompt-free detection from a model's surface output.

Prompted: the canonical units come from ``text_canonical`` of the data dir (the prompt's
expected pronunciation). Prompt-free: they come from the model's own *meaning* hypothesis,
turned into the surface units (Korean: the toolkit's standard-pronunciation rules; English
letters: the spelling itself); phone outputs have no lexicon that ships in a package, so
their prompt-free block says so instead of guessing. Both are scored against the same
human labels (``text_surface``), see :mod:`espnet_l2dual.scoring.mdd` for the definition.
Units: Korean jamo, English letters (word boundaries dropped), or the tokens of a token
output (phones).
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence

from espnet_l2dual.scoring.by_divergence import parse_bins
from espnet_l2dual.scoring.mdd import MddCounts, by_rule, count_corpus
from espnet_l2dual.scoring.units import SPACE, is_space_separated, to_units
from espnet_l2dual.utils.fileio import atomic_write, read_table


_UNIT_NAMES = {"phone": "phones", "token": "tokens"}


def mdd_units(text: str, lang: str, unit: str) -> List[str]:
    """The units MDD counts: tokens of a token or phone output, else jamo (ko) or letters, no boundaries."""
    if is_space_separated(unit):
        return text.split()
    kind = "jer" if lang == "ko" else "cer"
    return [u for u in to_units(text, kind, lang) if u != SPACE]


def canonical_from_meaning(meaning: str, lang: str, unit: str) -> Optional[str]:
    """The expected pronunciation of an intended sentence, or None where no rule set ships."""
    if is_space_separated(unit):
        return None
    if lang == "ko":
        from espnet_l2dual.text.korean_pronunciation import pronounce

        return pronounce(meaning)[0]
    return meaning


def write_per_utterance(path: Path, per_utt: Mapping[str, MddCounts]) -> None:
    """``utt ta fr fa tr cd de`` per utterance: the report's paired bootstrap of F1 reads it."""
    with atomic_write(path) as f:
        f.write("utt ta fr fa tr cd de\n")
        for utt, c in sorted(per_utt.items()):
            f.write(f"{utt} {c.ta} {c.fr} {c.fa} {c.tr} {c.cd} {c.de}\n")


def _block(canonical: Mapping[str, List[str]], human: Mapping[str, List[str]], hyp: Mapping[str, List[str]],
           utt2div: Optional[Mapping[str, float]], bins_spec: str, utt2rules: Optional[Mapping[str, str]],
           per_utt_file: Optional[Path] = None, utt2spk: Optional[Mapping[str, str]] = None) -> dict:
    total, per_utt = count_corpus(dict(canonical), dict(human), dict(hyp))
    if per_utt_file is not None:
        write_per_utterance(per_utt_file, per_utt)
    out = total.to_json()
    if total.tr + total.fa == 0:  # e.g. speechocean762 without scores.json: surface = canonical
        out["note"] = "no mispronunciation annotated against this canonical: recall and F1 undefined"
    if utt2div is not None:
        rows = []
        for b in parse_bins(bins_spec):
            c, spk = MddCounts(), set()
            for utt, counts in per_utt.items():
                if utt in utt2div and b.holds(utt2div[utt]):
                    c.add(counts)
                    spk.add((utt2spk or {}).get(utt, utt))
            js = c.to_json()
            rows.append({"bin": b.label, **{k: js[k] for k in ("n_utt", "tr", "fa", "fr", "f1", "recall", "precision")},
                         **({"n_spk": len(spk)} if utt2spk is not None else {})})
        out["by_divergence"] = rows
    if utt2rules is not None:
        out["by_rule"] = by_rule(per_utt, dict(utt2rules))
    return out


def score_mdd(data_dir: Path, surface_hyp: Mapping[str, str], meaning_hyp: Optional[Mapping[str, str]],
              lang: str, unit: str, utt2div: Optional[Mapping[str, float]], bins_spec: str,
              out_dir: Optional[Path] = None, utt2spk: Optional[Mapping[str, str]] = None) -> Optional[dict]:
    """The MDD entry of a surface output, or None when the data dir has no ``text_canonical``.

    With ``out_dir``, the per-utterance counts go to ``out_dir/{prompted,prompt_free}.tsv``.
    """
    canonical_path, human_path = data_dir / "text_canonical", data_dir / "text_surface"
    if not canonical_path.is_file():
        return None
    human_text = read_table(human_path)
    rules_path = data_dir / "utt2rules"
    utt2rules = read_table(rules_path) if rules_path.is_file() else None
    human = {u: mdd_units(t, lang, unit) for u, t in human_text.items()}
    hyp = {u: mdd_units(surface_hyp.get(u, ""), lang, unit) for u in human_text}
    canonical = {u: mdd_units(t, lang, unit) for u, t in read_table(canonical_path).items() if u in human}
    entry: Dict[str, object] = {
        "units": _UNIT_NAMES.get(unit) or ("jamo" if lang == "ko" else "letters"),
        "prompted": _block(canonical, human, hyp, utt2div, bins_spec, utt2rules,
                           out_dir / "prompted.tsv" if out_dir else None, utt2spk),
    }
    if meaning_hyp is None:
        entry["prompt_free"] = {"note": "no meaning output in this model"}
    elif canonical_from_meaning("", lang, unit) is None:
        entry["prompt_free"] = {"note": "no lexicon/G2P ships for phone outputs"}
    else:
        derived = {u: mdd_units(canonical_from_meaning(meaning_hyp.get(u, ""), lang, unit) or "", lang, unit)
                   for u in human_text}
        entry["prompt_free"] = _block(derived, human, hyp, utt2div, bins_spec, utt2rules,
                                      out_dir / "prompt_free.tsv" if out_dir else None, utt2spk)
    return entry


def differences(expected: Sequence[str], said: Sequence[str],
                meant: Optional[Sequence[str]] = None) -> List[Dict[str, str]]:
    """Where ``said`` differs from ``expected`` (Levenshtein alignment of whole units: words,
    or phones): ``{"word", "expected", "said"}`` per differing position, ``""`` on a missing side;
    ``word`` is the unit of ``meant`` at that place (default: ``expected``)."""
    import Levenshtein

    meant = list(expected if meant is None else meant)
    out: List[Dict[str, str]] = []
    for op, i1, i2, j1, j2 in Levenshtein.opcodes(list(expected), list(said)):
        if op == "equal":
            continue
        for k in range(max(i2 - i1, j2 - j1)):
            i, j = i1 + k, j1 + k
            out.append({"word": meant[i] if i < i2 and i < len(meant) else "",
                        "expected": expected[i] if i < i2 else "", "said": said[j] if j < j2 else ""})
    return out


def word_mispronunciations(intended: str, said: str, lang: str, unit: str = "char") -> List[Dict[str, str]]:
    """Per word: what the learner should have said (the canonical pronunciation of ``intended``)
    and what the surface output heard, for every word where the two differ.

    ``intended`` is the prompt (prompted) or the model's meaning hypothesis (prompt-free); words
    are aligned with Levenshtein over whole words. Returns [] for phone outputs (no lexicon).
    """
    canonical = canonical_from_meaning(intended, lang, unit)
    if canonical is None:
        return []
    return differences(canonical.split(), said.split(), intended.split())
