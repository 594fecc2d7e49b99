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

import argparse
import contextlib
import difflib
import os
import sys
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from espnet_l2dual.inference.decode_settings import DEFAULT_BATCH_SIZE
from espnet_l2dual.inference.options import DEFAULTS, TYPES
from espnet_l2dual.outputs import OUTPUTS
from espnet_l2dual.scoring.units import output_unit

GAP = "*"


def _mark(words: Sequence[str]) -> List[str]:
    return [f"[{w}]" for w in words]


def _word_opcodes(a: Sequence[str], b: Sequence[str]) -> List[Tuple[str, int, int, int, int]]:
    return difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes()


def mark_differences(meaning: str, surface: str) -> Tuple[str, str]:
    """Bracket the words where the two transcriptions differ (difflib word alignment)."""
    a, b = meaning.split(), surface.split()
    out_a: List[str] = []
    out_b: List[str] = []
    for op, i1, i2, j1, j2 in _word_opcodes(a, b):
        if op == "equal":
            out_a += a[i1:i2]
            out_b += b[j1:j2]
            continue
        out_a += _mark(a[i1:i2]) if i2 > i1 else [f"[{GAP}]"]
        out_b += _mark(b[j1:j2]) if j2 > j1 else [f"[{GAP}]"]
    return " ".join(out_a), " ".join(out_b)


def difference_segments(text: str, other: Optional[str]) -> List[Dict[str, str]]:
    """``text`` as HTML report segments: its words that differ from ``other`` (the other output)
    marked ``S`` (with the other output's words as ``ref``), or ``I`` where ``other`` has none there;
    all ``C`` when ``other`` is None (nothing to compare with)."""
    words = text.split()
    if other is None:
        return [{"op": "C", "text": w + " ", "ref": ""} for w in words]
    theirs = other.split()
    out: List[Dict[str, str]] = []
    for op, i1, i2, j1, j2 in _word_opcodes(words, theirs):
        mark = "C" if op == "equal" else "S" if j2 > j1 else "I"
        ref = " ".join(theirs[j1:j2]) if mark == "S" else ""
        out += [{"op": mark, "text": w + " ", "ref": ref} for w in words[i1:i2]]
    return out


def html_row(path: str, texts: Mapping[str, str], errors: Optional[List[dict]], mode: str, aligned: bool,
             page_dir: Path, model: str) -> dict:
    """One row of ``--html``: the recording, both outputs with their differing words marked, and the
    mispronounced words (``report.utterance_rows`` rows have the same keys)."""
    audio = Path(os.path.relpath(Path(path).resolve(), page_dir.resolve())).as_posix()
    both = aligned and "surface" in texts and "meaning" in texts
    cells = [{"output": o, "reference": None,
              "hyps": [{"model": model, "errors": 0, "n_ref": 0,
                        "segments": difference_segments(t, texts[OUTPUTS[1 - OUTPUTS.index(o)]] if both else None)}]}
             for o, t in texts.items()]
    mdd = [] if errors is None else [{"who": mode, "found": [
        {"expected": e["expected"] or "-", "said": e["said"] or "-"} for e in errors]}]
    return {"utt": path, "spk": "", "divergence": None, "bin": "", "audio": audio, "outputs": cells,
            "mtl_minus_stl": {}, "mdd": mdd, "canonical": ""}


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


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="packed model zip (stage 11)")
    p.add_argument("audio", nargs="+", help="audio files (any format soundfile reads)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--text", default=None, help="the prompt the learner read: prompted detection "
                   "(default: prompt-free, from the model's meaning output)")
    p.add_argument("--lang", default=None, choices=("ko", "en"), help="language of the words "
                   "(default: ko when the model's tokens are jamo, else en)")
    for name in ("beam_size", "ctc_weight", "penalty", "maxlenratio", "minlenratio"):  # None: not given
        p.add_argument(f"--{name}", type=TYPES[name], default=None,
                       help=f"default: the packed model's (as its RESULTS.md was decoded), else {DEFAULTS[name]}")
    p.add_argument("--batch_size", type=int, default=None, help="files decoded together (one batched beam "
                   "search per output; the same hypotheses as one at a time; default: the packed model's, "
                   f"else {DEFAULT_BATCH_SIZE})")
    p.add_argument("--cache_dir", default=None, help="where the zip is unpacked (default ~/.cache/espnet_l2dual)")
    p.add_argument("--html", default=None, metavar="OUT.html", help="also write the recordings as an HTML page "
                   "(audio players, both outputs with their differing words marked, mispronounced words; "
                   "audio linked relative to the page, opens from file://)")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    if args.batch_size is not None and args.batch_size < 1:
        print(f"transcribe: error: --batch_size must be >= 1, got {args.batch_size}", file=sys.stderr)
        return 2
    from espnet_l2dual.utils.devices import device_problem

    problem = device_problem(args.device)
    if problem is not None:
        print(f"transcribe: error: --device {args.device} {problem}: use --device cpu", file=sys.stderr)
        return 2
    from espnet_l2dual.errors import DataError

    try:
        with contextlib.redirect_stdout(sys.stderr):  # stdout is for transcriptions, not import chatter
            from espnet_l2dual.audio.read import read_audio, to_mono
            from espnet_l2dual.audio.resample import resample
            from espnet_l2dual.inference.speech2dualtext import Speech2DualText

            s2t = Speech2DualText.from_packed(args.model, cache_dir=args.cache_dir, device=args.device,
                                              beam_size=args.beam_size, ctc_weight=args.ctc_weight,
                                              penalty=args.penalty, maxlenratio=args.maxlenratio,
                                              minlenratio=args.minlenratio, batch_size=args.batch_size)
    except (DataError, ValueError) as e:
        print(f"transcribe: error: {e}", file=sys.stderr)
        return 1
    batch_size = s2t.settings.batch_size
    print(f"transcribe: decoding with {s2t.settings.describe()}", file=sys.stderr, flush=True)
    fs = int((getattr(s2t.train_args, "frontend_conf", None) or {}).get("fs", 16000))
    token_types = {o: getattr(s2t.train_args, f"{o}_token_type", None) for o in OUTPUTS}
    lang = args.lang or ("ko" if "jamo" in token_types.values() else "en")
    units = output_units(token_types)
    noted: set = set()
    status = 0
    rows: List[dict] = []
    def decoded():
        """(path, result) per readable file, in order; ``batch_size`` files per batched search."""
        nonlocal status
        for start in range(0, len(args.audio), batch_size):
            chunk = []
            for path in args.audio[start:start + batch_size]:
                if not os.path.exists(path):
                    print(f"transcribe: error: {path}: does not exist", file=sys.stderr)
                    status = 1
                    continue
                try:
                    data, rate = read_audio(path)
                except Exception as e:  # soundfile raises several types; report and go on with the rest
                    print(f"transcribe: error: {path}: cannot read audio ({e})", file=sys.stderr)
                    status = 1
                    continue
                samples = to_mono(data)
                if samples.size == 0:
                    print(f"transcribe: error: {path}: holds no samples (a header without audio): "
                          "nothing to transcribe", file=sys.stderr)
                    status = 1
                    continue
                chunk.append((path, resample(samples, rate, fs) if rate != fs else samples))
            results = s2t.decode_batch([x for _, x in chunk]) if chunk else []
            yield from zip([p for p, _ in chunk], results)

    for path, result in decoded():
        texts = {o: hyps[0][0] for o, hyps in result.items()}
        both = "surface" in texts and "meaning" in texts
        align = alignment_note(token_types) if both else None
        for note in (align, mispronunciation_note(list(texts), lang, args.text, units["surface"])):
            if note is not None and note not in noted:  # once per run, not per file
                noted.add(note)
                print(f"transcribe: note: {note}", file=sys.stderr, flush=True)
        errors, mode = mispronunciations(texts, lang, args.text, units["surface"])
        print(format_result(path, texts, errors, mode, aligned=align is None), flush=True)
        if args.html:
            rows.append(html_row(path, texts, errors, mode, align is None, Path(args.html).parent, Path(args.model).name))
    if args.html:
        from espnet_l2dual.report.html_page import Section, render

        header = [{"output": o, "metric": "", "models": [Path(args.model).name]}
                  for o in OUTPUTS if any(o in [c["output"] for c in r["outputs"]] for r in rows)]
        note = "; ".join(sorted(noted)) or "words where the two outputs differ are marked"
        render(Path(args.html), "espnet_l2dual transcriptions", [Section("recordings", rows, header, note=note)],
               provenance=f"model: {args.model}")
        print(f"transcribe: wrote {args.html}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
