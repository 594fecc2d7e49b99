"""Decode both outputs of a dual-output model (stage 8).

One encoder forward per utterance feeds one joint CTC/attention beam search per
output (ESPnet's ``BatchBeamSearch`` with ``CTCPrefixScorer`` and ``LengthBonus``),
so an MTL model costs one encoder pass instead of the two a pair of stock STL
decoders would pay (models with task-specific encoder blocks run only those
blocks once per output, via ``model.encode_all``).  A model with dual attention
between its decoders decodes both outputs in one joint beam search.  ``ctc_weight == 1.0`` skips the beam search and takes the
CTC best path, which is the fast mode for quick checks.

CLI::

    python -m espnet_l2dual.bin.l2dual_inference \\
        --data_path_and_name_and_type dump/raw/test/wav.scp,speech,sound \\
        --key_file split/keys.1.scp --train_config exp/x/config.yaml \\
        --model_file exp/x/valid.acc.ave.pth --output_dir exp/x/decode/test/output.1

writes ``<output_dir>/<output>/{text,token,score}`` (1-best, sorted, atomically).
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import time
from dataclasses import dataclass, fields, replace
from itertools import groupby
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import yaml

from espnet_l2dual.errors import DataError
from espnet_l2dual.models.dual_attention import strip_ids
from espnet_l2dual.text.normalize import jamo_to_hangul
from espnet_l2dual.utils import offline
from espnet_l2dual.utils.digest import entry_files
from espnet_l2dual.utils.fileio import PathLike, iter_table, read_table, write_table

offline.guard()

from espnet.nets.batch_beam_search import BatchBeamSearch  # noqa: E402
from espnet.nets.pytorch_backend.transformer.subsampling import TooShortUttError  # noqa: E402
from espnet.nets.scorers.ctc import CTCPrefixScorer  # noqa: E402
from espnet.nets.scorers.length_bonus import LengthBonus  # noqa: E402
from espnet2.text.build_tokenizer import build_tokenizer  # noqa: E402
from espnet2.text.token_id_converter import TokenIDConverter  # noqa: E402

OUTPUT_NAMES = ("surface", "meaning")
SPACE = "<space>"

Hyp = Tuple[str, List[str], float]
"""One hypothesis: ``(text, tokens, score)``."""

logger = logging.getLogger("l2dual_inference")


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


# ------------------------------------------------------------------ tokens -> text


def jamo_tokens_to_text(tokens: Sequence[str]) -> str:
    """Join conjoining-jamo tokens and recompose them into Hangul syllables (NFC)."""
    return jamo_to_hangul("".join(" " if t == SPACE else t for t in tokens)).strip()


def make_detokenizer(token_type: Optional[str], bpemodel: Optional[str]) -> Callable[[List[str]], str]:
    """Return ``tokens -> text`` for one output's token type (bpe | char | word | jamo)."""
    if token_type == "jamo":
        return jamo_tokens_to_text
    if token_type is None or token_type == "phn":  # phones: one token a unit, space-separated
        return lambda tokens: " ".join(t for t in tokens if t != SPACE)
    if token_type == "bpe":
        if not bpemodel or not Path(bpemodel).is_file():
            raise DataError(bpemodel or "<bpemodel>", None, "SentencePiece model of a bpe output not found")
        tokenizer = build_tokenizer(token_type="bpe", bpemodel=str(bpemodel))
    elif token_type in ("char", "word"):
        tokenizer = build_tokenizer(token_type=token_type)
    else:
        raise ValueError(f"unsupported token_type '{token_type}' (expected bpe, char, word, phn or jamo)")
    return lambda tokens: tokenizer.tokens2text(tokens).strip()


# ------------------------------------------------------------------ model loading


def _task_class():
    """The task that builds the model from its training config (a seam for tests)."""
    from espnet_l2dual.tasks.l2dual import L2DualTask

    return L2DualTask


def load_dual_model(train_config: PathLike, model_file: PathLike, device: str = "cpu"):
    """Build the model from ``config.yaml`` and load ``model_file``; errors name the bad file.

    The weights are loaded strictly (ESPnet's loader is lenient): a model file from another
    config fails here instead of decoding with random weights.
    """
    for path, what in ((train_config, "training config"), (model_file, "model file")):
        if not Path(path).is_file():
            raise DataError(path, None, f"{what} not found")
    try:
        with open(train_config, encoding="utf-8") as f:
            conf = yaml.safe_load(f)
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise DataError(train_config, None, f"training config is not valid YAML: {e}") from None
    if not isinstance(conf, dict):
        raise DataError(train_config, None, "training config is not a YAML mapping")
    try:
        model, args = _task_class().build_model_from_file(str(train_config), None, device)
    except (ValueError, KeyError, TypeError, OSError) as e:
        raise DataError(train_config, None, f"cannot build the model: {type(e).__name__}: {e}") from None
    try:
        state = torch.load(str(model_file), map_location=device, weights_only=True)
        if isinstance(state, dict) and "module" in state:  # deepspeed checkpoints
            state = state["module"]
        model.load_state_dict(state)
    except Exception as e:  # torch.load raises many types on a truncated or foreign file
        raise DataError(model_file, None, f"cannot load model (corrupt or not a model of this config): "
                        f"{type(e).__name__}: {e}") from None
    return model, args


# ------------------------------------------------------------------ decoding


def greedy_ctc(ctc: torch.nn.Module, enc: torch.Tensor, blank_id: int = 0) -> Tuple[List[int], float]:
    """CTC best path of one utterance ``enc: (T, D)``: argmax, collapse repeats, drop blank.

    The score is the log probability of that frame-level path.
    """
    logp = ctc.log_softmax(enc.unsqueeze(0))[0]
    best, ids = logp.max(dim=-1)
    token_ids = [int(i) for i, _ in groupby(ids.tolist()) if i != blank_id]
    return token_ids, float(best.sum())


class Speech2DualText:
    """Speech -> n-best ``(text, tokens, score)`` for every output of a dual (or STL) model.

    >>> s2t = Speech2DualText("exp/mtl/config.yaml", "exp/mtl/valid.acc.ave.pth")
    >>> s2t(samples)["meaning"][0][0]
    'I THINK SO'
    """

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
        """Decode with a model packed by ``pack_model`` (extracted once into a cache dir)."""
        from espnet_l2dual.bin.pack_model import unpack

        config, model_file = unpack(zip_path, cache_dir)
        return cls(config, model_file, **kw)

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
            if o not in OUTPUT_NAMES:
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
        if sorted(self.outputs) != sorted(OUTPUT_NAMES):
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

    @torch.no_grad()
    def __call__(self, speech: Union[np.ndarray, torch.Tensor]) -> Dict[str, List[Hyp]]:
        """Decode one utterance (1-D samples); no audio, silence or too-short audio gives empty text."""
        speech = torch.as_tensor(np.asarray(speech) if not isinstance(speech, torch.Tensor) else speech)
        speech = speech.to(torch.float32).reshape(-1)
        if self._is_silent(speech):
            return self._empty()
        batch = speech.unsqueeze(0).to(self.device)
        lengths = torch.tensor([batch.size(1)], dtype=torch.long, device=self.device)
        try:
            # one call: the shared encoder part runs once, task-specific blocks once per output
            encs = self.model.encode_all(batch, lengths)
        except TooShortUttError:
            return self._empty()
        frames = {}
        for o in self.outputs:
            enc, enc_lens = encs[o]
            if isinstance(enc, tuple):  # intermediate-CTC encoders return (out, intermediates)
                enc = enc[0]
            frames[o] = enc[0, : int(enc_lens[0])]
        if any(f.size(0) == 0 for f in frames.values()):
            return self._empty()
        if self.joint is not None:
            return self._decode_joint(frames)
        return {o: self._decode_output(o, frames[o]) for o in self.outputs}

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
                # <sos>/<eos> and blank are not text (a hyp cut at maxlen may carry two <eos>)
                drop = {self.blank_ids[o], self.model.sos[o], self.model.eos[o]}
                nbest.append(([i for i in hyp.yseq[1:].tolist() if i not in drop], float(hyp.score)))
        results = []
        for ids, score in nbest:
            tokens = self.converters[o].ids2tokens(ids)
            results.append((self.detokenizers[o](tokens), tokens, score))
        return results or [("", [], float("-inf"))]


# ------------------------------------------------------------------ CLI


def _read_keys(key_file: PathLike) -> List[str]:
    keys = []
    with open(key_file, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                keys.append(line.split(maxsplit=1)[0])
    return keys


class _Progress:
    """One log line every ``every_s`` seconds with count and real-time factor."""

    def __init__(self, total: int, every_s: float = 10.0) -> None:
        self.total, self.every_s, self.done = total, every_s, 0
        self.start = self.last = time.monotonic()
        self.audio_s = 0.0

    def step(self, audio_s: float) -> None:
        self.done += 1
        self.audio_s += audio_s
        now = time.monotonic()
        if now - self.last >= self.every_s or self.done == self.total:
            self.last = now
            rtf = (now - self.start) / self.audio_s if self.audio_s else float("nan")
            logger.info(f"decoded {self.done}/{self.total} utterances (RTF {rtf:.3f})")


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data_path_and_name_and_type", required=True, action="append",
                   help="scp,name,type (ESPnet style); the 'speech' entry of type sound or kaldi_ark is read")
    p.add_argument("--key_file", help="utterances to decode (first column); default: all of the scp")
    p.add_argument("--train_config", required=True)
    p.add_argument("--model_file", required=True)
    p.add_argument("--output_dir", required=True)
    p.add_argument("--ngpu", type=int, default=0)
    p.add_argument("--outputs", nargs="+", choices=OUTPUT_NAMES, help="default: every output of the model")
    p.add_argument("--fs", type=int, default=None, help="expected sampling rate (checked when given)")
    p.add_argument("--log_level", default="INFO")
    for name, typ, default in (("beam_size", int, 5), ("ctc_weight", float, 0.3), ("penalty", float, 0.0),
                               ("maxlenratio", float, 0.0), ("minlenratio", float, 0.0), ("nbest", int, 1)):
        p.add_argument(f"--{name}", type=typ, default=default)
        for o in OUTPUT_NAMES:
            p.add_argument(f"--{o}_{name}", type=typ, default=None, help=f"--{name} for the {o} output only")
    # Accepted for ESPnet command-line compatibility; decoding is one utterance at a time.
    p.add_argument("--batch_size", type=int, default=1, help=argparse.SUPPRESS)
    return p


def _speech_scp(triples: List[str]) -> str:
    for triple in triples:
        parts = triple.split(",")
        if len(parts) != 3:
            raise ValueError(f"--data_path_and_name_and_type expects path,name,type; got '{triple}'")
        if parts[1] == "speech":
            if parts[2] not in ("sound", "kaldi_ark"):
                raise ValueError(f"speech data type '{parts[2]}' is not supported (sound, kaldi_ark)")
            return parts[0]
    raise ValueError("no 'speech' entry in --data_path_and_name_and_type")


def decode_dir(s2t: Speech2DualText, scp: str, keys: Optional[List[str]], output_dir: PathLike,
               fs: Optional[int] = None) -> None:
    """Decode the utterances ``keys`` of ``scp`` and write ``output_dir/<output>/{text,token,score}``."""
    from espnet_l2dual.bin.format_wav_scp import read_audio, to_mono

    table = read_table(scp)
    line_of = {key: no for no, key, _ in iter_table(scp)}
    keys = list(table) if keys is None else keys
    missing = [k for k in keys if k not in table]
    if missing:
        raise DataError(scp, None, f"{len(missing)} key(s) of the key file are missing, e.g. '{missing[0]}'")
    for key in keys:  # every file before the first decode: a missing one fails in seconds, not hours
        for path in entry_files(table[key]):
            if not os.path.isfile(path):
                raise DataError(scp, line_of[key], f"'{key}': missing audio: '{path}' does not exist")
    rows: Dict[str, Dict[str, List[Tuple[str, str]]]] = {o: {"text": [], "token": [], "score": []}
                                                         for o in s2t.outputs}
    progress = _Progress(len(keys))
    for key in keys:
        try:
            data, rate = read_audio(table[key])
        except Exception as e:
            raise DataError(scp, line_of[key], f"'{key}': cannot read audio '{table[key]}' ({e})") from None
        if fs is not None and rate != fs:
            raise DataError(scp, line_of[key], f"'{key}': sampling rate {rate} != {fs}")
        result = s2t(to_mono(data))
        for o, hyps in result.items():
            text, tokens, score = hyps[0]
            rows[o]["text"].append((key, text))
            rows[o]["token"].append((key, " ".join(tokens)))
            rows[o]["score"].append((key, f"{score:.4f}" if math.isfinite(score) else str(score)))
        progress.step(len(data) / rate)
    for o, tables in rows.items():
        for name, items in tables.items():
            write_table(Path(output_dir) / o / name, items)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, stream=sys.stderr,
                        format="%(asctime)s (%(name)s) %(levelname)s: %(message)s")
    if logging.getLogger().level > logging.DEBUG:  # per-step beam search lines would bury the progress line
        logging.getLogger("espnet.nets").setLevel(max(logging.WARNING, logging.getLogger().level))
    overrides = {o: {name: getattr(args, f"{o}_{name}") for name in OVERRIDABLE
                     if getattr(args, f"{o}_{name}") is not None} for o in OUTPUT_NAMES}
    device = "cuda" if args.ngpu > 0 else "cpu"
    try:
        s2t = Speech2DualText(
            args.train_config, args.model_file, device=device, beam_size=args.beam_size,
            ctc_weight=args.ctc_weight, penalty=args.penalty, maxlenratio=args.maxlenratio,
            minlenratio=args.minlenratio, nbest=args.nbest, outputs=args.outputs,
            output_overrides={o: v for o, v in overrides.items() if v},
        )
        keys = _read_keys(args.key_file) if args.key_file else None
        decode_dir(s2t, _speech_scp(args.data_path_and_name_and_type), keys, args.output_dir, args.fs)
    except (DataError, ValueError) as e:
        logger.error(str(e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
