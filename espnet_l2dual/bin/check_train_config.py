"""Pre-flight check of a training command, before any launcher starts (stage 7).

    python -m espnet_l2dual.bin.check_train_config --config conf/x.yaml [the l2dual_train options]

Takes exactly the options stage 7 passes to ``espnet_l2dual.bin.l2dual_train`` and, in
seconds instead of after the launcher's 20-40 s, prints one line per problem: broken YAML
(with its line), unknown or mistyped options (ESPnet's own parser), bad ``model_conf.tasks``,
files the command names that do not exist (token lists, BPE models, stats, shape files,
data), and what building the model on the CPU rejects (unknown component names, unknown or
mistyped ``*_conf`` keys). Exit 0 when nothing is wrong, 1 otherwise. The config is checked
resolved (its ``base:`` chain merged), as l2dual_train will read it; the resolved copy goes to
a temporary directory (nothing is written beside the model before the check passes).
"""

from __future__ import annotations

import sys
from typing import List, Optional

from espnet_l2dual.tasks.preflight import problems, resume_note


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv in (["-h"], ["--help"]):
        print(__doc__)
        return 0
    found = problems(argv)
    for line in found:
        print(f"check_train_config: error: {line}", file=sys.stderr)
    if not found:
        note = resume_note(argv)
        if note:
            print(f"check_train_config: note: {note}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
