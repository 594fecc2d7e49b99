#!/usr/bin/env bash
# utt2spk -> spk2utt: utt2spk_to_spk2utt.sh [utt2spk] > spk2utt (stdin by default)
# Thin wrapper: the logic (and --help) is in python -m espnet_l2dual.data.spk_maps.
set -euo pipefail
# Make the package importable without an install (recipes link utils/ here).
root=$(cd "$(dirname "$(readlink -f "$0")")/../../../.." && pwd)
[ -d "${root}/espnet_l2dual" ] && export PYTHONPATH="${root}${PYTHONPATH:+:${PYTHONPATH}}"
exec "${PYTHON:-python3}" -m espnet_l2dual.data.spk_maps utt2spk_to_spk2utt "$@"
