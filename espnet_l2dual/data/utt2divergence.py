"""Write each utterance's surface–meaning divergence into ``utt2divergence`` (stage 4).

The reference (``--reference auto``) is ``text_canonical`` when the data dir has it (the
meaning in surface units: canonical phones, the Korean standard pronunciation, the English
spelling), else ``text_meaning``. ``--reference meaning`` compares with the meaning
transcript itself, as the study did: on the Korean mini corpus that counts the regular
phonological rules (``먹어요`` -> ``머거요``) as divergence too, while ``canonical`` counts only the
learner errors.

Divergence needs both sides in one unit system. A surface of ARPAbet phones against
a meaning in words (a phone corpus without ``text_canonical``) would put every
utterance in the top bin, so that is refused with the reason; ``--reference none``
writes no ``utt2divergence`` (stage 9 then has no divergence bins). With ``--unit auto``
a phone surface is compared phone by phone (``token``), otherwise by language.
Scoring by divergence bin (stage 9) reads this file.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Dict, Tuple

from espnet_l2dual.data.dir_tables import read_any_table, write_rows
from espnet_l2dual.errors import DataError
from espnet_l2dual.scoring.units import is_phone_inventory
from espnet_l2dual.text.divergence import default_unit, divergence
from espnet_l2dual.utils.fileio import PathLike, iter_table


REFERENCES = ("auto", "canonical", "meaning", "none")


def holds_phones(table: Dict[str, str]) -> bool:
    """True when every token of every value is an ARPAbet phone (a phone transcription)."""
    return is_phone_inventory(t for v in table.values() for t in v.split())


def resolve_unit(lang: str, unit: str, surface_is_phones: bool) -> str:
    """``auto``: ``token`` for a phone surface, else the language's unit (jamo / char)."""
    if unit != "auto":
        return unit
    return "token" if surface_is_phones else default_unit(lang)


def reference_file(data_dir: PathLike, reference: str = "auto") -> Path:
    """``text_canonical`` (auto: if present) or ``text_meaning``."""
    data_dir = Path(data_dir)
    canonical = data_dir / "text_canonical"
    if reference == "canonical" or (reference == "auto" and canonical.is_file()):
        return canonical
    return data_dir / "text_meaning"


def compute_divergence(
    data_dir: PathLike, unit: str, reference: str = "auto", lang: str = "en"
) -> Tuple[Dict[str, float], Path, str]:
    """Divergence of every utterance of ``text_surface``; also the reference file and the unit used.

    ``unit`` may be ``auto`` (see :func:`resolve_unit`); a surface and a reference in
    different unit systems (phones vs words) is a DataError naming both files.
    """
    data_dir = Path(data_dir)
    surface_path = data_dir / "text_surface"
    ref_path = reference_file(data_dir, reference)
    for path in (surface_path, ref_path):
        if not path.is_file():
            raise DataError(path, None, "missing: divergence needs text_surface and text_meaning (or text_canonical)")
    references = read_any_table(ref_path)
    rows = list(iter_table(surface_path, allow_empty_value=True))  # read once: the unit check and the values
    surface_is_phones = is_phone_inventory(t for _, _, text in rows for t in text.split())
    if surface_is_phones != holds_phones(references):
        what = ("phones", "words or characters") if surface_is_phones else ("words or characters", "phones")
        raise DataError(ref_path, None, f"{surface_path.name} holds {what[0]} but {ref_path.name} holds {what[1]}: "
                        "divergence between different unit systems cannot be computed; add text_canonical (the "
                        "meaning in surface units) or pass --reference none")
    unit = resolve_unit(lang, unit, surface_is_phones)
    out: Dict[str, float] = {}
    for no, utt, surface in rows:
        if utt not in references:
            raise DataError(surface_path, no, f"'{utt}' has no entry in {ref_path.name}")
        if utt in out:
            raise DataError(surface_path, no, f"duplicate id '{utt}'")
        out[utt] = divergence(surface, references[utt], unit)
    return out, ref_path, unit


def summary(values: Dict[str, float]) -> str:
    """``mean=... median=... zero=...`` over the utterances."""
    if not values:
        return "no utterances"
    v = list(values.values())
    zero = sum(1 for x in v if x == 0.0) / len(v)
    return f"mean={statistics.fmean(v):.4f} median={statistics.median(v):.4f} zero={zero:.3f} (n={len(v)})"


def write_utt2divergence(data_dir: PathLike, unit: str, reference: str, lang: str) -> str:
    """``<data_dir>/utt2divergence`` written atomically (removed with ``reference`` none: no stale bins
    for stage 9); the line that says what it holds."""
    out_path = Path(data_dir) / "utt2divergence"
    if reference == "none":
        out_path.unlink(missing_ok=True)
        return f"{data_dir}: no divergence (--reference none)"
    values, ref_path, unit = compute_divergence(data_dir, unit, reference, lang)
    write_rows(out_path, ((u, f"{d:.6f}") for u, d in values.items()))
    return f"{data_dir} (surface vs {ref_path.name}, unit {unit}): {summary(values)}"
