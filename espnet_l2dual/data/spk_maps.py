"""Convert between utt2spk (``utt spk``) and spk2utt (``spk utt1 utt2 ...``).

Both outputs are sorted by their first field (C order), as the data-dir
contract requires; utterances within a speaker keep their input order.
"""

from __future__ import annotations

import argparse
import sys
from typing import Dict, Iterable, List, Optional, Sequence, TextIO, Tuple

from espnet_l2dual.data.lines import iter_keyed_lines
from espnet_l2dual.errors import DataError


def utt2spk_to_spk2utt(path: str) -> List[Tuple[str, List[str]]]:
    """Read an utt2spk file (``-`` = stdin) into sorted ``(spk, [utts])``."""
    spk2utts: Dict[str, List[str]] = {}
    seen: Dict[str, int] = {}
    name = "<stdin>" if path == "-" else path
    for no, utt, line in iter_keyed_lines(path):
        fields = line.split()
        if len(fields) != 2:
            raise DataError(name, no, f"expected 'utt spk', got {len(fields)} fields")
        if utt in seen:
            raise DataError(name, no, f"duplicate utterance '{utt}' (first on line {seen[utt]})")
        seen[utt] = no
        spk2utts.setdefault(fields[1], []).append(utt)
    return sorted(spk2utts.items())


def spk2utt_to_utt2spk(path: str) -> List[Tuple[str, str]]:
    """Read a spk2utt file (``-`` = stdin) into ``(utt, spk)`` sorted by utterance."""
    spk_of: Dict[str, str] = {}
    name = "<stdin>" if path == "-" else path
    for no, spk, line in iter_keyed_lines(path):
        utts = line.split()[1:]
        if not utts:
            raise DataError(name, no, f"speaker '{spk}' has no utterances")
        for utt in utts:
            if utt in spk_of:
                raise DataError(name, no, f"utterance '{utt}' already belongs to speaker '{spk_of[utt]}'")
            spk_of[utt] = spk
    return sorted(spk_of.items())


def _write(rows: Iterable[str], out: TextIO) -> None:
    for row in rows:
        out.write(row + "\n")


def _run(argv: Optional[Sequence[str]], prog: str, description: str, convert) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("input", nargs="?", default="-", help="input file (default: stdin)")
    args = parser.parse_args(argv)
    try:
        rows = convert(args.input)
    except (DataError, OSError) as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return 1
    _write(rows, sys.stdout)
    return 0


def main_utt2spk_to_spk2utt(argv: Optional[Sequence[str]] = None) -> int:
    return _run(
        argv,
        "utt2spk_to_spk2utt.sh",
        "utt2spk (stdin or file) -> spk2utt on stdout, sorted by speaker.",
        lambda p: (f"{spk} {' '.join(utts)}" for spk, utts in utt2spk_to_spk2utt(p)),
    )


def main_spk2utt_to_utt2spk(argv: Optional[Sequence[str]] = None) -> int:
    return _run(
        argv,
        "spk2utt_to_utt2spk.sh",
        "spk2utt (stdin or file) -> utt2spk on stdout, sorted by utterance.",
        lambda p: (f"{utt} {spk}" for utt, spk in spk2utt_to_utt2spk(p)),
    )


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m espnet_l2dual.data.spk_maps {utt2spk_to_spk2utt|spk2utt_to_utt2spk} [FILE]``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {
        "utt2spk_to_spk2utt": main_utt2spk_to_spk2utt,
        "spk2utt_to_utt2spk": main_spk2utt_to_utt2spk,
    }
    if not argv or argv[0] not in commands:
        print(f"usage: python -m espnet_l2dual.data.spk_maps {{{'|'.join(commands)}}} [FILE]", file=sys.stderr)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    return commands[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
