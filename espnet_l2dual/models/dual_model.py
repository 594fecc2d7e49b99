"""Dual-output hybrid CTC/attention model: one shared encoder, one CTC + decoder per output.

The study compares multi-task training (both outputs share the encoder) with
single-task training (one output).  Both are this one class: ``tasks`` names the
active outputs and only their branches exist, so an STL model has no unused
parameter (DDP-safe) and its checkpoint holds nothing of the other output.

Disentangling methods are options of the same class (all off = plain MTL/STL):
``shared_layers`` (partial sharing: task-specific copies of the top encoder
blocks), ``task_experts`` (task-routed feed-forward experts in chosen encoder
blocks) and ``ortho_weight``/``ortho_dim`` (a projection per output plus a
penalty on what the projections share) and ``dual_attention`` (each decoder
also attends to the other decoder).  ``encode_all`` gives every output its
own encoder output and computes the shared part once.
"""

from __future__ import annotations

from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import torch

from espnet_l2dual.utils import offline

offline.guard()

from espnet2.asr.ctc import CTC  # noqa: E402
from espnet2.asr.decoder.abs_decoder import AbsDecoder  # noqa: E402
from espnet2.asr.encoder.abs_encoder import AbsEncoder  # noqa: E402
from espnet2.asr.frontend.abs_frontend import AbsFrontend  # noqa: E402
from espnet2.asr.postencoder.abs_postencoder import AbsPostEncoder  # noqa: E402
from espnet2.asr.preencoder.abs_preencoder import AbsPreEncoder  # noqa: E402
from espnet2.asr.specaug.abs_specaug import AbsSpecAug  # noqa: E402
from espnet2.layers.abs_normalize import AbsNormalize  # noqa: E402
from espnet2.torch_utils.device_funcs import force_gatherable  # noqa: E402
from espnet2.train.abs_espnet_model import AbsESPnetModel  # noqa: E402
from espnet.nets.e2e_asr_common import ErrorCalculator  # noqa: E402
from espnet.nets.pytorch_backend.nets_utils import th_accuracy  # noqa: E402
from espnet.nets.pytorch_backend.transformer.add_sos_eos import add_sos_eos  # noqa: E402
from espnet.nets.pytorch_backend.transformer.label_smoothing_loss import (  # noqa: E402
    LabelSmoothingLoss,
)

from espnet_l2dual.models import task_encoder  # noqa: E402
from espnet_l2dual.models.dual_attention import PAIR as DUAL_PAIR  # noqa: E402
from espnet_l2dual.models.dual_attention import DualAttention, pad_to  # noqa: E402
from espnet_l2dual.models.ortho import PENALTIES, subspace_penalty, valid_frames  # noqa: E402
from espnet_l2dual.outputs import OUTPUTS, check_tasks  # noqa: E402,F401  (re-exported)



def _special_id(token_list: Sequence[str], symbol: str, fallback: int) -> int:
    return token_list.index(symbol) if symbol in token_list else fallback


class ESPnetL2DualModel(AbsESPnetModel):
    """Shared encoder with a hybrid CTC/attention branch per active output.

    Loss = sum_o w_o * ((1 - ctc_weight) * att_o + ctc_weight * ctc_o).
    As in ESPnet's ASR model, ``ctc_weight == 1`` builds no decoders and
    ``ctc_weight == 0`` keeps no CTC, so ``ctcs`` / ``decoders`` then are empty.

    Methods (``model_conf``; defaults switch them off):

    - ``shared_layers: K`` -- the bottom K encoder blocks are shared, blocks K.. move
      to ``encoder_branches[o]`` (one identical copy per output); ``encoder.encoders``
      keeps the K shared blocks; the subsampling stem and ``encoder.after_norm`` stay
      shared.  K = number of blocks (or unset) is plain MTL.
    - ``task_experts: {encoder_blocks: [i, ...]}`` -- in those blocks every
      feed-forward module becomes ``TaskRoutedFeedForward`` (``.experts[o]``).
      ``decoder`` must stay false: our decoders are already separate per output.
    - ``ortho_weight: w``, ``ortho_dim: d``, ``ortho_penalty: cka|xcov`` -- a
      linear projection ``task_projections[o]`` (encoder size -> d, d defaults to
      the encoder size) feeds output o's CTC and decoder, and w * penalty(proj_s,
      proj_m) over valid frames is added to the loss (stat ``ortho_penalty``).
    - ``dual_attention: true`` (``dual_attention_heads``, ``dual_attention_dropout``) --
      each decoder layer also attends to the other decoder's states of the same layer
      (``dual_attn``, parallel dual decoder); decoding then is one joint beam search.
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
        shared_layers: Optional[int] = None,
        task_experts: Optional[Dict] = None,
        ortho_weight: float = 0.0,
        ortho_dim: Optional[int] = None,
        ortho_penalty: str = "cka",
        dual_attention: bool = False,
        dual_attention_heads: int = 4,
        dual_attention_dropout: float = 0.1,
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
        self._setup_task_encoder(shared_layers, task_experts)
        self._setup_projections(ortho_weight, ortho_dim, ortho_penalty)
        self._setup_dual_attention(dual_attention, dual_attention_heads, dual_attention_dropout)

    # ------------------------------------------------------------------ methods
    def _setup_task_encoder(self, shared_layers: Optional[int], task_experts: Optional[Dict]) -> None:
        """Partial sharing / task-routed experts; ``task_split`` is the first task-specific block."""
        self.task_split: Optional[int] = None
        self.shared_layers = shared_layers
        self.expert_blocks: List[int] = []
        self._routers: List[task_encoder.TaskRoutedFeedForward] = []
        if shared_layers is not None and task_experts:
            raise ValueError("model_conf: use shared_layers or task_experts, not both")
        if shared_layers is not None:
            n = task_encoder.check_splittable(self.encoder, "shared_layers")
            k = int(shared_layers)
            if not 0 <= k <= n:
                raise ValueError(f"model_conf.shared_layers must be in 0..{n} (encoder blocks), got {shared_layers}")
            if k < n:
                self.encoder_branches = task_encoder.make_branches(self.encoder, k, self.tasks)
                self.task_split = k
        elif task_experts:
            n = task_encoder.check_splittable(self.encoder, "task_experts")
            self.expert_blocks = task_encoder.check_expert_conf(task_experts, n)
            self._routers = task_encoder.add_experts(self.encoder, self.expert_blocks, self.tasks)
            self.task_split = self.expert_blocks[0]

    def _setup_projections(self, ortho_weight: float, ortho_dim: Optional[int], ortho_penalty: str) -> None:
        self.ortho_weight = float(ortho_weight)
        self.ortho_penalty = ortho_penalty
        if ortho_penalty not in PENALTIES:
            raise ValueError(f"model_conf.ortho_penalty: unknown '{ortho_penalty}' (expected {', '.join(PENALTIES)})")
        if self.ortho_weight < 0.0:
            raise ValueError(f"model_conf.ortho_weight must be >= 0, got {ortho_weight}")
        if self.ortho_weight > 0.0 and len(self.tasks) < 2:
            raise ValueError("model_conf.ortho_weight > 0 needs two outputs in model_conf.tasks")
        self.ortho_dim = None
        if self.ortho_weight > 0.0 or ortho_dim is not None:
            enc_size = (self.postencoder or self.encoder).output_size()
            self.ortho_dim = int(ortho_dim or enc_size)
            self.task_projections = torch.nn.ModuleDict(
                {o: torch.nn.Linear(enc_size, self.ortho_dim) for o in self.tasks}
            )

    def _setup_dual_attention(self, on: bool, heads: int, dropout: float) -> None:
        self.dual_attn: Optional[DualAttention] = None
        if not on:
            return
        if self.tasks != list(DUAL_PAIR):
            raise ValueError(f"model_conf.dual_attention needs both outputs in model_conf.tasks, got {self.tasks}")
        if self.ctc_weight >= 1.0:
            raise ValueError("model_conf.dual_attention needs attention decoders (ctc_weight < 1)")
        self.dual_attn = DualAttention(self.decoders, heads, dropout)

    def sync_task_copies(self) -> None:
        """Make the per-output copies identical again (call after a global re-initialisation)."""
        if self.task_split is None:
            return
        if self._routers:
            task_encoder.sync_copies(r.experts for r in self._routers)
        else:
            task_encoder.sync_copies([self.encoder_branches])

    def task_encoder_blocks(self, output: str) -> List[torch.nn.Module]:
        """The encoder blocks output ``output`` runs through, bottom to top (for analysis hooks).

        For expert models the blocks are shared modules that run once per output; a
        hook on them fires once per output, in ``tasks`` order.
        """
        if output not in self.tasks:
            raise ValueError(f"'{output}' is not in model_conf.tasks {self.tasks}")
        if self.task_split is None or self._routers:
            return list(self.encoder.encoders)
        return list(self.encoder.encoders) + list(self.encoder_branches[output])

    def is_shared_parameter(self, name: str) -> bool:
        """True for parameters every output's loss reaches (frontend and shared encoder)."""
        if name.startswith(("frontend.", "normalize.", "preencoder.", "postencoder.")):
            return True
        return name.startswith("encoder.") and ".experts." not in name

    # ------------------------------------------------------------------ encoder
    def _extract_feats(
        self, speech: torch.Tensor, speech_lengths: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        speech = speech[:, : speech_lengths.max()]  # trim padding (data-parallel splits)
        if self.frontend is None:
            return speech, speech_lengths
        return self.frontend(speech, speech_lengths)

    def _encoder_input(
        self, speech: torch.Tensor, speech_lengths: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
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
        """Frontend -> specaug (training only) -> normalize -> pre/encoder/post; shared by outputs.

        This is the shared encoder output, before any task projection
        (``ortho_*``).  A model with task-specific encoder blocks (``shared_layers``
        below the block count, ``task_experts``) has no single encoder output:
        it raises; use ``encode_all``.
        """
        if self.task_split is not None:
            raise ValueError(
                "this model has task-specific encoder blocks (model_conf.shared_layers / task_experts): "
                "there is one encoder output per task, use encode_all()"
            )
        feats, lens = self._encoder_input(speech, speech_lengths)
        out, out_lens, _ = self.encoder(feats, lens)
        if isinstance(out, tuple):  # encoders with intermediate CTC outputs
            out = out[0]
        if self.postencoder is not None:
            out, out_lens = self.postencoder(out, out_lens)
        return out, out_lens

    def encode_all(
        self, speech: torch.Tensor, speech_lengths: torch.Tensor
    ) -> Dict[str, Tuple[torch.Tensor, torch.Tensor]]:
        """One (encoder output, lengths) per task, the input each task's CTC and decoder read.

        The part below the first task-specific block runs once; a plain model gives
        every task the same tensor.  Task projections (``ortho_*``) are applied.
        """
        if self.task_split is None:
            shared = self.encode(speech, speech_lengths)
            outs = {o: shared for o in self.tasks}
        else:
            outs = self._encode_branched(speech, speech_lengths)
        if self.ortho_dim is not None:
            outs = {o: (self.task_projections[o](enc), lens) for o, (enc, lens) in outs.items()}
        return outs

    def _encode_branched(self, speech: torch.Tensor, speech_lengths: torch.Tensor):
        feats, lens = self._encoder_input(speech, speech_lengths)
        x, masks = task_encoder.embed(self.encoder, feats, lens)
        blocks = self.encoder.encoders
        x, masks = task_encoder.run_blocks(blocks[: self.task_split], x, masks)
        outs = {}
        for o in self.tasks:
            if self._routers:
                for router in self._routers:
                    router.task = o
                try:
                    y, m = task_encoder.run_blocks(blocks[self.task_split:], x, masks)
                finally:
                    for router in self._routers:
                        router.task = None
            else:
                y, m = task_encoder.run_blocks(self.encoder_branches[o], x, masks)
            out, out_lens = task_encoder.finish(self.encoder, y, m)
            if self.postencoder is not None:
                out, out_lens = self.postencoder(out, out_lens)
            outs[o] = (out, out_lens)
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

    def _att_dual(self, encs, targets) -> Dict[str, Tuple[torch.Tensor, float, Optional[float], Optional[float]]]:
        """Both attention branches at once, each decoder also reading the other (dual attention).

        Inputs are padded with ``<eos>`` to one length, the padded targets are ignored.
        """
        io = {o: add_sos_eos(targets[o][0], self.sos[o], self.eos[o], self.ignore_id) for o in self.tasks}
        length = max(ys_in.size(1) for ys_in, _ in io.values())
        ys_in = {o: pad_to(io[o][0], length, self.eos[o]) for o in self.tasks}
        logits = self.dual_attn(self.decoders, encs, ys_in)
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

    def _targets(self, o: str, kwargs: Dict[str, torch.Tensor], batch_size: int):
        ys, ys_lens = kwargs.get(f"text_{o}"), kwargs.get(f"text_{o}_lengths")
        if ys is None or ys_lens is None:
            raise ValueError(
                f"model_conf.tasks contains '{o}' but the batch has no 'text_{o}': "
                f"pass text_{o} in --train_data_path_and_name_and_type / --valid_data_path_and_name_and_type"
            )
        if ys.shape[0] != batch_size or ys_lens.shape[0] != batch_size:
            raise ValueError(f"text_{o} batch size {ys.shape[0]} != speech batch size {batch_size}")
        ys = ys[:, : ys_lens.max()].clone()
        ys[ys == -1] = self.ignore_id
        return ys, ys_lens

    def task_losses(
        self,
        speech: torch.Tensor,
        speech_lengths: torch.Tensor,
        text_surface: Optional[torch.Tensor] = None,
        text_surface_lengths: Optional[torch.Tensor] = None,
        text_meaning: Optional[torch.Tensor] = None,
        text_meaning_lengths: Optional[torch.Tensor] = None,
        **kwargs,
    ) -> Tuple[Dict[str, torch.Tensor], Dict[str, Optional[torch.Tensor]], int]:
        """The loss terms (not gathered): ``{o: w_o * loss_o}`` per task, plus ``ortho``
        when that penalty is on; their sum in this order is the training loss.

        Gradient surgery needs the per-task terms separately; ``forward`` sums them.
        """
        batch_size = speech.shape[0]
        texts = {
            "text_surface": text_surface,
            "text_surface_lengths": text_surface_lengths,
            "text_meaning": text_meaning,
            "text_meaning_lengths": text_meaning_lengths,
        }
        targets = {o: self._targets(o, texts, batch_size) for o in self.tasks}

        encs = self.encode_all(speech, speech_lengths)
        dual_att = self._att_dual(encs, targets) if self.dual_attn is not None else {}
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
        if self.ortho_weight > 0.0:
            (a, a_lens), (b, b_lens) = (encs[o] for o in self.tasks[:2])
            penalty = subspace_penalty(self.ortho_penalty, valid_frames(a, a_lens), valid_frames(b, b_lens))
            losses["ortho"] = self.ortho_weight * penalty
            stats["ortho_penalty"] = penalty.detach()
        return losses, stats, batch_size

    def forward(
        self,
        speech: torch.Tensor,
        speech_lengths: torch.Tensor,
        text_surface: Optional[torch.Tensor] = None,
        text_surface_lengths: Optional[torch.Tensor] = None,
        text_meaning: Optional[torch.Tensor] = None,
        text_meaning_lengths: Optional[torch.Tensor] = None,
        **kwargs,
    ) -> Tuple[torch.Tensor, Dict[str, Optional[torch.Tensor]], torch.Tensor]:
        """Return (weighted total loss, per-output stats, batch size) ready for gathering."""
        losses, stats, batch_size = self.task_losses(
            speech, speech_lengths, text_surface, text_surface_lengths, text_meaning, text_meaning_lengths
        )
        total = None
        for term in losses.values():
            total = term if total is None else total + term
        stats["loss"] = total.detach()
        return force_gatherable((total, stats, batch_size), total.device)

    def collect_feats(
        self, speech: torch.Tensor, speech_lengths: torch.Tensor, **kwargs
    ) -> Dict[str, torch.Tensor]:
        feats, feats_lengths = self._extract_feats(speech, speech_lengths)
        return {"feats": feats, "feats_lengths": feats_lengths}
