#!/usr/bin/env bash
# Korean L2 recipe: surface = pronounced Hangul, meaning = standard orthography.
# All stages: ./run.sh ; a range: ./run.sh --stage 5 --stop_stage 7 ; options: ./run.sh --help
set -euo pipefail

train_config=conf/tuning/train_mtl_tiny.yaml

./l2dual.sh \
    --lang ko \
    --surface_token_type jamo \
    --meaning_token_type jamo \
    --train_config "${train_config}" \
    "$@"
