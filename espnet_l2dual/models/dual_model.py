"""Dual-output hybrid CTC/attention model: one shared encoder, one CTC + decoder per output.

The study compares multi-task training (both outputs share the encoder) with
single-task training (one output).  Both are this one class: ``tasks`` names the
active outputs and only their branches exist, so an STL model has no unused
parameter (DDP-safe) and its checkpoint holds nothing of the other output.

Disentangling methods are components chosen by YAML (``espnet_l2dual/methods``):
``encoder_sharing`` (which encoder blocks the outputs share), ``task_projection``
(each output's view of the encoder output, with an optional penalty) and
``decoder_coupling`` (decoders that read each other).  This class only wires
them; ``encode_all`` gives every output its own encoder output and computes the
shared part once.
"""

from __future__ import annotations

from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import torch

from espnet2.asr.ctc import CTC
from espnet2.asr.decoder.abs_decoder import AbsDecoder
from espnet2.asr.encoder.abs_encoder import AbsEncoder
from espnet2.asr.espnet_model import ESPnetASRModel
from espnet2.asr.frontend.abs_frontend import AbsFrontend
from espnet2.asr.postencoder.abs_postencoder import AbsPostEncoder
from espnet2.asr.preencoder.abs_preencoder import AbsPreEncoder
from espnet2.asr.specaug.abs_specaug import AbsSpecAug
from espnet2.layers.abs_normalize import AbsNormalize
from espnet2.torch_utils.device_funcs import force_gatherable
from espnet2.train.abs_espnet_model import AbsESPnetModel
from espnet_l2dual.compat.espnet1 import ErrorCalculator
from espnet_l2dual.compat.espnet1 import th_accuracy
from espnet_l2dual.compat.espnet1 import add_sos_eos
from espnet_l2dual.compat.espnet1 import (
    LabelSmoothingLoss,
)

from espnet_l2dual.outputs import OUTPUTS, check_tasks, data_key, lengths_key  # noqa: F401  (re-exported)


def pad_to(ys: torch.Tensor, length: int, value: int) -> torch.Tensor:
    """Right-pad ``(B, T)`` ids to ``length`` with ``value``."""
    if ys.size(1) >= length:
        return ys
    return torch.nn.functional.pad(ys, (0, length - ys.size(1)), value=value)


def _special_id(token_list: Sequence[str], symbol: str, fallback: int) -> int:
    return token_list.index(symbol) if symbol in token_list else fallback


class ESPnetL2DualModel(AbsESPnetModel):
    """Shared encoder with a hybrid CTC/attention branch per active output.

    Loss = sum_o w_o * ((1 - ctc_weight) * att_o + ctc_weight * ctc_o).
    As in ESPnet's ASR model, ``ctc_weight == 1`` builds no decoders and
    ``ctc_weight == 0`` keeps no CTC, so ``ctcs`` / ``decoders`` then are empty.

    Methods are optional components (built by ``L2DualTask`` from ``encoder_sharing``,
    ``task_projection``, ``decoder_coupling`` and their ``*_conf``); none = plain MTL/STL.
    Each implements its kind's interface (``methods/abs_<kind>.py``), which the task's
    ``ClassChoices`` checks; this module imports no method, so methods can build on models.
    """

    def __init__(
        self,
        token_lists: Mapping[str, Sequence[str]],
        frontend: Optional[AbsFrontend],
        specaug: Optional[AbsSpecAug],
        normalize: Optional[AbsNormalize],
        preencoder: Optional[AbsPreEncoder],
        encoder: AbsEncoder,
        postencoder: Optional[AbsPostEncoder],
        ctcs: Mapping[str, CTC],
        decoders: Mapping[str, Optional[AbsDecoder]],
        tasks: Sequence[str] = OUTPUTS,
        ctc_weight: float = 0.3,
        task_weights: Optional[Dict[str, float]] = None,
        ignore_id: int = -1,
        lsm_weight: float = 0.0,
        length_normalized_loss: bool = False,
        report_cer: bool = True,
        report_wer: bool = True,
        sym_space: str = "<space>",
        sym_blank: str = "<blank>",
        sym_sos: str = "<sos/eos>",
        sym_eos: str = "<sos/eos>",
        extract_feats_in_collect_stats: bool = True,
        encoder_sharing: Optional[torch.nn.Module] = None,
        task_projection: Optional[torch.nn.Module] = None,
        decoder_coupling: Optional[torch.nn.Module] = None,
    ):
        if not 0.0 <= ctc_weight <= 1.0:
            raise ValueError(f"model_conf.ctc_weight must be in [0, 1], got {ctc_weight}")
        super().__init__()
        self.tasks: List[str] = check_tasks(tasks)
        weights = dict(task_weights or {})
        for name in weights:
            if name not in self.tasks:
                raise ValueError(
                    f"model_conf.task_weights: '{name}' is not in model_conf.tasks {self.tasks}"
                )
        self.task_weights: Dict[str, float] = {o: float(weights.get(o, 1.0)) for o in self.tasks}
        self.ctc_weight = float(ctc_weight)
        self.ignore_id = ignore_id
        self.extract_feats_in_collect_stats = extract_feats_in_collect_stats

        self.token_lists: Dict[str, List[str]] = {}
        self.vocab_sizes: Dict[str, int] = {}
        self.sos: Dict[str, int] = {}
        self.eos: Dict[str, int] = {}
        self.blank_id: Dict[str, int] = {}
        for o in self.tasks:
            if o not in token_lists:
                raise ValueError(f"no token list for output '{o}' (model_conf.tasks contains it)")
            tl = list(token_lists[o])
            self.token_lists[o] = tl
            self.vocab_sizes[o] = len(tl)
            self.sos[o] = _special_id(tl, sym_sos, len(tl) - 1)
            self.eos[o] = _special_id(tl, sym_eos, len(tl) - 1)
            self.blank_id[o] = _special_id(tl, sym_blank, 0)

        self.frontend = frontend
        self.specaug = specaug
        self.normalize = normalize
        self.preencoder = preencoder
        self.encoder = encoder
        self.postencoder = postencoder

        self.ctcs = torch.nn.ModuleDict()
        self.decoders = torch.nn.ModuleDict()
        self.criteria_att = torch.nn.ModuleDict()
        self.error_calculators: Dict[str, ErrorCalculator] = {}
        for o in self.tasks:
            if self.ctc_weight > 0.0:
                if ctcs.get(o) is None:
                    raise ValueError(f"output '{o}' needs a CTC because ctc_weight > 0")
                self.ctcs[o] = ctcs[o]
            if self.ctc_weight < 1.0:
                if decoders.get(o) is None:
                    raise ValueError(
                        f"--{o}_decoder is required because ctc_weight < 1 "
                        f"and model_conf.tasks contains '{o}'"
                    )
                self.decoders[o] = decoders[o]
                self.criteria_att[o] = LabelSmoothingLoss(
                    size=self.vocab_sizes[o],
                    padding_idx=ignore_id,
                    smoothing=lsm_weight,
                    normalize_length=length_normalized_loss,
                )
            if report_cer or report_wer:
                self.error_calculators[o] = ErrorCalculator(
                    self.token_lists[o], sym_space, sym_blank, report_cer, report_wer
                )
        if getattr(encoder, "interctc_use_conditioning", False) or getattr(encoder, "ctc_trim", False):
            raise ValueError("encoder_conf: interctc_use_conditioning / ctc_trim need one CTC; "
                             "this model has one per output")
        self.is_encoder_whisper = "Whisper" in type(encoder).__name__  # read by ESPnet's encode
        if decoder_coupling is not None and self.ctc_weight >= 1.0:
            raise ValueError("decoder_coupling needs attention decoders (ctc_weight < 1)")
        self.encoder_sharing = encoder_sharing
        self.task_projection = task_projection
        self.decoder_coupling = decoder_coupling

    # ------------------------------------------------------------------ methods
    @property
    def task_split(self) -> Optional[int]:
        """The first encoder block that is not shared by all outputs (None: all shared)."""
        return None if self.encoder_sharing is None else self.encoder_sharing.first_task_block

    def sync_task_copies(self) -> None:
        """Make the per-output copies identical again (call after a global re-initialisation)."""
        if self.encoder_sharing is not None:
            self.encoder_sharing.sync_copies()

    def task_encoder_blocks(self, output: str) -> List[torch.nn.Module]:
        """The encoder blocks output ``output`` runs through, bottom to top (for analysis hooks).

        For expert models the blocks are shared modules that run once per output; a
        hook on them fires once per output, in ``tasks`` order.
        """
        if output not in self.tasks:
            raise ValueError(f"'{output}' is not in model_conf.tasks {self.tasks}")
        if self.encoder_sharing is None:
            return list(self.encoder.encoders)
        return self.encoder_sharing.task_blocks(self.encoder, output)

    def is_shared_parameter(self, name: str) -> bool:
        """True for parameters every output's loss reaches (frontend and shared encoder)."""
        if self.encoder_sharing is not None and self.encoder_sharing.is_task_specific(name):
            return False
        return name.startswith(("frontend.", "normalize.", "preencoder.", "encoder.", "postencoder."))

    def train(self, mode: bool = True) -> "ESPnetL2DualModel":
        """As ``nn.Module.train``, but a batch norm whose parameters are all frozen (``freeze_param``,
        e.g. the encoder in post-training) stays in eval mode: frozen means its statistics too."""
        super().train(mode)
        if mode:
            for m in self.modules():
                params = list(m.parameters(recurse=False))
                if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and params and \
                        not any(p.requires_grad for p in params):
                    m.eval()
        return self

    # ------------------------------------------------------------------ encoder
    # ESPnet's ASR model's feature extraction (trim padding, frontend); it reads only ``frontend``
    _extract_feats = ESPnetASRModel._extract_feats

    @property
    def autocast_frontend(self) -> bool:
        """Read by ESPnet's ``encode``, which runs the frontend under ``autocast(autocast_frontend)``.

        The current CUDA autocast state leaves the frontend in the precision of the caller (the
        trainer's ``--use_amp``, same dtype rule as ESPnet's encode); a fixed False would force fp32 there.
        """
        return torch.is_autocast_enabled("cuda")

    def _encoder_input(
        self, speech: torch.Tensor, speech_lengths: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Features -> specaug (training only) -> normalize -> preencoder: the input of the encoder blocks.

        Only for task-specific encoder blocks (``encoder_sharing``): ESPnet's ``encode`` goes on
        through the encoder and has no step that stops at the encoder input.
        """
        feats, lens = self._extract_feats(speech, speech_lengths)
        if self.specaug is not None and self.training:
            feats, lens = self.specaug(feats, lens)
        if self.normalize is not None:
            feats, lens = self.normalize(feats, lens)
        if self.preencoder is not None:
            feats, lens = self.preencoder(feats, lens)
        return feats, lens

    def encode(
        self, speech: torch.Tensor, speech_lengths: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """ESPnet's ``ESPnetASRModel.encode`` (frontend -> specaug in training -> normalize ->
        pre/encoder/post), shared by the outputs, without intermediate CTC outputs (no output has
        an intermediate CTC).

        This is the shared encoder output, before any task projection.  A model with
        task-specific encoder blocks (``encoder_sharing``) has no single encoder output:
        it raises; use ``encode_all``.
        """
        if self.encoder_sharing is not None:
            raise ValueError(
                "this model has task-specific encoder blocks (encoder_sharing): "
                "there is one encoder output per task, use encode_all()"
            )
        out, out_lens = ESPnetASRModel.encode(self, speech, speech_lengths)
        if isinstance(out, tuple):  # (output, intermediate outputs) of an encoder with interctc layers
            out = out[0]
        return out, out_lens

    def encode_all(
        self, speech: torch.Tensor, speech_lengths: torch.Tensor
    ) -> Dict[str, Tuple[torch.Tensor, torch.Tensor]]:
        """One (encoder output, lengths) per task, the input each task's CTC and decoder read.

        The part below the first task-specific block runs once; a plain model gives
        every task the same tensor.  The task projection, if any, is applied.
        """
        if self.encoder_sharing is None:
            shared = self.encode(speech, speech_lengths)
            outs = {o: shared for o in self.tasks}
        else:
            feats, lens = self._encoder_input(speech, speech_lengths)
            outs = self.encoder_sharing(self.encoder, feats, lens)
            if self.postencoder is not None:
                outs = {o: self.postencoder(out, out_lens) for o, (out, out_lens) in outs.items()}
        if self.task_projection is not None:
            outs = self.task_projection(outs)
        return outs

    # ------------------------------------------------------------------ branches
    def _ctc_branch(
        self, o: str, enc: torch.Tensor, enc_lens: torch.Tensor, ys: torch.Tensor, ys_lens: torch.Tensor
    ) -> Tuple[torch.Tensor, Optional[float]]:
        ctc = self.ctcs[o]
        loss = ctc(enc, enc_lens, ys, ys_lens)
        cer = None
        calc = self.error_calculators.get(o)
        if not self.training and calc is not None:
            hyp = ctc.argmax(enc).detach()
            cer = calc(hyp.cpu(), ys.cpu(), is_ctc=True)
        return loss, cer

    def _att_branch(
        self, o: str, enc: torch.Tensor, enc_lens: torch.Tensor, ys: torch.Tensor, ys_lens: torch.Tensor
    ) -> Tuple[torch.Tensor, float, Optional[float], Optional[float]]:
        ys_in, ys_out = add_sos_eos(ys, self.sos[o], self.eos[o], self.ignore_id)
        dec_out, _ = self.decoders[o](enc, enc_lens, ys_in, ys_lens + 1)
        return self._att_scores(o, dec_out, ys_out, ys)

    def _att_coupled(self, encs, targets) -> Dict[str, Tuple[torch.Tensor, float, Optional[float], Optional[float]]]:
        """All attention branches at once, the decoders reading each other (``decoder_coupling``).

        Inputs are padded with ``<eos>`` to one length, the padded targets are ignored.
        """
        io = {o: add_sos_eos(targets[o][0], self.sos[o], self.eos[o], self.ignore_id) for o in self.tasks}
        length = max(ys_in.size(1) for ys_in, _ in io.values())
        ys_in = {o: pad_to(io[o][0], length, self.eos[o]) for o in self.tasks}
        logits = self.decoder_coupling(self.decoders, encs, ys_in)
        return {o: self._att_scores(o, logits[o], pad_to(io[o][1], length, self.ignore_id), targets[o][0])
                for o in self.tasks}

    def _att_scores(self, o: str, dec_out: torch.Tensor, ys_out: torch.Tensor, ys: torch.Tensor):
        loss = self.criteria_att[o](dec_out, ys_out)
        acc = th_accuracy(dec_out.view(-1, self.vocab_sizes[o]), ys_out, ignore_label=self.ignore_id)
        cer = wer = None
        calc = self.error_calculators.get(o)
        if not self.training and calc is not None:
            cer, wer = calc(dec_out[:, : ys.size(1) + 1].argmax(dim=-1).cpu(), ys.cpu())
        return loss, acc, cer, wer

    def _targets(self, o: str, batch: Mapping[str, torch.Tensor], batch_size: int):
        key = data_key(o)
        ys, ys_lens = batch.get(key), batch.get(lengths_key(o))
        if ys is None or ys_lens is None:
            raise ValueError(
                f"model_conf.tasks contains '{o}' but the batch has no '{key}': "
                f"pass {key} in --train_data_path_and_name_and_type / --valid_data_path_and_name_and_type"
            )
        if ys.shape[0] != batch_size or ys_lens.shape[0] != batch_size:
            raise ValueError(f"{key} batch size {ys.shape[0]} != speech batch size {batch_size}")
        ys = ys[:, : ys_lens.max()].clone()
        ys[ys == -1] = self.ignore_id
        return ys, ys_lens

    def task_losses(
        self, speech: torch.Tensor, speech_lengths: torch.Tensor, **texts: torch.Tensor
    ) -> Tuple[Dict[str, torch.Tensor], Dict[str, Optional[torch.Tensor]], int]:
        """The loss terms (not gathered): ``{o: w_o * loss_o}`` per task, plus a method's
        penalty term when it has one; their sum in this order is the training loss.

        ``texts`` are the batch's ``text_<o>`` / ``text_<o>_lengths`` (``outputs.data_key``), and
        ``twin_group`` where the batch pairs learner-error twins (``data.twin_batches``).
        Gradient surgery needs the per-task terms separately; ``forward`` sums them.
        """
        batch_size = speech.shape[0]
        targets = {o: self._targets(o, texts, batch_size) for o in self.tasks}

        encs = self.encode_all(speech, speech_lengths)
        dual_att = self._att_coupled(encs, targets) if self.decoder_coupling is not None else {}
        stats: Dict[str, Optional[torch.Tensor]] = {}
        losses: Dict[str, torch.Tensor] = {}
        for o in self.tasks:
            enc, enc_lens = encs[o]
            ys, ys_lens = targets[o]
            loss_ctc = cer_ctc = loss_att = acc = cer = wer = None
            if self.ctc_weight > 0.0:
                loss_ctc, cer_ctc = self._ctc_branch(o, enc, enc_lens, ys, ys_lens)
            if self.ctc_weight < 1.0:
                if dual_att:
                    loss_att, acc, cer, wer = dual_att[o]
                else:
                    loss_att, acc, cer, wer = self._att_branch(o, enc, enc_lens, ys, ys_lens)
            if loss_att is None:
                loss_o = loss_ctc
            elif loss_ctc is None:
                loss_o = loss_att
            else:
                loss_o = self.ctc_weight * loss_ctc + (1.0 - self.ctc_weight) * loss_att
            losses[o] = self.task_weights[o] * loss_o
            stats[f"loss_{o}"] = loss_o.detach()
            stats[f"loss_ctc_{o}"] = loss_ctc.detach() if loss_ctc is not None else None
            stats[f"loss_att_{o}"] = loss_att.detach() if loss_att is not None else None
            stats[f"acc_{o}"] = acc
            stats[f"cer_ctc_{o}"] = cer_ctc
            stats[f"cer_{o}"] = cer
            stats[f"wer_{o}"] = wer
        extra = None if self.task_projection is None else \
            self.task_projection.batch_penalty(encs, targets, texts.get("twin_group"))
        if extra is not None:
            name, term, value = extra
            losses[name] = term
            stats[f"{name}_penalty"] = value.detach()
        return losses, stats, batch_size

    def forward(
        self, speech: torch.Tensor, speech_lengths: torch.Tensor, **texts: torch.Tensor
    ) -> Tuple[torch.Tensor, Dict[str, Optional[torch.Tensor]], torch.Tensor]:
        """Return (weighted total loss, per-output stats, batch size) ready for gathering."""
        losses, stats, batch_size = self.task_losses(speech, speech_lengths, **texts)
        total = None
        for term in losses.values():
            total = term if total is None else total + term
        stats["loss"] = total.detach()
        return force_gatherable((total, stats, batch_size), total.device)

    def collect_feats(
        self, speech: torch.Tensor, speech_lengths: torch.Tensor, **kwargs
    ) -> Dict[str, torch.Tensor]:
        """The features for ``collect_stats``; ESPnet's requires a ``text`` argument, which this batch has not."""
        feats, feats_lengths = self._extract_feats(speech, speech_lengths)
        return {"feats": feats, "feats_lengths": feats_lengths}
