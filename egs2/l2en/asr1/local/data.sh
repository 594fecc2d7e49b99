#!/usr/bin/env bash
# Data preparation (stage 1): data/{train,dev,test} from the corpus chosen with --corpus.
set -euo pipefail

log() { echo "$(date '+%Y-%m-%dT%H:%M:%S') (local/data.sh) $*" >&2; }

lang=en
corpus=mini
nj=$(nproc)
seed=1
num_train=1200
num_dev=150
num_test=150
help_message="Usage: $0 [--corpus mini|dual|manifest|l2arctic] [--nj N] [--seed S] [--num_train N --num_dev N --num_test N]
  mini: synthetic corpus made on the spot with espeak-ng (see scripts/mini_data.sh --help)"

. utils/parse_options.sh
. ./path.sh

case "${corpus}" in
    mini)
        scripts/mini_data.sh --lang "${lang}" --nj "${nj}" --seed "${seed}" \
            --num_train "${num_train}" --num_dev "${num_dev}" --num_test "${num_test}" ;;
    *)
        log "corpus ${corpus}: adapter not implemented yet"
        exit 1 ;;
esac
