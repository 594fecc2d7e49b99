"""Search settings of one output's decoding (the outputs themselves: ``espnet_l2dual.outputs``)."""

from __future__ import annotations

from dataclasses import dataclass, fields


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
