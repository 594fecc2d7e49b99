"""The settings of l2dual.sh's ``--init_model_dir`` (espnet_l2dual.tasks.init_model), as name=value lines.

    init_model --dir exp/asr_mtl_tiny --inference_model valid.loss.ave.pth --outputs surface meaning
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from espnet_l2dual.tasks.init_model import InitModelError, init_settings


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="init_model", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", required=True, help="the exp dir of the model to start from")
    p.add_argument("--inference_model", default="valid.loss.ave.pth")
    p.add_argument("--outputs", nargs="+", required=True)
    a = p.parse_args(argv)
    try:
        settings = init_settings(a.dir, a.inference_model, a.outputs)
    except (InitModelError, OSError) as e:
        print(f"init_model: error: {e}", file=sys.stderr)
        return 1
    print("\n".join(f"{k}={v}" for k, v in settings.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
