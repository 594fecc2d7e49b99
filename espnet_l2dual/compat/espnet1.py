"""The ESPnet1 names the toolkit uses, from where the installed ESPnet keeps them.

ESPnet 202609 moved ``espnet.nets`` to ``espnet2.legacy.nets`` (202611 ships a top-level
``espnet`` package again, with only ``load()``), so every import of those names goes
through this module: ``espnet2.legacy.nets`` where it exists, else ``espnet.nets``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

LEGACY_PACKAGE = "espnet2.legacy.nets"  # ESPnet >= 202609
OLD_PACKAGE = "espnet.nets"  # ESPnet <= 202511


def _find_nets_package() -> str:
    try:
        importlib.import_module(LEGACY_PACKAGE)
    except ModuleNotFoundError as e:  # only a missing package means an older ESPnet
        if e.name not in ("espnet2.legacy", LEGACY_PACKAGE):
            raise
        return OLD_PACKAGE
    return LEGACY_PACKAGE


NETS_PACKAGE = _find_nets_package()  # also the logger name of ESPnet's beam search


def nets_module(name: str) -> ModuleType:
    """``<NETS_PACKAGE>.<name>``, e.g. ``nets_module("scorers.ctc")``."""
    return importlib.import_module(f"{NETS_PACKAGE}.{name}")


_search = nets_module("batch_beam_search")
_common = nets_module("e2e_asr_common")
_prefix = nets_module("ctc_prefix_score")
_utils = nets_module("pytorch_backend.nets_utils")
_transformer = "pytorch_backend.transformer"
_subsampling = nets_module(f"{_transformer}.subsampling")

BatchBeamSearch = _search.BatchBeamSearch
CTCPrefixScorer = nets_module("scorers.ctc").CTCPrefixScorer
LengthBonus = nets_module("scorers.length_bonus").LengthBonus
CTCPrefixScore = _prefix.CTCPrefixScore
CTCPrefixScoreTH = _prefix.CTCPrefixScoreTH
ErrorCalculator = _common.ErrorCalculator
end_detect = _common.end_detect
make_pad_mask = _utils.make_pad_mask
th_accuracy = _utils.th_accuracy
add_sos_eos = nets_module(f"{_transformer}.add_sos_eos").add_sos_eos
DecoderLayer = nets_module(f"{_transformer}.decoder_layer").DecoderLayer
MultiHeadedAttention = nets_module(f"{_transformer}.attention").MultiHeadedAttention
LabelSmoothingLoss = nets_module(f"{_transformer}.label_smoothing_loss").LabelSmoothingLoss
LayerNorm = nets_module(f"{_transformer}.layer_norm").LayerNorm
subsequent_mask = nets_module(f"{_transformer}.mask").subsequent_mask
Conv1dSubsampling2 = _subsampling.Conv1dSubsampling2
Conv2dSubsampling = _subsampling.Conv2dSubsampling
Conv2dSubsampling1 = _subsampling.Conv2dSubsampling1
Conv2dSubsampling2 = _subsampling.Conv2dSubsampling2
Conv2dSubsampling6 = _subsampling.Conv2dSubsampling6
Conv2dSubsampling8 = _subsampling.Conv2dSubsampling8
TooShortUttError = _subsampling.TooShortUttError
check_short_utt = _subsampling.check_short_utt

__all__ = [
    "NETS_PACKAGE", "nets_module", "BatchBeamSearch", "CTCPrefixScorer", "LengthBonus",
    "CTCPrefixScore", "CTCPrefixScoreTH", "ErrorCalculator", "end_detect", "make_pad_mask",
    "th_accuracy", "add_sos_eos", "DecoderLayer", "MultiHeadedAttention", "LabelSmoothingLoss", "LayerNorm",
    "subsequent_mask", "Conv1dSubsampling2", "Conv2dSubsampling", "Conv2dSubsampling1",
    "Conv2dSubsampling2", "Conv2dSubsampling6", "Conv2dSubsampling8", "TooShortUttError",
    "check_short_utt",
]
