"""Pack a trained model into one zip for sharing (stage 11).

The zip holds everything decoding needs and nothing tied to the recipe directory:

    config.yaml        the training config, file paths rewritten to in-zip paths
    model.pth          the weights
    files/...          files the config points to (bpe models, feature stats, token lists)
    token_list/<o>.txt each output's token list, one token a line (for people and other tools)
    extra/...          anything given with --extra
    decode.yaml        the search settings the model's RESULTS.md numbers were decoded with
    meta.yaml          version, date, the file map and which config keys were rewritten

``Speech2DualText.from_packed(zip)`` unpacks it and decodes exactly as the original
(the packing itself is ``espnet_l2dual.inference.packing``), and ``transcribe`` decodes with
the settings of decode.yaml unless an option is given.  They come from ``--results_json``
(stage 9's ``results.json``, which records stage 8's options per scored set); sets decoded
with different settings are refused, since no one setting reproduces their numbers.

    python -m espnet_l2dual.bin.pack_model --train_config exp/x/config.yaml \\
        --model_file exp/x/valid.acc.ave.pth --results_json exp/x/results.json --out exp/x/packed.zip
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

from espnet_l2dual.errors import DataError
from espnet_l2dual.inference import decode_settings
from espnet_l2dual.inference.packing import pack


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train_config", required=True)
    p.add_argument("--model_file", required=True)
    p.add_argument("--out", required=True, help="the zip to write, e.g. exp/<tag>/packed.zip")
    p.add_argument("--extra", nargs="*", default=[], help="more files to ship (RESULTS.md, README ...)")
    p.add_argument("--results_json", default=None, help="the scored results whose decode settings to pack "
                   "(default: results.json next to --model_file, if there is one)")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    results = Path(args.results_json) if args.results_json else Path(args.model_file).parent / "results.json"
    try:
        if args.results_json and not results.is_file():
            raise DataError(results, None, "scored results not found")
        settings = decode_settings.from_results(results, args.model_file) if results.is_file() else None
        out = pack(args.train_config, args.model_file, args.out, args.extra, settings)
    except DataError as e:
        print(f"pack_model: error: {e}", file=sys.stderr)
        return 1
    if settings is None:
        why = f"{results} records none" if results.is_file() else f"no {results}"
        print(f"pack_model: note: packed without decode settings ({why}): transcribe will use its defaults")
    else:
        print(f"pack_model: decode settings of {', '.join(settings['sets'])} (from {results}): "
              + decode_settings.summary(settings))
    print(f"pack_model: wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
