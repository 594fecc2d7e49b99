"""Make the synthetic ``mini`` L2 corpus: generated sentences, learner pronunciations, espeak-ng audio.

    python -m espnet_l2dual.bin.make_mini_corpus --lang ko --out data/local/mini

Why: ``./run.sh`` must work on a fresh machine with no data. For each utterance
a sentence (the *meaning*) is generated, turned into what a synthetic learner
says (the *surface*: Korean standard pronunciation plus learner errors, or
English learner respellings) and spoken by espeak-ng from the surface.

Output: ``OUT/wav/<utt>.wav`` and Kaldi data dirs ``OUT/{train,dev,test,eval}/`` with
transcript.dual (``utt (meaning)/(surface) ...``), and, parsed back from it,
text_surface and text_meaning; text_canonical (the expected pronunciation in surface
units: Korean standard pronunciation without the learner errors, English the spelling of the
meaning), for mispronunciation detection; plus wav.scp, utt2spk, spk2utt, utt2lang, utt2l1
and utt2rules (rules/errors that fired, ``-`` if none).
With ``--twins`` also ``OUT/eval_twins/`` (``--train_twins``: ``OUT/train_twins/``), see
``espnet_l2dual.corpus.twins``, with ``utt2twin``.

Sets: ``train``, ``dev``, ``test`` (the tuning set: the tiny defaults were chosen on it)
and ``eval`` (final numbers): ``--eval_speakers`` speakers whose voices no other set
has, ``--eval_utts_per_speaker`` utterances each, sentences that no other set holds.

Deterministic per seed: an utterance's text depends only on (lang, seed, set,
index), so changing ``--num_train`` keeps the other utterances (and their
wavs) as they were. ``eval`` draws from RNGs of its own (its speakers and
sentences are keyed by the set name), so adding or resizing it leaves
train/dev/test exactly as they were. Resumable: existing wavs are kept; every
table is written atomically. An OUT made with another seed or language is refused.
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import AbstractSet, Dict, List, Optional, Tuple

from espnet_l2dual.corpus import grammar_en, grammar_ko
from espnet_l2dual.corpus.eval_set import EVAL_SET, EVAL_SPEAKERS, EVAL_UTTS_PER_SPEAKER
from espnet_l2dual.corpus.speakers import Speaker, make_held_out_speakers, make_speakers, scale_rates
from espnet_l2dual.corpus.synthesize import SynthesisJob, synthesize_all
from espnet_l2dual.corpus.twins import make_twin_set, twin_set_name
from espnet_l2dual.errors import DataError
from espnet_l2dual.text.dual_transcript import format_dual_transcript, parse_dual_transcript
from espnet_l2dual.text.english_l2_errors import english_l2_error_sites
from espnet_l2dual.text.error_sites import ErrorSite, random_decide
from espnet_l2dual.text.korean_pronunciation import korean_l2_error_sites, pronounce_word
from espnet_l2dual.text.normalize import normalize
from espnet_l2dual.utils.fileio import atomic_write, iter_table, write_table


SETS = ("train", "dev", "test")  # the sets of --num_<set>; then EVAL_SET
# The defaults of the corpus size, seed and error scale: here only; make_mini_corpus's options
# default to them and the recipe scripts pass only what they were given.
NUM_UTTS = {"train": 1200, "dev": 150, "test": 150}
NUM_SPK = {"train": 40, "dev": 5, "test": 5}
SEED = 1
ERROR_SCALE = 1.0
_GRAMMARS = {"ko": grammar_ko, "en": grammar_en}
LANGS = sorted(_GRAMMARS)  # the languages a mini corpus can be made in


@dataclass
class Utterance:
    utt_id: str
    speaker: Speaker
    meaning: List[str]
    surface: List[str]
    rules: List[str]
    canonical: List[str]  # the expected pronunciation, in surface units, without learner errors
    error_sites: List[ErrorSite] = field(default_factory=list)  # the learner errors (the last rules)


def size_problem(num_utts: Dict[str, int], num_spk: Dict[str, int], eval_speakers: int,
                 eval_utts_per_speaker: int, error_scale: float) -> Optional[str]:
    """What is wrong with the requested sizes (as the command line names them), or None."""
    if error_scale < 0:
        return f"--error_scale must be >= 0, got {error_scale}"
    for s in SETS:
        if num_utts[s] < 1 or num_spk[s] < 1:
            return f"--num_{s} and --num_{s}_spk must be at least 1"
    if eval_speakers < 1 or eval_utts_per_speaker < 1:
        return "--eval_speakers and --eval_utts_per_speaker must be at least 1"
    return None


def make_utterance(lang: str, seed: int, split: str, index: int, speaker: Speaker,
                   avoid: AbstractSet[Tuple[str, ...]] = frozenset()) -> Utterance:
    """One utterance; its own RNG makes it independent of how many others there are.

    A sentence in ``avoid`` is drawn again from the same RNG (empty ``avoid``: the first draw).
    """
    rng = random.Random(f"mini-{lang}-{seed}-{split}-{index}")
    meaning = _GRAMMARS[lang].generate_sentences(1, rng)[0]
    while tuple(meaning) in avoid:
        meaning = _GRAMMARS[lang].generate_sentences(1, rng)[0]
    if lang == "ko":
        pronounced, rules = [], []
        for word in meaning:
            surface_word, fired = pronounce_word(word)
            pronounced.append(surface_word)
            rules += fired
        text, sites = korean_l2_error_sites(" ".join(pronounced), speaker.rates,
                                            random_decide(speaker.rates, rng))
        surface = text.split()
        rules += [s.kind for s in sites]
        canonical = pronounced  # standard pronunciation: the rules applied, no learner error
    else:
        surface, sites = english_l2_error_sites(meaning, speaker.rates, random_decide(speaker.rates, rng))
        rules = [s.kind for s in sites]
        canonical = meaning  # the canonical spelling, in the surface alphabet
    return Utterance(f"{speaker.spk_id}-{index:05d}", speaker, meaning, surface, rules, canonical, sites)


def make_utterances(lang: str, seed: int, num_utts: Dict[str, int],
                    speakers: Dict[str, List[Speaker]]) -> Dict[str, List[Utterance]]:
    """Utterances per set, speakers taken in turn, sorted by utterance id."""
    out = {}
    for split in SETS:
        spks = speakers[split]
        utts = [make_utterance(lang, seed, split, i, spks[i % len(spks)]) for i in range(num_utts[split])]
        out[split] = sorted(utts, key=lambda u: u.utt_id)
    return out


def make_eval_utterances(lang: str, seed: int, speakers: List[Speaker], per_speaker: int,
                         others: Dict[str, List[Utterance]]) -> List[Utterance]:
    """``per_speaker`` utterances of each eval speaker, sorted by id; no sentence of ``others`` or
    an earlier eval utterance is used again."""
    taken = {tuple(u.meaning) for utts in others.values() for u in utts}
    out = []
    for i in range(len(speakers) * per_speaker):
        u = make_utterance(lang, seed, EVAL_SET, i, speakers[i % len(speakers)], avoid=taken)
        taken.add(tuple(u.meaning))
        out.append(u)
    return sorted(out, key=lambda u: u.utt_id)


def _check_config(out: Path, lang: str, seed: int, error_scale: float = 1.0) -> None:
    """Refuse to mix wavs of two different corpora in one directory."""
    path = out / "config.json"
    config: Dict[str, object] = {"lang": lang, "seed": seed}
    if error_scale != 1.0:  # the default corpus keeps the config it always had
        config["error_scale"] = error_scale
    if path.exists():
        old = json.loads(path.read_text(encoding="utf-8"))
        if old != config:
            raise SystemExit(f"{path}: this directory holds a corpus made with {old}; "
                             f"asked for {config}: use another --out or delete it")
        return
    with atomic_write(path) as f:
        json.dump(config, f)


def write_set(out: Path, lang: str, split: str, utts: List[Utterance], nj: Optional[int],
              utt2twin: Optional[List[Tuple[str, str]]] = None) -> None:
    """transcript.dual -> parsed texts -> audio -> the other tables (``utt2twin`` for a twin set)."""
    d = out / split
    wav_dir = (out / "wav").resolve()
    dual = d / "transcript.dual"
    write_table(dual, [(u.utt_id, format_dual_transcript(u.meaning, u.surface)) for u in utts])
    parsed = {}
    for no, utt_id, text in iter_table(dual):
        parsed[utt_id] = parse_dual_transcript(text, lang, path=dual, line=no)
    by_id = {u.utt_id: u for u in utts}
    if set(parsed) != set(by_id):
        raise DataError(dual, None, "utterance ids changed on the way through transcript.dual")

    jobs = []
    for utt_id, u in by_id.items():
        text = parsed[utt_id].surface
        jobs.append(SynthesisJob(text.lower() if lang == "en" else text,
                                 u.speaker.voice, u.speaker.pitch, u.speaker.speed, wav_dir / f"{utt_id}.wav"))
    print(f"{split}: {len(jobs)} utterances", file=sys.stderr)
    synthesize_all(jobs, nj=nj)

    write_table(d / "text_surface", [(k, p.surface) for k, p in parsed.items()])
    write_table(d / "text_meaning", [(k, p.meaning) for k, p in parsed.items()])
    write_table(d / "text_canonical", [(u.utt_id, normalize(" ".join(u.canonical), lang)) for u in utts])
    write_table(d / "wav.scp", [(u.utt_id, str(wav_dir / f"{u.utt_id}.wav")) for u in utts])
    write_table(d / "utt2spk", [(u.utt_id, u.speaker.spk_id) for u in utts])
    spk2utt: Dict[str, List[str]] = {}
    for u in utts:
        spk2utt.setdefault(u.speaker.spk_id, []).append(u.utt_id)
    write_table(d / "spk2utt", [(s, " ".join(sorted(us))) for s, us in spk2utt.items()])
    write_table(d / "utt2lang", [(u.utt_id, lang) for u in utts])
    write_table(d / "utt2l1", [(u.utt_id, u.speaker.l1) for u in utts])
    write_table(d / "utt2rules", [(u.utt_id, ",".join(sorted(set(u.rules))) or "-") for u in utts])
    if utt2twin is not None:
        write_table(d / "utt2twin", utt2twin)


def make_mini_corpus(lang: str, out: Path, seed: int = SEED, num_utts: Optional[Dict[str, int]] = None,
                     num_spk: Optional[Dict[str, int]] = None, nj: Optional[int] = None,
                     error_scale: float = ERROR_SCALE, eval_speakers: int = EVAL_SPEAKERS,
                     eval_utts_per_speaker: int = EVAL_UTTS_PER_SPEAKER, twins: bool = False,
                     train_twins: bool = False) -> None:
    num_utts = num_utts or dict(NUM_UTTS)
    num_spk = num_spk or dict(NUM_SPK)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _check_config(out, lang, seed, error_scale)
    speakers = make_speakers(lang, num_spk, seed)
    speakers[EVAL_SET] = make_held_out_speakers(lang, EVAL_SET, eval_speakers, speakers, seed)
    if error_scale != 1.0:
        speakers = scale_rates(speakers, error_scale)
    utts = make_utterances(lang, seed, num_utts, speakers)
    utts[EVAL_SET] = make_eval_utterances(lang, seed, speakers[EVAL_SET], eval_utts_per_speaker, utts)
    for split in (*SETS, EVAL_SET):
        write_set(out, lang, split, utts[split], nj)
    if twins:
        twin_utts, utt2twin = make_twin_set(lang, utts[EVAL_SET])
        if not twin_utts:
            raise ValueError(f"no {EVAL_SET} utterance has a learner error: no twins to make")
        write_set(out, lang, twin_set_name(EVAL_SET), twin_utts, nj, utt2twin)
    if train_twins:  # training pairs for twin-contrastive methods: train utterances only, never eval
        twin_utts, utt2twin = make_twin_set(lang, utts["train"])
        if not twin_utts:
            raise ValueError("no train utterance has a learner error: no train twins to make")
        write_set(out, lang, twin_set_name("train"), twin_utts, nj, utt2twin)
