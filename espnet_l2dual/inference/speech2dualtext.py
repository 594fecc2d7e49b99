"""``Speech2DualText``: speech -> n-best text of every output of a dual (or STL) model.

One encoder forward per utterance feeds one joint CTC/attention beam search per
output (ESPnet's ``BatchBeamSearch`` with ``CTCPrefixScorer`` and ``LengthBonus``),
so an MTL model costs one encoder pass instead of the two a pair of stock STL
decoders would pay (models with task-specific encoder blocks run only those
blocks once per output, via ``model.encode_all``).  A model with dual attention
between its decoders decodes both outputs in one joint beam search.  ``ctc_weight == 1.0``
skips the beam search and takes the CTC best path, which is the fast mode for quick checks.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import replace
from itertools import groupby
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from espnet_l2dual.inference.detokenize import make_detokenizer
from espnet_l2dual.inference.model_loading import load_dual_model
from espnet_l2dual.inference.options import OVERRIDABLE, DecodeOptions
from espnet_l2dual.inference.utterance_batch_search import SearchSpec, batch_beam_search, pad_frames, supports
from espnet_l2dual.methods.dual_attention import strip_ids
from espnet_l2dual.outputs import OUTPUTS, PAIR
from espnet_l2dual.utils.fileio import PathLike

from espnet_l2dual.compat.espnet1 import BatchBeamSearch
from espnet_l2dual.compat.espnet1 import TooShortUttError
from espnet_l2dual.compat.espnet1 import CTCPrefixScorer
from espnet_l2dual.compat.espnet1 import LengthBonus
from espnet2.text.token_id_converter import TokenIDConverter

Hyp = Tuple[str, List[str], float]
"""One hypothesis: ``(text, tokens, score)``."""

logger = logging.getLogger("l2dual_inference")


@torch.no_grad()
def greedy_ctc_batch(ctc: torch.nn.Module, enc: torch.Tensor, lens: torch.Tensor,
                     blank_id: int = 0) -> List[Tuple[List[int], float]]:
    """CTC best path of every utterance of a padded ``enc: (B, T, D)`` (valid frames ``lens``):
    argmax, collapse repeats, drop blank. The score is the log probability of that frame-level path."""
    logp = ctc.log_softmax(enc)
    best, ids = logp.max(dim=-1)
    out = []
    for i, n in enumerate(lens.tolist()):
        out.append(([int(t) for t, _ in groupby(ids[i, :n].tolist()) if t != blank_id], float(best[i, :n].sum())))
    return out


def greedy_ctc(ctc: torch.nn.Module, enc: torch.Tensor, blank_id: int = 0) -> Tuple[List[int], float]:
    """:func:`greedy_ctc_batch` of one utterance ``enc: (T, D)``."""
    return greedy_ctc_batch(ctc, enc.unsqueeze(0), torch.tensor([enc.size(0)]), blank_id)[0]


class Speech2DualText:
    """Speech -> n-best ``(text, tokens, score)`` for every output of a dual (or STL) model.

    >>> s2t = Speech2DualText("exp/mtl/config.yaml", "exp/mtl/valid.acc.ave.pth")
    >>> s2t(samples)["meaning"][0][0]
    'I THINK SO'
    """

    settings: Optional[Any] = None
    """``decode_settings.SearchSettings`` of a packed model (:meth:`from_packed`), else None."""

    def __init__(
        self,
        train_config: PathLike,
        model_file: PathLike,
        device: str = "cpu",
        beam_size: int = 5,
        ctc_weight: float = 0.3,
        penalty: float = 0.0,
        maxlenratio: float = 0.0,
        minlenratio: float = 0.0,
        nbest: int = 1,
        outputs: Optional[Sequence[str]] = None,
        output_overrides: Optional[Dict[str, Dict[str, Any]]] = None,
        silence_peak: float = 1e-4,
    ) -> None:
        model, args = load_dual_model(train_config, model_file, device)
        self._setup(model, args, device, DecodeOptions(beam_size, ctc_weight, penalty, maxlenratio,
                                                       minlenratio, nbest),
                    outputs, output_overrides, silence_peak)

    @classmethod
    def from_model(cls, model: torch.nn.Module, train_args: Union[argparse.Namespace, Mapping[str, Any]],
                   device: str = "cpu", outputs: Optional[Sequence[str]] = None,
                   output_overrides: Optional[Dict[str, Dict[str, Any]]] = None,
                   silence_peak: float = 1e-4, **options: Any) -> "Speech2DualText":
        """Wrap an already built model (no files read except bpe models)."""
        self = cls.__new__(cls)
        if isinstance(train_args, Mapping):
            train_args = argparse.Namespace(**train_args)
        self._setup(model, train_args, device, DecodeOptions(**options), outputs, output_overrides, silence_peak)
        return self

    @classmethod
    def from_packed(cls, zip_path: PathLike, cache_dir: Optional[PathLike] = None, **kw: Any) -> "Speech2DualText":
        """Decode with a model packed by ``pack_model`` (extracted once into a cache dir).

        A search option not given (or None) takes the zip's packed value, the setting its
        RESULTS.md was decoded with, so a shared model gives the hypotheses it was scored on;
        one given explicitly wins.  A zip packed without settings decodes with the defaults
        and says so.  ``self.settings`` holds what is used and where each value came from (with
        ``batch_size``: files per batched search for callers such as ``transcribe``).
        """
        from espnet_l2dual.inference import decode_settings
        from espnet_l2dual.inference.packing import unpack

        config, model_file = unpack(zip_path, cache_dir)
        packed = decode_settings.read_packed(zip_path)
        settings = decode_settings.resolve(packed, {n: kw.pop(n, None) for n in OVERRIDABLE},
                                           kw.pop("output_overrides", None), kw.pop("batch_size", None))
        if packed is None:
            logger.warning(f"{zip_path}: packed without decode settings (an older zip): options not given "
                           f"take the defaults, which may not be those its RESULTS.md was decoded with")
        logger.info(f"{zip_path}: decoding with {settings.describe()}")
        self = cls(config, model_file, **settings.options, output_overrides=settings.output_overrides, **kw)
        self.settings = settings
        return self

    # -- set-up

    def _setup(self, model, args, device, base: DecodeOptions, outputs, overrides, silence_peak) -> None:
        model.to(device).eval()
        self.model, self.train_args, self.device, self.silence_peak = model, args, device, silence_peak
        tasks = list(model.tasks)
        self.outputs: List[str] = list(outputs) if outputs else tasks
        for o in self.outputs:
            if o not in tasks:
                raise ValueError(f"output '{o}' is not in this model (it has: {', '.join(tasks)})")
        overrides = dict(overrides or {})
        for o, opts in overrides.items():
            if o not in OUTPUTS:
                raise ValueError(f"override for unknown output '{o}'")
            unknown = set(opts) - set(OVERRIDABLE)
            if unknown:
                raise ValueError(f"{o}: cannot override {sorted(unknown)} (allowed: {', '.join(OVERRIDABLE)})")
        self.options: Dict[str, DecodeOptions] = {}
        self.converters: Dict[str, TokenIDConverter] = {}
        self.detokenizers: Dict[str, Callable[[List[str]], str]] = {}
        self.searches: Dict[str, Optional[BatchBeamSearch]] = {}
        self.blank_ids: Dict[str, int] = {o: int(getattr(model, "blank_id", {}).get(o, 0)) for o in self.outputs}
        for o in self.outputs:
            opts = replace(base, **{k: v for k, v in overrides.get(o, {}).items() if v is not None})
            opts = self._fit_to_model(o, opts)
            opts.check(o)
            self.options[o] = opts
            token_list = list(model.token_lists[o])
            self.converters[o] = TokenIDConverter(token_list=token_list)
            self.detokenizers[o] = make_detokenizer(getattr(args, f"{o}_token_type", None),
                                                    getattr(args, f"{o}_bpemodel", None))
            self.searches[o] = None if opts.greedy else self._build_search(o, opts, token_list)
        frontend_conf = getattr(args, "frontend_conf", None) or {}
        self.min_samples = int(0.025 * int(frontend_conf.get("fs", 16000)))
        self.joint: Optional[DecodeOptions] = self._joint_options(base, overrides)

    def _joint_options(self, base: DecodeOptions, overrides: Dict) -> Optional[DecodeOptions]:
        """A dual-attention model decodes both outputs in one joint beam search (one option set)."""
        if getattr(self.model, "decoder_coupling", None) is None or base.greedy:
            return None
        if sorted(self.outputs) != sorted(PAIR):
            raise ValueError("a dual-attention model decodes both outputs together: do not restrict --outputs")
        if any(v is not None for opts in overrides.values() for v in opts.values()):
            raise ValueError("a dual-attention model decodes both outputs in one joint search: "
                             "per-output overrides do not apply")
        return base

    def _fit_to_model(self, o: str, opts: DecodeOptions) -> DecodeOptions:
        """A model trained with ctc_weight 1 has no decoder, with 0 no CTC: decode with what exists."""
        has_ctc, has_dec = o in self.model.ctcs, o in self.model.decoders
        if not has_dec and opts.ctc_weight != 1.0:
            logger.warning(f"{o}: the model has no attention decoder; decoding with CTC only")
            return replace(opts, ctc_weight=1.0)
        if not has_ctc and opts.ctc_weight != 0.0:
            logger.warning(f"{o}: the model has no CTC; decoding with the attention decoder only")
            return replace(opts, ctc_weight=0.0)
        return opts

    def _build_search(self, o: str, opts: DecodeOptions, token_list: List[str]) -> BatchBeamSearch:
        model = self.model
        scorers = dict(decoder=model.decoders[o], length_bonus=LengthBonus(len(token_list)))
        if opts.ctc_weight > 0.0:
            scorers["ctc"] = CTCPrefixScorer(ctc=model.ctcs[o], eos=model.eos[o])
        weights = dict(decoder=1.0 - opts.ctc_weight, ctc=opts.ctc_weight, length_bonus=opts.penalty)
        search = BatchBeamSearch(
            scorers=scorers, weights=weights, beam_size=opts.beam_size, vocab_size=len(token_list),
            sos=model.sos[o], eos=model.eos[o], token_list=token_list, pre_beam_score_key="full",
        )
        return search.to(device=self.device).eval()

    # -- decoding

    def _empty(self) -> Dict[str, List[Hyp]]:
        return {o: [("", [], 0.0)] for o in self.outputs}

    def _is_silent(self, speech: torch.Tensor) -> bool:
        return speech.numel() < self.min_samples or float(speech.abs().max()) <= self.silence_peak

    def _as_samples(self, speech: Union[np.ndarray, torch.Tensor]) -> torch.Tensor:
        speech = torch.as_tensor(np.asarray(speech) if not isinstance(speech, torch.Tensor) else speech)
        return speech.to(torch.float32).reshape(-1)

    def _frames(self, batch: torch.Tensor, lengths: torch.Tensor) -> Optional[List[Dict[str, torch.Tensor]]]:
        """Per utterance of a (padded) batch, each output's valid encoder frames; None if too short."""
        try:
            # one call: the shared encoder part runs once, task-specific blocks once per output
            encs = self.model.encode_all(batch.to(self.device), lengths.to(self.device))
        except TooShortUttError:
            return None
        out: List[Dict[str, torch.Tensor]] = [{} for _ in range(batch.size(0))]
        for o in self.outputs:
            enc, enc_lens = encs[o]
            if isinstance(enc, tuple):  # intermediate-CTC encoders return (out, intermediates)
                enc = enc[0]
            for i in range(batch.size(0)):
                out[i][o] = enc[i, : int(enc_lens[i])]
        return out

    @torch.no_grad()
    def __call__(self, speech: Union[np.ndarray, torch.Tensor, Sequence[Union[np.ndarray, torch.Tensor]]]
                 ) -> Union[Dict[str, List[Hyp]], List[Dict[str, List[Hyp]]]]:
        """Decode one utterance (1-D samples), or a list of them (:meth:`decode_batch`).

        No audio, silence or too-short audio gives empty text."""
        if isinstance(speech, (list, tuple)):
            return self.decode_batch(speech)
        speech = self._as_samples(speech)
        if self._is_silent(speech):
            return self._empty()
        frames = self._frames(speech.unsqueeze(0), torch.tensor([speech.numel()], dtype=torch.long))
        if frames is None or any(f.size(0) == 0 for f in frames[0].values()):
            return self._empty()
        if self.joint is not None:
            return self._decode_joint(frames[0])
        return {o: self._decode_output(o, frames[0][o]) for o in self.outputs}

    @torch.no_grad()
    def decode_batch(self, speeches: Sequence[Union[np.ndarray, torch.Tensor]],
                     padded_encoder: bool = False) -> List[Dict[str, List[Hyp]]]:
        """Decode several utterances: per output one beam search over (utterances x beam).

        The n-best lists are those of the per-utterance search (up to float ties; see
        ``utterance_batch_search``). The encoder runs per utterance unless ``padded_encoder``:
        ESPnet's conformer convolution does not mask padding, so a padded pass changes the last
        frames of the shorter utterances (slightly faster, not identical).
        """
        samples = [self._as_samples(x) for x in speeches]
        results: List[Optional[Dict[str, List[Hyp]]]] = [None] * len(samples)
        live = [i for i, x in enumerate(samples) if not self._is_silent(x)]
        frames: Dict[int, Dict[str, torch.Tensor]] = {}
        if padded_encoder and live:
            batch, lengths = pad_frames([samples[i][:, None] for i in live])
            got = self._frames(batch[..., 0], lengths)
            if got is None:  # some utterance is too short for the batch: encode one by one
                padded_encoder = False
            else:
                frames = dict(zip(live, got))
        if not padded_encoder:
            for i in live:
                got = self._frames(samples[i].unsqueeze(0), torch.tensor([samples[i].numel()], dtype=torch.long))
                if got is not None:
                    frames[i] = got[0]
        usable = [i for i in live if i in frames and all(f.size(0) > 0 for f in frames[i].values())]
        for i in range(len(samples)):
            if i not in usable:
                results[i] = self._empty()
        if self.joint is not None:
            for i in usable:
                results[i] = self._decode_joint(frames[i])
            return results  # type: ignore[return-value]
        per_output = {o: self._decode_outputs(o, [frames[i][o] for i in usable]) for o in self.outputs}
        for j, i in enumerate(usable):
            results[i] = {o: per_output[o][j] for o in self.outputs}
        return results  # type: ignore[return-value]

    def _decode_outputs(self, o: str, encs: List[torch.Tensor]) -> List[List[Hyp]]:
        """Output ``o`` of several utterances: batched CTC best path or batched beam search."""
        if not encs:
            return []
        opts, m = self.options[o], self.model
        enc, lens = pad_frames(encs)
        if opts.greedy:
            return [self._hyps(o, [(ids, score)]) for ids, score in greedy_ctc_batch(m.ctcs[o], enc, lens,
                                                                                   self.blank_ids[o])]
        if not supports(m.decoders[o]):  # a decoder this search cannot step: one utterance at a time
            return [self._decode_output(o, e) for e in encs]
        spec = SearchSpec(opts.beam_size, opts.ctc_weight, opts.penalty, opts.maxlenratio, opts.minlenratio,
                          m.sos[o], m.eos[o], self.blank_ids[o], len(m.token_lists[o]))
        out = []
        for e, nbest in zip(encs, batch_beam_search(m.decoders[o], m.ctcs[o] if opts.ctc_weight > 0 else None,
                                                    enc, lens, spec)):
            if not nbest:  # none ended: BeamSearch retries with a smaller minlenratio; so does the fallback
                out.append(self._decode_output(o, e))
                continue
            out.append(self._hyps(o, [(self._text_ids(o, seq), sc) for seq, sc in nbest[: opts.nbest]]))
        return out

    def _text_ids(self, o: str, yseq: Sequence[int]) -> List[int]:
        """A hypothesis' token ids without ``<sos>``, ``<eos>`` (a hyp cut at maxlen may carry two)
        and blank: they are not text."""
        drop = {self.blank_ids[o], self.model.sos[o], self.model.eos[o]}
        return [i for i in yseq[1:] if i not in drop]

    def _hyps(self, o: str, nbest: List[Tuple[List[int], float]]) -> List[Hyp]:
        results = []
        for ids, score in nbest:
            tokens = self.converters[o].ids2tokens(ids)
            results.append((self.detokenizers[o](tokens), tokens, score))
        return results or [("", [], float("-inf"))]

    def _decode_joint(self, frames: Dict[str, torch.Tensor]) -> Dict[str, List[Hyp]]:
        m = self.model
        hyps = m.decoder_coupling.joint_beam_search(m.decoders, frames, m.ctcs, m.sos, m.eos, self.blank_ids,
                                                    self.joint)
        results: Dict[str, List[Hyp]] = {o: [] for o in self.outputs}
        for hyp in hyps:
            for o in self.outputs:
                tokens = self.converters[o].ids2tokens(strip_ids(hyp.sides[o].ys, m.sos[o], m.eos[o],
                                                                 self.blank_ids[o]))
                results[o].append((self.detokenizers[o](tokens), tokens, hyp.score))
        return results

    def _decode_output(self, o: str, enc: torch.Tensor) -> List[Hyp]:
        opts = self.options[o]
        if opts.greedy:
            nbest = [greedy_ctc(self.model.ctcs[o], enc, self.blank_ids[o])]
        else:
            hyps = self.searches[o](x=enc, maxlenratio=opts.maxlenratio, minlenratio=opts.minlenratio)
            nbest = []
            for hyp in hyps[: opts.nbest]:
                nbest.append((self._text_ids(o, hyp.yseq.tolist()), float(hyp.score)))
        return self._hyps(o, nbest)
