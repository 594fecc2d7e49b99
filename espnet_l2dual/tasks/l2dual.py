"""ESPnet task for dual-output (surface + meaning) ASR.

It only wires names to classes: ESPnet ASRTask's component choices (frontend,
encoder, decoders ...) and options (cleaner, g2p, token types, augmentation) are
read from the installed release (tasks/asr_options.py), and a second decoder
choice is added so a YAML config can pick ``surface_decoder`` and
``meaning_decoder`` independently.
Everything ESPnet's CLI gives (config files, resume, collect_stats,
multi-GPU) comes from ``AbsTask``.
"""

from __future__ import annotations

import argparse
import inspect
import logging
from typing import Callable, Collection, Dict, List, Optional, Tuple

import numpy as np
import torch

from espnet2.asr.ctc import CTC
from espnet2.tasks.abs_task import AbsTask
from espnet2.torch_utils.initialize import initialize
from espnet2.train.abs_espnet_model import AbsESPnetModel
from espnet2.train.class_choices import ClassChoices
from espnet2.train.collate_fn import CommonCollateFn
from espnet2.train.preprocessor import MutliTokenizerCommonPreprocessor
from espnet2.iterators.sequence_iter_factory import RawSampler
from espnet2.utils.types import str_or_none

from espnet_l2dual.data.twin_batches import TwinCollateFn, keep_twins_together, read_twin_groups
from espnet_l2dual.frontends.ssl import SSLFrontend
from espnet_l2dual.methods.abs_decoder_coupling import AbsDecoderCoupling
from espnet_l2dual.methods.abs_encoder_sharing import AbsEncoderSharing
from espnet_l2dual.methods.abs_grad_surgery import AbsGradSurgery
from espnet_l2dual.methods.abs_task_projection import AbsTaskProjection
from espnet_l2dual.methods.cagrad import CAGrad
from espnet_l2dual.methods.dual_attention import DualAttention
from espnet_l2dual.methods.ortho_projection import OrthoProjection
from espnet_l2dual.methods.partial_sharing import PartialSharing
from espnet_l2dual.methods.pcgrad import PCGrad
from espnet_l2dual.methods.task_experts import TaskExperts
from espnet_l2dual.methods.twin_subspace import TwinSubspaceProjection
from espnet_l2dual.models.dual_model import ESPnetL2DualModel
from espnet_l2dual.outputs import OUTPUTS, PAIR, check_tasks, data_key, option
from espnet_l2dual.tasks.asr_options import AsrOptions, asr_choices
from espnet_l2dual.train.trainer import L2DualTrainer
from espnet_l2dual.utils.choices import build_choice

# ESPnet ASRTask's component choices, as the installed release defines them
specaug_choices = asr_choices("specaug")
normalize_choices = asr_choices("normalize")
preencoder_choices = asr_choices("preencoder")
encoder_choices = asr_choices("encoder")
postencoder_choices = asr_choices("postencoder")
_asr_frontends = asr_choices("frontend")
_asr_decoders = asr_choices("decoder")

# ESPnet's front ends plus ``ssl`` (a local transformers SSL model, layer-weighted; frontends/ssl.py)
frontend_choices = ClassChoices(
    name="frontend",
    classes={**_asr_frontends.classes, "ssl": SSLFrontend},
    type_check=_asr_frontends.base_type,
    default=_asr_frontends.default,
)

JAMO_G2P = ("korean_jaso", "korean_jaso_no_space")
# ESPnet token types whose tokens decoding turns back into text (inference/detokenize.py)
DETOKENIZABLE = ("bpe", "char", "word", "phn")

model_choices = ClassChoices(
    "model",
    classes=dict(l2dual=ESPnetL2DualModel),
    type_check=AbsESPnetModel,
    default="l2dual",
)
# one decoder choice per output: --surface_decoder, --meaning_decoder (ESPnet's decoder classes)
DECODER_CHOICES = {
    o: ClassChoices(name=option(o, "decoder"), classes=_asr_decoders.classes, type_check=_asr_decoders.base_type,
                    default="transformer", optional=True)
    for o in OUTPUTS
}
# the disentangling methods (espnet_l2dual/methods): none by default = plain MTL/STL


def method_choice(name: str, base: type, **classes: type) -> ClassChoices:
    """An optional method choice: ``--<name> none`` (the default) leaves plain MTL/STL."""
    return ClassChoices(name, classes=classes, type_check=base, default=None, optional=True)


encoder_sharing_choices = method_choice("encoder_sharing", AbsEncoderSharing, partial=PartialSharing,
                                        experts=TaskExperts)
task_projection_choices = method_choice("task_projection", AbsTaskProjection, ortho=OrthoProjection,
                                        twin_subspace=TwinSubspaceProjection)
decoder_coupling_choices = method_choice("decoder_coupling", AbsDecoderCoupling, dual_attention=DualAttention)
# --grad_surgery / --grad_surgery_conf: handed to the trainer, which adds these options among the training
# options (L2DualTrainer.add_arguments) and applies the surgery (train/grad_surgery.py)
grad_surgery_choices = method_choice("grad_surgery", AbsGradSurgery, pcgrad=PCGrad, cagrad=CAGrad)
L2DualTrainer.grad_surgery_choices = grad_surgery_choices
build_surgery = L2DualTrainer.build_surgery


# model_conf keys of the methods before they became components: where they went
MOVED_MODEL_CONF = {
    "shared_layers": "encoder_sharing: partial + encoder_sharing_conf: {shared_layers: K}",
    "task_experts": "encoder_sharing: experts + encoder_sharing_conf: {encoder_blocks: [...]}",
    "ortho_weight": "task_projection: ortho + task_projection_conf: {penalty_weight: w}",
    "ortho_dim": "task_projection: ortho + task_projection_conf: {output_size: d}",
    "ortho_penalty": "task_projection: ortho + task_projection_conf: {penalty: cka|xcov}",
    "dual_attention": "decoder_coupling: dual_attention",
    "dual_attention_heads": "decoder_coupling_conf: {attention_heads: n}",
    "dual_attention_dropout": "decoder_coupling_conf: {dropout_rate: p}",
}


def active_tasks(args: argparse.Namespace) -> List[str]:
    """The outputs named by ``model_conf.tasks`` (both when unset), validated."""
    conf = getattr(args, "model_conf", None) or {}
    return check_tasks(conf.get("tasks", PAIR))


def token_types(asr: AsrOptions) -> List[str]:
    """ESPnet's token types that decoding turns back into text, plus ``jamo`` (Korean jaso)."""
    return [t for t in asr.choices("token_type") if t in DETOKENIZABLE] + ["jamo"]


def tokenizer_spec(args: argparse.Namespace, output: str) -> Tuple[str, Optional[str]]:
    """Map the user-facing token type to ESPnet's (token_type, g2p_type).

    ``jamo`` is ESPnet's phoneme tokenizer with the Korean jaso g2p; users name it
    ``jamo`` because that is what the units are.
    """
    token_type = getattr(args, f"{output}_token_type")
    g2p = getattr(args, f"{output}_g2p")
    if token_type == "jamo":
        if g2p is not None and g2p not in JAMO_G2P:
            raise ValueError(
                f"--{output}_g2p {g2p} conflicts with --{output}_token_type jamo "
                f"(use one of {', '.join(JAMO_G2P)} or leave it unset)"
            )
        return "phn", g2p or "korean_jaso"
    return token_type, g2p


def load_token_list(args: argparse.Namespace, output: str) -> List[str]:
    """Read ``--<output>_token_list`` and store it back as a list (keeps config.yaml portable)."""
    key = f"{output}_token_list"
    value = getattr(args, key)
    if value is None:
        raise ValueError(f"--{key} is required because model_conf.tasks contains '{output}'")
    if isinstance(value, str):
        try:
            with open(value, encoding="utf-8") as f:
                tokens = [line.rstrip("\r\n") for line in f]
        except OSError as e:
            raise ValueError(f"--{key}: cannot read {value}: {e.strerror}") from None
    elif isinstance(value, (list, tuple)):
        tokens = list(value)
    else:
        raise ValueError(f"--{key} must be a file path or a list, got {type(value).__name__}")
    if len(tokens) < 3:
        raise ValueError(f"--{key}: a token list needs <blank>, tokens and <sos/eos>; got {len(tokens)} entries")
    setattr(args, key, tokens)
    return tokens


def _build_optional(choices: ClassChoices, args: argparse.Namespace, **extra):
    """The chosen component built with ``extra`` + ``--<name>_conf``, or None; unknown conf keys named."""
    return build_choice(choices, getattr(args, choices.name, None), getattr(args, f"{choices.name}_conf", None),
                        **extra)


class L2DualTask(AbsTask):
    """Shared encoder, one hybrid CTC/attention branch per output in ``model_conf.tasks``."""

    num_optimizers: int = 1

    class_choices_list = [
        frontend_choices,  # --frontend, --frontend_conf
        specaug_choices,
        normalize_choices,
        model_choices,
        preencoder_choices,
        encoder_choices,
        postencoder_choices,
        *DECODER_CHOICES.values(),
        encoder_sharing_choices,
        task_projection_choices,
        decoder_coupling_choices,
    ]

    trainer = L2DualTrainer

    @classmethod
    def add_task_arguments(cls, parser: argparse.ArgumentParser) -> None:
        # ESPnet ASRTask's options where they mean the same here; per-output copies of its
        # token options (--surface_token_type ...)
        asr = AsrOptions()
        group = parser.add_argument_group(description="Task related")
        for o in OUTPUTS:
            asr.add(group, "token_list", rename=option(o, "token_list"),
                    help=f"Token list of the {o} output (required when model_conf.tasks contains {o})")
        for dest in ("init", "input_size", "ctc_conf"):
            asr.add(group, dest)
        group.add_argument("--twin_map", type=str_or_none, default=None,
                           help="utt2twin of the training set (e.g. the mini corpus's train_twins): training "
                                "batches keep each twin group together and carry twin_group ids "
                                "(for task_projection: twin_subspace)")

        group = parser.add_argument_group(description="Preprocess related")
        asr.add(group, "use_preprocessor")
        for o in OUTPUTS:
            asr.add(group, "token_type", rename=f"{o}_token_type", default="char", choices=token_types(asr),
                    help=f"Token unit of the {o} output (jamo = Korean jaso via ESPnet's phn tokenizer)")
            asr.add(group, "bpemodel", rename=f"{o}_bpemodel", help=f"SentencePiece model of the {o} output")
            asr.add(group, "g2p", rename=f"{o}_g2p", help=f"g2p of the {o} output when its token type is phn/jamo")
        for dest in ("non_linguistic_symbols", "cleaner", "speech_volume_normalize", "rir_scp", "rir_apply_prob",
                     "noise_scp", "noise_apply_prob", "noise_db_range", "short_noise_thres"):
            asr.add(group, dest)

        for class_choices in cls.class_choices_list:
            class_choices.add_arguments(group)  # --<name> and --<name>_conf

    @classmethod
    def build_collate_fn(cls, args: argparse.Namespace, train: bool) -> Callable[
        [Collection[Tuple[str, Dict[str, np.ndarray]]]], Tuple[List[str], Dict[str, torch.Tensor]]
    ]:
        # int pad -1: id 0 is the CTC blank
        if train and getattr(args, "twin_map", None):  # training only: inference never reads the map
            return TwinCollateFn(read_twin_groups(args.twin_map), float_pad_value=0.0, int_pad_value=-1)
        return CommonCollateFn(float_pad_value=0.0, int_pad_value=-1)

    @classmethod
    def build_sequence_iter_factory(cls, args: argparse.Namespace, iter_options, mode: str):
        """ESPnet's iterator; with ``--twin_map`` the training batches keep twin groups together."""
        factory = super().build_sequence_iter_factory(args, iter_options, mode)
        if getattr(args, "twin_map", None) and iter_options.train:
            if iter_options.distributed:
                logging.warning("--twin_map: batches are sharded per process; twins pair only where they fall "
                                "into one shard")
            else:
                factory.sampler = RawSampler(keep_twins_together(factory.sampler.generate(0),
                                                                 read_twin_groups(args.twin_map)))
        return factory

    @classmethod
    def build_preprocess_fn(
        cls, args: argparse.Namespace, train: bool
    ) -> Optional[Callable[[str, Dict[str, np.ndarray]], Dict[str, np.ndarray]]]:
        if not args.use_preprocessor:
            return None
        tasks = active_tasks(args)
        specs = [tokenizer_spec(args, o) for o in tasks]
        return MutliTokenizerCommonPreprocessor(
            train=train,
            token_type=[t for t, _ in specs],
            token_list=[getattr(args, f"{o}_token_list") for o in tasks],
            bpemodel=[getattr(args, f"{o}_bpemodel") for o in tasks],
            g2p_type=[g for _, g in specs],
            text_name=[data_key(o) for o in tasks],
            non_linguistic_symbols=args.non_linguistic_symbols,
            text_cleaner=args.cleaner,
            rir_scp=getattr(args, "rir_scp", None),
            rir_apply_prob=getattr(args, "rir_apply_prob", 1.0),
            noise_scp=getattr(args, "noise_scp", None),
            noise_apply_prob=getattr(args, "noise_apply_prob", 1.0),
            noise_db_range=getattr(args, "noise_db_range", "13_15"),
            short_noise_thres=getattr(args, "short_noise_thres", 0.5),
            speech_volume_normalize=getattr(args, "speech_volume_normalize", None),
        )

    @classmethod
    def required_data_names(cls, train: bool = True, inference: bool = False) -> Tuple[str, ...]:
        # Texts are optional so an STL run reads only its own output's text.
        return ("speech",)

    @classmethod
    def optional_data_names(cls, train: bool = True, inference: bool = False) -> Tuple[str, ...]:
        return tuple(data_key(o) for o in OUTPUTS)

    @classmethod
    def build_model(cls, args: argparse.Namespace) -> ESPnetL2DualModel:
        tasks = active_tasks(args)
        token_lists = {o: load_token_list(args, o) for o in tasks}
        for o in tasks:
            tokenizer_spec(args, o)  # a bad token type / g2p pair fails now, not in the loader
            logging.info(f"Vocabulary size of {o}: {len(token_lists[o])}")

        if args.input_size is None:
            frontend = frontend_choices.get_class(args.frontend)(**args.frontend_conf)
            input_size = frontend.output_size()
        else:
            args.frontend, args.frontend_conf = None, {}
            frontend, input_size = None, args.input_size

        specaug = _build_optional(specaug_choices, args)
        normalize = _build_optional(normalize_choices, args)
        preencoder = _build_optional(preencoder_choices, args)
        if preencoder is not None:
            input_size = preencoder.output_size()
        if getattr(args, "encoder", None) is None:
            raise ValueError("--encoder is required (e.g. encoder: conformer)")
        encoder = encoder_choices.get_class(args.encoder)(input_size=input_size, **args.encoder_conf)
        enc_size = encoder.output_size()
        postencoder = _build_optional(postencoder_choices, args, input_size=enc_size)
        if postencoder is not None:
            enc_size = postencoder.output_size()

        model_conf = dict(args.model_conf)
        for key, where in MOVED_MODEL_CONF.items():
            if key in model_conf:
                raise ValueError(f"model_conf.{key} is no longer a model option: use {where}")
        ctc_weight = float(model_conf.get("ctc_weight", 0.3))
        # methods: the encoder's restructuring first, then the projection whose size the heads read
        encoder_sharing = _build_optional(encoder_sharing_choices, args, encoder=encoder, tasks=tasks)
        task_projection = _build_optional(task_projection_choices, args, input_size=enc_size, tasks=tasks)
        if task_projection is not None:
            enc_size = task_projection.output_size()
        ctcs, decoders = {}, {}
        for o in tasks:
            vocab = len(token_lists[o])
            if ctc_weight > 0.0:
                ctcs[o] = CTC(odim=vocab, encoder_output_size=enc_size, **args.ctc_conf)
            if ctc_weight < 1.0:
                choices = DECODER_CHOICES[o]
                if getattr(args, choices.name) is None:
                    raise ValueError(
                        f"--{choices.name} is required because model_conf.tasks contains '{o}' "
                        f"and ctc_weight < 1"
                    )
                decoders[o] = choices.get_class(getattr(args, choices.name))(
                    vocab_size=vocab, encoder_output_size=enc_size, **getattr(args, f"{choices.name}_conf")
                )
        decoder_coupling = _build_optional(decoder_coupling_choices, args, decoders=decoders, tasks=tasks)

        model_conf["tasks"] = tasks
        model_class = model_choices.get_class(getattr(args, "model", "l2dual") or "l2dual")
        known = inspect.signature(model_class.__init__).parameters
        for key in model_conf:
            if key not in known or key in ("token_lists", "ctcs", "decoders", "encoder_sharing",
                                           "task_projection", "decoder_coupling"):
                raise ValueError(f"model_conf: unknown key '{key}' for model {args.model}")
        model = model_class(
            token_lists=token_lists,
            frontend=frontend,
            specaug=specaug,
            normalize=normalize,
            preencoder=preencoder,
            encoder=encoder,
            postencoder=postencoder,
            ctcs=ctcs,
            decoders=decoders,
            encoder_sharing=encoder_sharing,
            task_projection=task_projection,
            decoder_coupling=decoder_coupling,
            **model_conf,
        )
        if args.init is not None:
            initialize(model, args.init)
            model.sync_task_copies()  # per-task encoder copies start identical
        return model

