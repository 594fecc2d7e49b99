"""Check a data dir against the contract in DESIGN.md before a stage uses it.

A broken data dir usually shows up much later as a crash deep in training or
as silently wrong scores; checking it up front turns that into one message
naming the file, the line and the reason.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Tuple, Union

from espnet_l2dual.data.twin_map import ORIGINAL, parse_twin_value
from espnet_l2dual.errors import DataError
from espnet_l2dual.utils.fileio import iter_table

PathLike = Union[str, Path]

# Files every data dir has, whatever the stage.
ALWAYS_REQUIRED = ("wav.scp", "utt2spk", "spk2utt")
# Files required by default on top of those (a caller may ask for fewer or more).
DEFAULT_REQUIRED = ("text_surface", "text_meaning")
TEXT_FILES = ("text_surface", "text_meaning", "text_canonical")
LANGUAGES = ("ko", "en")

# One table after reading: id -> (line number, value).
Table = Dict[str, Tuple[int, str]]


@dataclass
class Summary:
    """What a valid data dir holds."""

    path: Path
    num_utterances: int
    num_speakers: int
    files: List[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.path}: valid ({self.num_utterances} utterances, {self.num_speakers} speakers, "
            f"files: {' '.join(self.files)})"
        )


def read_sorted_table(path: Path, allow_empty_value: bool = False) -> Table:
    """Read ``id value`` lines, requiring UTF-8, ids in C (code point) order and no duplicates."""
    table: Table = {}
    previous: Optional[str] = None
    for no, key, value in iter_table(path, allow_empty_value=allow_empty_value):
        if key in table:
            raise DataError(path, no, f"duplicate id '{key}' (first on line {table[key][0]})")
        if previous is not None and key < previous:
            raise DataError(
                path, no, f"not sorted: '{key}' comes after '{previous}' (sort with LC_ALL=C sort)"
            )
        table[key] = (no, value)
        previous = key
    return table


# --- value checks: each returns None when fine, else the reason -------------


def _check_text(value: str) -> Optional[str]:
    if not value.strip():
        return "empty text"
    depth = 0
    for column, char in enumerate(value, start=1):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return f"unbalanced dual-transcription brackets: ')' at character {column} closes nothing"
    if depth:
        return f"unbalanced dual-transcription brackets: {depth} '(' never closed"
    return None


def _check_speaker(value: str) -> Optional[str]:
    return None if len(value.split()) == 1 else f"expected one speaker id, got '{value}'"


def _check_language(value: str) -> Optional[str]:
    return None if value in LANGUAGES else f"language must be one of {'|'.join(LANGUAGES)}, not '{value}'"


def _check_single_token(value: str) -> Optional[str]:
    return None if len(value.split()) == 1 else f"expected one value, got '{value}'"


def _float_check(name: str, minimum: float, strict: bool) -> Callable[[str], Optional[str]]:
    def check(value: str) -> Optional[str]:
        try:
            number = float(value)
        except ValueError:
            return f"{name} must be a number, not '{value}'"
        if math.isnan(number) or math.isinf(number) or number < minimum or (strict and number == minimum):
            bound = f"> {minimum:g}" if strict else f">= {minimum:g}"
            return f"{name} must be finite and {bound}, not '{value}'"
        return None

    return check


def _check_num_samples(value: str) -> Optional[str]:
    if re.fullmatch(r"[0-9]+", value) and int(value) > 0:
        return None
    return f"number of samples must be a positive integer, not '{value}'"


def _check_segment(value: str) -> Optional[str]:
    fields = value.split()
    if len(fields) != 3:
        return f"expected 'segment_id recording_id start end', got '{value}'"
    try:
        start, end = float(fields[1]), float(fields[2])
    except ValueError:
        return f"start and end must be numbers, not '{fields[1]}' '{fields[2]}'"
    if not (0 <= start and (end > start or end == -1)):
        return f"bad segment times: start {fields[1]}, end {fields[2]}"
    return None


def _check_gender(value: str) -> Optional[str]:
    return None if value in ("m", "f") else f"gender must be m or f, not '{value}'"


def _check_twin_value(value: str) -> Optional[str]:
    try:
        parse_twin_value(value)
    except ValueError as e:
        return str(e)
    return None


# Optional per-utterance files: name -> (empty values allowed, value check).
OPTIONAL_UTT_FILES: Dict[str, Tuple[bool, Callable[[str], Optional[str]]]] = {
    "text_canonical": (False, _check_text),
    "utt2lang": (False, _check_language),
    "utt2l1": (False, _check_single_token),
    "utt2age": (False, _float_check("age", 0.0, strict=True)),
    "utt2gender": (False, _check_gender),
    "utt2divergence": (False, _float_check("divergence", 0.0, strict=False)),
    "utt2dur": (False, _float_check("duration", 0.0, strict=True)),
    "utt2num_samples": (False, _check_num_samples),
    "utt2rules": (True, lambda value: None),
    "utt2twin": (False, _check_twin_value),
}
REQUIRED_UTT_CHECKS: Dict[str, Callable[[str], Optional[str]]] = {
    "utt2spk": _check_speaker,
    "text_surface": _check_text,
    "text_meaning": _check_text,
}


def _check_values(path: Path, table: Table, check: Callable[[str], Optional[str]]) -> None:
    for key, (no, value) in table.items():
        reason = check(value)
        if reason:
            raise DataError(path, no, f"{reason} (utterance '{key}')")


# --- wav.scp -----------------------------------------------------------------

_ARK_OFFSET = re.compile(r"^(?P<file>.+):[0-9]+(\[[^\]]*\])?$")


def _audio_problem(value: str, check_audio: bool) -> Optional[str]:
    """Why a wav.scp value is unusable, or None.

    Relative paths are taken from the current directory (the recipe dir), as in Kaldi.
    """
    if value.endswith("|"):
        return None if value[:-1].strip() else "empty command before '|'"
    if len(value.split()) > 1:
        return f"'{value}' has spaces but does not end with '|' (a command must end with '|')"
    if not check_audio or Path(value).is_file():
        return None
    match = _ARK_OFFSET.match(value)
    if match:
        ark = match.group("file")
        return None if Path(ark).is_file() else f"missing audio: ark file '{ark}' does not exist"
    return f"missing audio: '{value}' does not exist"


def _check_wav_scp(path: Path, table: Table, check_audio: bool) -> None:
    for key, (no, value) in table.items():
        reason = _audio_problem(value, check_audio)
        if reason:
            raise DataError(path, no, f"{reason} (id '{key}')")


# --- cross-file consistency ----------------------------------------------------


def _check_same_ids(ref_path: Path, ref: Table, path: Path, table: Table) -> None:
    """``table`` must cover exactly the ids of ``ref``; name the first id that differs."""
    if ref.keys() == table.keys():
        return
    missing = sorted(ref.keys() - table.keys())
    extra = sorted(table.keys() - ref.keys())
    if missing and (not extra or missing[0] < extra[0]):
        utt = missing[0]
        raise DataError(
            path, None, f"utterance '{utt}' (line {ref[utt][0]} of {ref_path.name}) is missing here"
        )
    utt = extra[0]
    raise DataError(path, table[utt][0], f"utterance '{utt}' is not in {ref_path.name}")


def _check_spk2utt(spk2utt_path: Path, spk2utt: Table, utt2spk_path: Path, utt2spk: Table) -> None:
    """spk2utt must say exactly what utt2spk says."""
    listed: Dict[str, str] = {}
    for spk, (no, value) in spk2utt.items():
        for utt in value.split():
            if utt in listed:
                raise DataError(spk2utt_path, no, f"utterance '{utt}' also listed under speaker '{listed[utt]}'")
            listed[utt] = spk
            if utt not in utt2spk:
                raise DataError(spk2utt_path, no, f"utterance '{utt}' is not in {utt2spk_path.name}")
            if utt2spk[utt][1] != spk:
                raise DataError(
                    spk2utt_path,
                    no,
                    f"utterance '{utt}' listed under speaker '{spk}' but {utt2spk_path.name} "
                    f"line {utt2spk[utt][0]} says '{utt2spk[utt][1]}'",
                )
    for utt, (no, spk) in utt2spk.items():
        if utt not in listed:
            raise DataError(
                spk2utt_path, None, f"utterance '{utt}' of speaker '{spk}' ({utt2spk_path.name} line {no}) is missing"
            )


def _check_twins(path: Path, twins: Table, utt2spk: Table, surface_path: Path, surface: Optional[Table]) -> None:
    """Each twin's original is an utterance here; an original maps to itself; an error is in its twin's surface."""
    for twin, (no, value) in twins.items():
        orig, error, what = parse_twin_value(value)
        if orig not in utt2spk:
            raise DataError(path, no, f"twin '{twin}' names original '{orig}', which is not an utterance here")
        if what == ORIGINAL and orig != twin:
            raise DataError(path, no, f"'{twin}' is marked {ORIGINAL} but names '{orig}' as its original")
        if error is None or surface is None:
            continue
        line, words = surface[twin][0], surface[twin][1].split()
        where = f"{surface_path.name} line {line}"
        if error.word >= len(words):
            raise DataError(path, no, f"error '{what}' of twin '{twin}' is not in its surface: "
                                      f"{where} has only {len(words)} words")
        if words[error.word] != error.surface:
            raise DataError(path, no, f"error '{what}' of twin '{twin}' is not in its surface: word {error.word} "
                                      f"of {where} is '{words[error.word]}', not '{error.surface}'")


# --- entry point -------------------------------------------------------------


def validate_data_dir(
    path: PathLike, check_audio: bool = True, required: Iterable[str] = DEFAULT_REQUIRED
) -> Summary:
    """Check every file of the data dir ``path``; raise :class:`DataError` at the first problem.

    ``required`` names the files needed beyond wav.scp, utt2spk and spk2utt
    (by default both transcriptions; a single-output stage may need one).
    """
    data_dir = Path(path)
    if not data_dir.is_dir():
        raise DataError(data_dir, None, "not a directory")
    required_files = list(dict.fromkeys([*ALWAYS_REQUIRED, *required]))
    for name in required_files:
        if not (data_dir / name).is_file():
            raise DataError(data_dir / name, None, "required file is missing")

    def file(name: str) -> Path:
        return data_dir / name

    utt2spk = read_sorted_table(file("utt2spk"))
    _check_values(file("utt2spk"), utt2spk, _check_speaker)
    spk2utt = read_sorted_table(file("spk2utt"))
    checked = ["wav.scp", "utt2spk", "spk2utt"]

    per_utt: List[Tuple[Path, Table]] = []
    for name in ("text_surface", "text_meaning", *OPTIONAL_UTT_FILES, *required_files):
        if name in checked or name == "segments" or not file(name).is_file():
            continue
        allow_empty, check = OPTIONAL_UTT_FILES.get(name, (False, REQUIRED_UTT_CHECKS.get(name)))
        table = read_sorted_table(file(name), allow_empty_value=allow_empty or name in TEXT_FILES)
        if check is not None:
            _check_values(file(name), table, check)
        per_utt.append((file(name), table))
        checked.append(name)

    wav = read_sorted_table(file("wav.scp"))
    if file("segments").is_file():
        segments = read_sorted_table(file("segments"))
        _check_values(file("segments"), segments, _check_segment)
        per_utt.append((file("segments"), segments))
        checked.append("segments")
        for seg, (no, value) in segments.items():
            recording = value.split()[0]
            if recording not in wav:
                raise DataError(file("segments"), no, f"recording '{recording}' of segment '{seg}' is not in wav.scp")
    else:
        per_utt.append((file("wav.scp"), wav))
    _check_wav_scp(file("wav.scp"), wav, check_audio)

    for other_path, other in per_utt:
        _check_same_ids(file("utt2spk"), utt2spk, other_path, other)
    _check_spk2utt(file("spk2utt"), spk2utt, file("utt2spk"), utt2spk)
    tables = {p.name: t for p, t in per_utt}
    if "utt2twin" in tables:
        _check_twins(file("utt2twin"), tables["utt2twin"], utt2spk, file("text_surface"), tables.get("text_surface"))

    return Summary(data_dir, len(utt2spk), len(spk2utt), checked)
