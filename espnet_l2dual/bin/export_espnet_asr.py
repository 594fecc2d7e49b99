"""Export one output of a dual model as a stock ESPnet ASR model (``espnet2.bin.asr_*``).

The shared encoder plus one output's CTC and decoder *is* an ordinary ESPnet hybrid
CTC/attention model; exporting it lets any ESPnet tool (``Speech2Text``, ``asr_align``,
``asr_inference``) use it, and gives the benchmark a stock decoder with identical weights.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

from espnet_l2dual.inference.espnet_export import export
from espnet_l2dual.outputs import OUTPUTS


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train_config", type=Path, required=True, help="exp/<tag>/config.yaml")
    p.add_argument("--model_file", type=Path, required=True, help="exp/<tag>/valid.loss.ave.pth")
    p.add_argument("--output", required=True, choices=OUTPUTS)
    p.add_argument("--out_dir", type=Path, required=True)
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    try:
        path = export(args.train_config, args.model_file, args.output, args.out_dir)
    except (ValueError, KeyError) as e:
        print(f"export_espnet_asr: {e}", file=sys.stderr)
        return 1
    print(f"export_espnet_asr: wrote {path} and {args.out_dir / 'model.pth'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
