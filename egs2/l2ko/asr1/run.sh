#!/usr/bin/env bash
# Korean L2 recipe: surface = pronounced Hangul, meaning = standard orthography.
# All stages: ./run.sh ; a range: ./run.sh --stage 5 --stop_stage 7 ; options: ./run.sh --help
set -euo pipefail

train_config=conf/tuning/train_mtl_tiny.yaml
inference_config=conf/decode_asr.yaml  # stage 8's decoding options (beam, CTC weight, ...)
# decoding: conf/decode_asr.yaml (an option given to ./run.sh wins over it)

# L2DUAL_CALLER: ./run.sh --help names this script and shows the values above as the defaults
L2DUAL_CALLER="$0" ./l2dual.sh \
    --lang ko \
    --train_config "${train_config}" \
    --inference_config "${inference_config}" \
    "$@"
