"""Stage 7 of l2dual.sh: the bookkeeping before and after the training call (espnet_l2dual.tasks.stage7).

    stage7 prepare --exp_dir exp/asr_mtl_tiny --config conf/tuning/train_mtl_tiny.yaml \\
        --stats_dir exp/stats_raw_char_char --data_feats dump/raw --train_set train --valid_set dev \\
        --speech_type sound --token surface=char:data/token_list/surface_char ... \\
        --token_setup data/token_list/setup.json --command "./l2dual.sh --lang en ..."
    stage7 finish --exp_dir exp/asr_mtl_tiny

``prepare`` exits 0 when the model is up to date, 10 when it is to be trained (the trainer's
data options on stdout, one word a line), anything else when it cannot (said in one line).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import List, Optional

from espnet_l2dual.errors import DataError
from espnet_l2dual.tasks import stage7


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="stage7", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("action", choices=("prepare", "finish"))
    p.add_argument("--exp_dir", required=True)
    for name in ("config", "stats_dir", "data_feats", "train_set", "valid_set", "speech_type", "token_setup"):
        p.add_argument(f"--{name}", default="")
    p.add_argument("--token", default=[], action="append", help="OUTPUT=TYPE:DIR (stage 5's token setup)")
    p.add_argument("--train_args", default="")
    p.add_argument("--ngpu", default="0")
    p.add_argument("--num_nodes", default="1")
    p.add_argument("--command", default="", help="the command line that trains the model (replayed by run.sh)")
    p.add_argument("--init_model", default="", help="the model file a post-training method starts from")
    p.add_argument("--seed", default="", help="the recipe's --seed (empty: the config's own seed trains)")
    args = p.parse_args(argv)
    try:
        if args.action == "finish":
            stage7.finish(args.exp_dir)
            return 0
        tokens = {o: spec.partition(":") for o, _, spec in (t.partition("=") for t in args.token)}
        s = stage7.Stage7(args.exp_dir, args.config, args.stats_dir, args.data_feats, args.train_set,
                          args.valid_set, args.speech_type, {o: d for o, (_, _, d) in tokens.items()},
                          {o: t for o, (t, _, _) in tokens.items()}, args.train_args, args.ngpu, args.num_nodes,
                          args.init_model)
        with contextlib.redirect_stdout(sys.stderr):  # stdout carries only the trainer's options
            status, words = stage7.prepare(s, args.token_setup, args.command, stage7.seed_option(args.seed))
    except (DataError, ValueError, OSError) as e:
        print(f"stage7: error: {e}", file=sys.stderr)
        return 1
    print("\n".join(words))
    return status


if __name__ == "__main__":
    sys.exit(main())
