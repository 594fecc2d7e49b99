#!/usr/bin/env bash
# English L2 recipe: surface = L2 respelling (or perceived phones), meaning = prompt words.
# All stages: ./run.sh ; a range: ./run.sh --stage 5 --stop_stage 7 ; options: ./run.sh --help
set -euo pipefail

train_config=conf/tuning/train_mtl_tiny.yaml

./l2dual.sh \
    --lang en \
    --surface_token_type char \
    --meaning_token_type bpe \
    --nbpe_meaning 200 \
    --train_config "${train_config}" \
    "$@"
