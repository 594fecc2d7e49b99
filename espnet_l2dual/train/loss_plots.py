"""ESPnet's loss/accuracy plots every N epochs and after the last one, instead of every epoch.

ESPnet's Trainer redraws ``images/<key>.png`` (one figure per reported key, ~24 for a dual
model) after every epoch: on a tiny CPU model that is ~3-4 CPU seconds an epoch, a few per cent
of the training. The plots are for watching a run, they feed nothing else: drawing them every
``interval`` epochs, and always after the training's last epoch (also one cut short by early
stopping), gives the same final images and the same model.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

from espnet2.train.reporter import Reporter


def due(epoch: int, interval: int, max_epoch: int) -> bool:
    """Whether the plots are drawn after ``epoch`` (1-based)."""
    return interval <= 1 or epoch % interval == 0 or epoch >= max_epoch


@contextlib.contextmanager
def sparse_loss_plots(interval: int, max_epoch: int) -> Iterator[None]:
    """While the block runs, ``Reporter.matplotlib_plot`` draws only on due epochs; a skipped
    last call is drawn when the block ends normally (the final images are always current)."""
    if interval <= 1:
        yield
        return
    original = Reporter.matplotlib_plot
    pending: List[Optional[Tuple[Reporter, Path]]] = [None]

    def plot(self: Reporter, output_dir: Path) -> None:
        if due(self.get_epoch(), interval, max_epoch):
            pending[0] = None
            original(self, output_dir)
        else:
            pending[0] = (self, output_dir)

    Reporter.matplotlib_plot = plot
    try:
        yield
    finally:
        Reporter.matplotlib_plot = original
    if pending[0] is not None:
        original(*pending[0])
