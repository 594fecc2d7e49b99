"""The token setup stage 5 chose, recorded so stages 6-11 use it without being told again.

    token_setup record --setup data/token_list/setup.json --token_list_dir data/token_list \\
        --surface_token_type word --meaning_token_type char --nbpe_surface 100 ...
    token_setup read --setup data/token_list/setup.json [--surface_token_type word ...]

``record`` (end of stage 5) writes the setup; ``read`` prints it as ``name=value`` lines
(``surface_token_type=...``, ``surface_token_dir=...``, ...) that l2dual.sh assigns without eval. An option given to ``read``
is one the user typed: if it contradicts the record, that is an error (re-run stage 5
with it, or drop it), never a silent switch to another token list.
Token lists live in ``<token_list_dir>/<output>/<name>``, the name carrying the setting:
``char``, ``jamo``, ``word``, ``bpe_<mode><size>`` (e.g. ``bpe_unigram100``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Optional

from espnet_l2dual.outputs import OUTPUTS


TOKEN_TYPES = ("bpe", "char", "jamo", "word")


def token_dir_name(token_type: str, nbpe: int, bpemode: str) -> str:
    """``char`` | ``jamo`` | ``word`` | ``bpe_unigram100``: two settings never share a directory."""
    if token_type not in TOKEN_TYPES:
        raise ValueError(f"unknown token type '{token_type}' (expected {', '.join(TOKEN_TYPES)})")
    return f"bpe_{bpemode}{nbpe}" if token_type == "bpe" else token_type


def setup_of(token_list_dir: str, types: Dict[str, str], nbpe: Dict[str, int], bpemode: str) -> dict:
    out = {}
    for o in OUTPUTS:
        t = types[o]
        entry = {"token_type": t, "dir": f"{token_list_dir}/{o}/{token_dir_name(t, nbpe[o], bpemode)}"}
        if t == "bpe":
            entry.update(nbpe=nbpe[o], bpemode=bpemode)
        out[o] = entry
    return out


def conflicts(setup: dict, types: Dict[str, Optional[str]], nbpe: Dict[str, Optional[int]],
              bpemode: Optional[str]) -> List[str]:
    """Explicit options that contradict the recorded setup."""
    bad = []
    for o in OUTPUTS:
        rec = setup[o]
        if types.get(o) and types[o] != rec["token_type"]:
            bad.append(f"--{o}_token_type {types[o]} (stage 5 recorded {rec['token_type']})")
        if rec["token_type"] == "bpe":
            if nbpe.get(o) is not None and nbpe[o] != rec["nbpe"]:
                bad.append(f"--nbpe_{o} {nbpe[o]} (stage 5 recorded {rec['nbpe']})")
            if bpemode and bpemode != rec["bpemode"]:
                bad.append(f"--bpemode {bpemode} (stage 5 recorded {rec['bpemode']})")
    return bad


def shell_lines(setup: dict) -> List[str]:
    """``name=value`` lines, one a variable; the value is the rest of the line, unquoted (the
    shell assigns it as it is, without eval), so no value may hold a newline."""
    lines = []
    for o in OUTPUTS:
        rec = setup[o]
        lines.append(f"{o}_token_type={rec['token_type']}")
        lines.append(f"{o}_token_dir={rec['dir']}")
        if rec["token_type"] == "bpe":
            lines.append(f"nbpe_{o}={int(rec['nbpe'])}")
            lines.append(f"bpemode={rec['bpemode']}")
    bad = [line for line in lines if "\n" in line or "\r" in line]
    if bad:
        raise ValueError(f"token setup values must be one line each: {bad}")
    return lines


def recorded_setup(path: Path, types: Dict[str, Optional[str]], nbpe: Dict[str, Optional[int]],
                   bpemode: Optional[str]) -> dict:
    """The setup recorded at ``path``; a ValueError (its one-line message) where there is none, it is
    unreadable, or an option the user gave contradicts it."""
    if not path.is_file():
        raise ValueError(f"{path} not found: run stage 5 (tokenizers) first")
    try:
        setup = json.loads(path.read_text(encoding="utf-8"))
        bad = conflicts(setup, types, nbpe, bpemode)
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{path}: unreadable token setup ({e}): re-run stage 5") from None
    if bad:
        raise ValueError(f"{'; '.join(bad)} contradicts the token setup in {path}: re-run stage 5 "
                         "with the new option, or drop it to use the recorded setup")
    return setup
