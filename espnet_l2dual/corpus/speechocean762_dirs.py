"""The data dirs of speechocean762: the official release -> data/{train,dev,test}.

Test = the official test set; dev = a fixed, seeded share of the official *training* speakers
(so nothing is ever tuned on test); train = the other training speakers. The phone policy is
in :mod:`espnet_l2dual.corpus.speechocean762`.
"""

from __future__ import annotations

import random
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from espnet_l2dual.corpus.audio import audio_duration, listed_audio
from espnet_l2dual.corpus.datadir_writer import Utterance, write_data_sets
from espnet_l2dual.corpus.speechocean762 import (
    L1,
    OFFICIAL_SETS,
    Scores,
    perceived_phones,
    read_kaldi_table,
    read_scores,
    read_text_phone,
    scores_path,
)
from espnet_l2dual.corpus.split import shared_speakers
from espnet_l2dual.corpus.summary import format_summary
from espnet_l2dual.errors import DataError
from espnet_l2dual.text.normalize import normalize


def dev_speakers(train_speakers: Sequence[str], fraction: float, seed: int) -> List[str]:
    """A fixed share of the training speakers (at least one), chosen by ``seed`` from the sorted list."""
    spks = sorted(set(train_speakers))
    if not 0 < fraction < 1:
        raise ValueError(f"dev fraction must be between 0 and 1, got {fraction}")
    n = max(1, round(fraction * len(spks)))
    if n >= len(spks):
        raise ValueError(f"{len(spks)} training speakers cannot give {n} dev speakers and a training set")
    random.Random(seed).shuffle(spks)
    return sorted(spks[:n])


def _surface(utt: str, canonical: List[List[str]], scores: Optional[Scores], counts: Counter) -> List[str]:
    """Perceived phones of one utterance (canonical when the release has no scores)."""
    if scores is None:
        return [p for word in canonical for p in word]
    line = scores.lines.get(utt)
    if utt not in scores.words:
        raise DataError(scores.path, None, f"utterance '{utt}' has no scores")
    scored = scores.words[utt]
    if [w.phones for w in scored] != canonical:
        raise DataError(scores.path, line, f"utterance '{utt}': the phones of its words differ from "
                                           "resource/text-phone")
    out: List[str] = []
    for i, word in enumerate(scored):
        out.extend(perceived_phones(word, counts, scores.path, f"utterance '{utt}' word {i}: ", line))
    return out


def read_set(root: Path, name: str, text_phone: Dict, scores: Optional[Scores], counts: Counter) -> List[Utterance]:
    """The utterances of one official set (``train`` or ``test``)."""
    d = root / name
    wavs, texts, utt2spk = (read_kaldi_table(d / f) for f in ("wav.scp", "text", "utt2spk"))
    ages, genders = (read_kaldi_table(d / f) for f in ("spk2age", "spk2gender"))
    utts: List[Utterance] = []
    for utt, (no, text) in sorted(texts.items()):
        if utt not in wavs or utt not in utt2spk:
            raise DataError(d / "text", no, f"utterance '{utt}' is not in {name}/wav.scp and {name}/utt2spk")
        spk = utt2spk[utt][1]
        if spk not in ages or spk not in genders:
            raise DataError(d / "utt2spk", utt2spk[utt][0], f"speaker '{spk}' has no age or gender in {name}/")
        words = normalize(text, "en")
        if utt not in text_phone:
            raise DataError(d / "text", no, f"utterance '{utt}' has no canonical phones in resource/text-phone")
        canonical = [phones for _, phones in text_phone[utt]]
        if len(canonical) != len(words.split()):
            raise DataError(d / "text", no, f"utterance '{utt}' has {len(words.split())} words but "
                                            f"resource/text-phone gives {len(canonical)}")
        surface = _surface(utt, canonical, scores, counts)
        wav_no, wav_rel = wavs[utt]
        audio = root / wav_rel
        utts.append(
            Utterance(
                utt_id=f"{spk}-{utt}",
                speaker=spk,
                wav=listed_audio(audio, d / "wav.scp", wav_no),
                surface=" ".join(surface),
                meaning=words,
                canonical=" ".join(p for w in canonical for p in w),
                lang="en",
                l1=L1,
                duration=audio_duration(audio),
                age=ages[spk][1],
                gender=genders[spk][1].lower(),
            )
        )
    if not utts:
        raise DataError(d / "text", None, "no utterances")
    return utts


def prepare_speechocean762(root: Path, out: Path, dev_fraction: float = 0.1, seed: int = 1) -> str:
    """Write out/{train,dev,test}; return the summary text."""
    if not root.is_dir():
        raise DataError(root, None, "speechocean762 root is not a directory")
    text_phone = read_text_phone(root / "resource" / "text-phone")
    scores_file = scores_path(root)
    scores = read_scores(scores_file) if scores_file is not None else None
    if scores_file is None:
        print(f"prepare_speechocean762: no scores.json under {root} (resource/ or root): "
              "surface = canonical phones (phone recognition, no perceived errors)", file=sys.stderr)
    counts: Counter = Counter()
    official = {name: read_set(root, name, text_phone, scores, counts) for name in OFFICIAL_SETS}
    dev = set(dev_speakers([u.speaker for u in official["train"]], dev_fraction, seed))
    sets: Dict[str, List[Utterance]] = {
        "train": [u for u in official["train"] if u.speaker not in dev],
        "dev": [u for u in official["train"] if u.speaker in dev],
        "test": official["test"],
    }
    both = shared_speakers(official, lambda u: u.speaker)
    if both:
        raise DataError(root / "test" / "utt2spk", None, f"speaker(s) {' '.join(sorted(both))} also in train")
    write_data_sets(out, sets)
    order = ("substitutions", "deletions", "unk_labels", "distortion_labels", "same_as_canonical")
    source = f"perceived phones from {scores_file}" if scores_file else "surface = canonical phones (no scores.json)"
    title = f"speechocean762 {root} -> {out} ({source}; dev = {len(dev)} training speakers, seed {seed})"
    return format_summary(title, sets, "token", {k: counts[k] for k in order})
