"""Transcribe audio files with a packed dual model and show where surface and meaning differ.

    python -m espnet_l2dual.bin.transcribe --model exp/mtl/packed.zip a.wav b.wav
    python -m espnet_l2dual.bin.transcribe --model exp/mtl/packed.zip --batch_size 32 recordings/*.wav

prints, per file, both outputs word-aligned with the differing words in brackets::

    a.wav
      meaning: I [THINK] SO
      surface: I [TINK] SO

A word present in only one output is shown against ``[*]`` in the other. Then the
mispronounced words: what the learner should have said (the standard pronunciation of the
intended words) against what was heard, from ``--text`` (prompted) or, without it, from the
model's own meaning output (prompt-free)::

      mispronounced (prompt-free): THINK: expected THINK, said TINK

Word alignment needs both outputs in the same units.  When they are not (the model's
``surface_token_type`` / ``meaning_token_type``: e.g. surface phones as ``word`` tokens,
meaning characters), every word would differ, so the two outputs are printed as they
are and a note on stderr says why, once.  The same holds for the mispronounced words
of a phone surface: no lexicon/G2P ships to give the expected phones of the words.
"""

from __future__ import annotations

from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from espnet_l2dual.outputs import OUTPUTS
from espnet_l2dual.scoring.units import output_unit
from espnet_l2dual.text.word_differences import mark_differences


def output_units(token_types: Mapping[str, Optional[str]]) -> Dict[str, str]:
    """``char`` or ``token`` per output, from the model's token types (``scoring.units.output_unit``)."""
    return {o: output_unit(t) for o, t in token_types.items()}


def alignment_note(token_types: Mapping[str, Optional[str]]) -> Optional[str]:
    """Why the surface and meaning outputs cannot be word-aligned, or None when they can."""
    units = output_units(token_types)
    if units.get("surface") == units.get("meaning"):
        return None
    kind = {o: f"{token_types.get(o) or 'char'} tokens" + (", space-separated units such as phones"
                                                            if units[o] == "token" else ", written words")
            for o in OUTPUTS}
    return (f"surface ({kind['surface']}) and meaning ({kind['meaning']}) are in different units: "
            "a word alignment would mark every word, so both outputs are printed unaligned")


def format_result(name: str, texts: dict, errors: Optional[List[dict]] = None, mode: str = "",
                  aligned: bool = True) -> str:
    """The printed block of one file: both outputs marked (or the single output of an STL model),
    then the mispronounced words when ``errors`` is given.  ``aligned=False`` (outputs in
    different units, see ``alignment_note``) prints both outputs as they are."""
    lines = [name]
    if "meaning" in texts and "surface" in texts:
        meaning, surface = texts["meaning"], texts["surface"]
        if aligned:
            meaning, surface = mark_differences(meaning, surface)
        lines += [f"  meaning: {meaning}", f"  surface: {surface}"]
    else:
        lines += [f"  {o}: {t}" for o, t in texts.items()]
    if errors is not None:
        found = "; ".join(f"{e['word'] or '-'}: expected {e['expected'] or '-'}, said {e['said'] or '-'}"
                          for e in errors)
        lines.append(f"  mispronounced ({mode}): {found or 'none'}")
    return "\n".join(lines)


def mispronunciations(texts: dict, lang: str, prompt: Optional[str],
                      surface_unit: str = "char") -> Tuple[Optional[List[dict]], str]:
    """The detected mispronunciations as data, and whether they are prompted or prompt-free.

    None where they cannot be told: no surface output, no intended words, or a surface in
    ``token`` units (phones), for which no canonical pronunciation of the words ships --
    an empty list there would claim "no mispronunciation".
    """
    from espnet_l2dual.scoring.mdd_scoring import canonical_from_meaning, word_mispronunciations
    from espnet_l2dual.text.normalize import normalize

    if "surface" not in texts or canonical_from_meaning("", lang, surface_unit) is None:
        return None, ""
    if prompt is not None:
        return word_mispronunciations(normalize(prompt, lang), texts["surface"], lang, surface_unit), "prompted"
    if "meaning" in texts:
        return word_mispronunciations(texts["meaning"], texts["surface"], lang, surface_unit), "prompt-free"
    return None, ""


def mispronunciation_note(outputs: Sequence[str], lang: str, prompt: Optional[str],
                          surface_unit: str) -> Optional[str]:
    """Why no mispronounced words are listed although they were asked for, or None."""
    from espnet_l2dual.scoring.mdd_scoring import canonical_from_meaning

    wanted = "surface" in outputs and (prompt is not None or "meaning" in outputs)
    if wanted and canonical_from_meaning("", lang, surface_unit) is None:
        return ("no mispronounced words: the surface is in token units (phones) and no lexicon/G2P "
                "ships to give the expected pronunciation of the words")
    return None
