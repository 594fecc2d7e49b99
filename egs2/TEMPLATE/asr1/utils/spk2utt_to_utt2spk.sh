#!/usr/bin/env bash
# spk2utt -> utt2spk: spk2utt_to_utt2spk.sh [spk2utt] > utt2spk (stdin by default)
# Thin wrapper: the logic (and --help) is in python -m espnet_l2dual.data.spk_maps.
set -euo pipefail
# Make the package importable without an install (recipes link utils/ here).
root=$(cd "$(dirname "$(readlink -f "$0")")/../../../.." && pwd)
[ -d "${root}/espnet_l2dual" ] && export PYTHONPATH="${root}${PYTHONPATH:+:${PYTHONPATH}}"
exec "${PYTHON:-python3}" -m espnet_l2dual.data.spk_maps spk2utt_to_utt2spk "$@"
