"""Write each utterance's surface–meaning divergence into ``utt2divergence`` (stage 4).

The reference (``--reference auto``) is ``text_canonical`` when the data dir has it (the
meaning in surface units: canonical phones, the Korean standard pronunciation, the English
spelling), else ``text_meaning``. ``--reference meaning`` compares with the meaning
transcript itself, as the study did: on the Korean mini corpus that counts the regular
phonological rules (``먹어요`` -> ``머거요``) as divergence too, while ``canonical`` counts only the
learner errors.

Divergence needs both sides in one unit system. A surface of ARPAbet phones against
a meaning in words (a phone corpus without ``text_canonical``) would put every
utterance in the top bin, so that is refused with the reason; ``--reference none``
writes no ``utt2divergence`` (stage 9 then has no divergence bins). With ``--unit auto``
a phone surface is compared phone by phone (``token``), otherwise by language.
Scoring by divergence bin (stage 9) reads this file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

from espnet_l2dual.data.dir_tables import write_rows
from espnet_l2dual.data.utt2divergence import REFERENCES, compute_divergence, summary
from espnet_l2dual.errors import DataError
from espnet_l2dual.text.divergence import UNITS


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="compute_divergence",
        description="Write DATA_DIR/utt2divergence: normalised Levenshtein distance between text_surface "
        "and text_canonical (if present) or text_meaning, 6 decimals. Prints mean, median and the "
        "fraction of utterances with divergence 0.",
    )
    parser.add_argument("--lang", required=True, choices=("ko", "en"))
    parser.add_argument(
        "--unit", default="auto", choices=("auto",) + tuple(UNITS),
        help="auto: token for a phone surface, else jamo for ko, char for en"
    )
    parser.add_argument("--reference", default="auto", choices=REFERENCES,
                        help="auto: text_canonical if the data dir has it, else text_meaning; "
                        "none: write no utt2divergence (removes a stale one)")
    parser.add_argument("data_dir")
    args = parser.parse_args(argv)
    out_path = Path(args.data_dir) / "utt2divergence"
    if args.reference == "none":
        out_path.unlink(missing_ok=True)
        print(f"compute_divergence: {args.data_dir}: no divergence (--reference none)")
        return 0
    try:
        values, ref_path, unit = compute_divergence(args.data_dir, args.unit, args.reference, args.lang)
        write_rows(out_path, ((u, f"{d:.6f}") for u, d in values.items()))
    except (DataError, ValueError, OSError) as e:
        print(f"compute_divergence: error: {e}", file=sys.stderr)
        return 1
    print(f"compute_divergence: {args.data_dir} (surface vs {ref_path.name}, unit {unit}): {summary(values)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
