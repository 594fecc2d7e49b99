"""Train/dev/test splits of a corpus: speaker-disjoint by seed, by speaker lists, or by list files.

Held-out speakers are what a pronunciation model meets in use, so the default
split never lets a speaker appear in two sets. A seeded split is reproducible:
speakers are sorted first, then shuffled with ``random.Random(seed)``, so the
result depends only on the speaker set and the seed, not on file order.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Sequence, Tuple, TypeVar, Union

from espnet_l2dual.errors import DataError
from espnet_l2dual.utils.fileio import iter_utf8_lines

PathLike = Union[str, Path]
SETS = ("train", "dev", "test")
T = TypeVar("T")


def speaker_disjoint_split(speakers: Iterable[str], num_dev: int, num_test: int, seed: int) -> Dict[str, str]:
    """``{speaker: set}``: ``num_test`` speakers to test, ``num_dev`` to dev, the rest (at least one) to train."""
    spks = sorted(set(speakers))
    if num_dev < 1 or num_test < 1:
        raise ValueError(f"need at least one dev and one test speaker (got {num_dev} and {num_test})")
    if len(spks) < num_dev + num_test + 1:
        raise ValueError(
            f"{len(spks)} speakers cannot make {num_dev} dev + {num_test} test speakers and a training set"
        )
    random.Random(seed).shuffle(spks)
    out = {s: "test" for s in spks[:num_test]}
    out.update({s: "dev" for s in spks[num_test : num_test + num_dev]})
    out.update({s: "train" for s in spks[num_test + num_dev :]})
    return out


def speaker_list_split(speakers: Iterable[str], dev: Sequence[str], test: Sequence[str]) -> Dict[str, str]:
    """``{speaker: set}`` from named dev/test speakers; every other speaker trains.

    A named speaker that is not in the corpus, or is named twice, is an error:
    a silent typo would quietly move a test speaker into training.
    """
    spks = set(speakers)
    both = sorted(set(dev) & set(test))
    if both:
        raise ValueError(f"speaker(s) {' '.join(both)} are named for both dev and test")
    unknown = sorted((set(dev) | set(test)) - spks)
    if unknown:
        raise ValueError(f"dev/test speaker(s) {' '.join(unknown)} are not in the corpus")
    out = {s: "train" for s in spks}
    out.update({s: "dev" for s in dev})
    out.update({s: "test" for s in test})
    return out


def parse_split_lists(spec: str) -> Dict[str, Path]:
    """``"train=a.txt,dev=b.txt,test=c.txt"`` -> ``{set: path}``; the three sets are required."""
    out: Dict[str, Path] = {}
    for part in spec.split(","):
        name, sep, path = part.partition("=")
        name = name.strip()
        if not sep or name not in SETS or not path.strip():
            raise ValueError(f"bad split list '{part}': expected SET=FILE with SET one of {'|'.join(SETS)}")
        if name in out:
            raise ValueError(f"split list for '{name}' given twice")
        out[name] = Path(path.strip())
    missing = [s for s in SETS if s not in out]
    if missing:
        raise ValueError(f"split lists miss {', '.join(missing)} (need train=...,dev=...,test=...)")
    return out


def read_split_list(path: PathLike) -> List[Tuple[int, str]]:
    """``(line, key)`` per non-blank line: a relative audio path or an utterance id.

    A ``.trn`` file can serve as its own split list: the part before `` :: `` is the key.
    """
    out = []
    for no, line in iter_utf8_lines(Path(path)):
        key = line.split(" :: ", 1)[0].strip()
        if key:
            out.append((no, key))
    return out


def assign_by_lists(
    items: Sequence[T], lists: Dict[str, Path], keys_of: Callable[[T], Sequence[str]], id_of: Callable[[T], str]
) -> Dict[str, str]:
    """``{item id: set}`` from list files whose lines name an item by any of ``keys_of(item)``.

    A listed key that matches no item, or an item listed in two sets, is a DataError
    at that line; items in no list are left out of the result (not used).
    """
    by_key: Dict[str, str] = {}
    for item in items:
        for key in keys_of(item):
            by_key[key] = id_of(item)
    out: Dict[str, str] = {}
    where: Dict[str, str] = {}
    for name, path in lists.items():
        for no, key in read_split_list(path):
            if key not in by_key:
                raise DataError(path, no, f"'{key}' is not an utterance of the corpus (no such audio path or id)")
            utt = by_key[key]
            if utt in out and out[utt] != name:
                raise DataError(path, no, f"utterance '{utt}' is also listed for {out[utt]} ({where[utt]})")
            out[utt] = name
            where[utt] = f"{path}:{no}"
    return out


def group_by_set(items: Iterable[T], set_of: Callable[[T], Union[str, None]]) -> Dict[str, List[T]]:
    """``{set: items}`` in SETS order; items whose set is None are dropped; every set must be non-empty."""
    out: Dict[str, List[T]] = {s: [] for s in SETS}
    for item in items:
        name = set_of(item)
        if name is not None:
            out[name].append(item)
    empty = [s for s, v in out.items() if not v]
    if empty:
        raise ValueError(f"the split leaves {', '.join(empty)} without utterances")
    return out


def shared_speakers(sets: Dict[str, List[T]], speaker_of: Callable[[T], str]) -> List[str]:
    """Speakers that appear in more than one set (empty for a speaker-disjoint split)."""
    seen: Dict[str, set] = {}
    for name, items in sets.items():
        for item in items:
            seen.setdefault(speaker_of(item), set()).add(name)
    return sorted(s for s, names in seen.items() if len(names) > 1)
