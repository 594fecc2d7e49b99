"""Search settings of one output's decoding (the outputs themselves: ``espnet_l2dual.outputs``)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields
from typing import Any, Dict, Sequence


@dataclass(frozen=True)
class DecodeOptions:
    """Search settings of one output (each may be overridden per output)."""

    beam_size: int = 5
    ctc_weight: float = 0.3
    penalty: float = 0.0
    maxlenratio: float = 0.0
    minlenratio: float = 0.0
    nbest: int = 1

    def check(self, output: str) -> None:
        if not 0.0 <= self.ctc_weight <= 1.0:
            raise ValueError(f"{output}: ctc_weight must be in [0, 1], got {self.ctc_weight}")
        if self.beam_size < 1 or self.nbest < 1:
            raise ValueError(f"{output}: beam_size and nbest must be >= 1")
        if self.nbest > self.beam_size and self.ctc_weight < 1.0:
            raise ValueError(f"{output}: nbest ({self.nbest}) > beam_size ({self.beam_size})")

    @property
    def greedy(self) -> bool:
        return self.ctc_weight == 1.0


OVERRIDABLE = tuple(f.name for f in fields(DecodeOptions))
DEFAULTS: Dict[str, Any] = {f.name: f.default for f in fields(DecodeOptions)}
TYPES: Dict[str, type] = {f.name: type(f.default) for f in fields(DecodeOptions)}


def add_search_arguments(p: argparse.ArgumentParser, outputs=(), defaults: bool = True) -> None:
    """``--beam_size`` ... ``--nbest`` (and ``--<output>_<name>`` per output), one table for every CLI.

    ``defaults=False`` leaves them ``None``, so a caller can tell "not given" from a value."""
    for name in OVERRIDABLE:
        p.add_argument(f"--{name}", type=TYPES[name], default=DEFAULTS[name] if defaults else None,
                       help=None if defaults else f"default: the packed model's, else {DEFAULTS[name]}")
        for o in outputs:
            p.add_argument(f"--{o}_{name}", type=TYPES[name], default=None, help=f"--{name} for the {o} output only")


def given_overrides(args: argparse.Namespace, outputs: Sequence[str]) -> Dict[str, Dict[str, Any]]:
    """``{output: {name: value}}`` of the ``--<output>_<name>`` options given (outputs with none left out)."""
    overrides = {o: {name: getattr(args, f"{o}_{name}") for name in OVERRIDABLE
                     if getattr(args, f"{o}_{name}") is not None} for o in outputs}
    return {o: v for o, v in overrides.items() if v}
