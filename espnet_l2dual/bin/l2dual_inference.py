"""Decode both outputs of a dual-output model (stage 8, one job; help: :mod:`espnet_l2dual.inference.decode_dir`)."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Optional, Sequence

from espnet_l2dual.compat.espnet1 import NETS_PACKAGE
from espnet_l2dual.errors import DataError
from espnet_l2dual.inference import decode_dir as decoding
from espnet_l2dual.inference.options import add_search_arguments, given_overrides
from espnet_l2dual.inference.speech2dualtext import Speech2DualText
from espnet_l2dual.outputs import OUTPUTS

logger = logging.getLogger("l2dual_inference")


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=decoding.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data_path_and_name_and_type", required=True, action="append",
                   help="scp,name,type (ESPnet style); the 'speech' entry of type sound or kaldi_ark is read")
    p.add_argument("--key_file", help="utterances to decode (first column); default: all of the scp")
    p.add_argument("--train_config", required=True)
    p.add_argument("--model_file", required=True)
    p.add_argument("--output_dir", required=True)
    p.add_argument("--ngpu", type=int, default=0)
    p.add_argument("--outputs", nargs="+", choices=OUTPUTS, help="default: every output of the model")
    p.add_argument("--fs", type=int, default=None, help="expected sampling rate (checked when given)")
    p.add_argument("--log_level", default="INFO")
    add_search_arguments(p, OUTPUTS)
    p.add_argument("--batch_size", type=int, default=1,
                   help="utterances per batched beam search, sorted by length (1: one at a time); "
                        "the n-best lists are those of the per-utterance search up to float ties")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, stream=sys.stderr,
                        format="%(asctime)s (%(name)s) %(levelname)s: %(message)s")
    if logging.getLogger().level > logging.DEBUG:  # per-step beam search lines would bury the progress line
        logging.getLogger(NETS_PACKAGE).setLevel(max(logging.WARNING, logging.getLogger().level))
    device = "cuda" if args.ngpu > 0 else "cpu"
    try:
        s2t = Speech2DualText(
            args.train_config, args.model_file, device=device, beam_size=args.beam_size,
            ctc_weight=args.ctc_weight, penalty=args.penalty, maxlenratio=args.maxlenratio,
            minlenratio=args.minlenratio, nbest=args.nbest, outputs=args.outputs,
            output_overrides=given_overrides(args, OUTPUTS),
        )
        keys = decoding.read_keys(args.key_file) if args.key_file else None
        if args.batch_size < 1:
            raise ValueError(f"--batch_size must be >= 1, got {args.batch_size}")
        decoding.decode_dir(s2t, decoding.speech_scp(args.data_path_and_name_and_type), keys, args.output_dir,
                            args.fs, batch_size=args.batch_size)
    except (DataError, ValueError) as e:
        logger.error(str(e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
