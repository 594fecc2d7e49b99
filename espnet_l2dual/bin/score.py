"""Stage 9: score decoded outputs (help: :mod:`espnet_l2dual.scoring.decode_scoring`)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Optional, Sequence

from espnet_l2dual.report.results_markdown import render_markdown, write_results
from espnet_l2dual.scoring import decode_scoring
from espnet_l2dual.scoring.by_divergence import DEFAULT_BINS, parse_bins
from espnet_l2dual.scoring.decode_scoring import default_units, score_sets
from espnet_l2dual.scoring.sclite import find_sclite
from espnet_l2dual.scoring.units import UNITS
from espnet_l2dual.utils.provenance import result_provenance

log = logging.getLogger("espnet_l2dual.score")


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=decode_scoring.__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lang", required=True, choices=["ko", "en"])
    p.add_argument("--decode_dir", required=True, type=Path, help="exp/<tag>/decode_<inference>")
    p.add_argument("--data_root", required=True, type=Path, help="e.g. dump/raw")
    p.add_argument("--sets", default="test", help="space-separated set names")
    p.add_argument("--outputs", default="surface meaning", help="space-separated output names")
    p.add_argument("--bins", default=DEFAULT_BINS,
                   help="divergence bin edges; the first edge alone is an exact bin")
    p.add_argument("--unit_surface", default=None, choices=UNITS,
                   help="phone: space-separated phones, headline PER; token: other space-separated tokens, "
                        "headline TER; char: headline CER (default from config.yaml: phn tokens and word "
                        "tokens that are all ARPAbet phones -> phone, other word tokens -> token, else char)")
    p.add_argument("--unit_meaning", default=None, choices=UNITS)
    p.add_argument("--tag", default=None, help="model tag (default: name of decode_dir's parent)")
    p.add_argument("--model_config", default=None, type=Path,
                   help="exp/<tag>/config.yaml: gives each output's unit (unless --unit_<output> is given) "
                        "and its seed goes into the provenance")
    p.add_argument("--provenance", default=None, type=Path, help="exp/<tag>/provenance.json of stage 7")
    p.add_argument("--decode_records", default=[], nargs="*", type=Path,
                   help="stage 8 records (.stage8.json) of the decoded sets: decode options, test data digest")
    p.add_argument("--results_md", required=True, type=Path)
    p.add_argument("--results_json", required=True, type=Path)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    sclite = find_sclite()
    parse_bins(args.bins)  # fail on a bad spec before any work
    units = default_units(args.model_config, {"surface": args.unit_surface, "meaning": args.unit_meaning})
    results = score_sets(args.decode_dir, args.data_root, args.sets.split(), args.outputs.split(), args.lang,
                         units, args.bins, args.results_json.resolve().parent)
    if not results:
        log.error("nothing to score: no hypothesis files under %s", args.decode_dir)
        return 1
    tag = args.tag or args.decode_dir.resolve().parent.name
    provenance = result_provenance(args.provenance, args.model_config, args.decode_records)
    write_results(results, provenance, args.results_json, args.results_md,
                  render_markdown(results, tag, args.decode_dir, args.lang, sclite, provenance))
    log.info("wrote %s and %s", args.results_md, args.results_json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
