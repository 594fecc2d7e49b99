#!/usr/bin/env bash
# Check a data dir against the contract: validate_data_dir.sh [--no_audio_check] [--require a,b] DIR
# Thin wrapper: the logic (and --help) is in python -m espnet_l2dual.bin.validate_data_dir.
set -euo pipefail
# Make the package importable without an install (recipes link utils/ here).
root=$(cd "$(dirname "$(readlink -f "$0")")/../../../.." && pwd)
[ -d "${root}/espnet_l2dual" ] && export PYTHONPATH="${root}${PYTHONPATH:+:${PYTHONPATH}}"
exec "${PYTHON:-python3}" -m espnet_l2dual.bin.validate_data_dir "$@"
