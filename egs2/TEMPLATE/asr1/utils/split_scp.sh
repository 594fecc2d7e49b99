#!/usr/bin/env bash
# Split a table into N contiguous parts: split_scp.sh [--utt2spk FILE] in.scp out.1 ... out.N
# Thin wrapper: the logic (and --help) is in python -m espnet_l2dual.data.split_scp.
set -euo pipefail
# Make the package importable without an install (recipes link utils/ here).
root=$(cd "$(dirname "$(readlink -f "$0")")/../../../.." && pwd)
[ -d "${root}/espnet_l2dual" ] && export PYTHONPATH="${root}${PYTHONPATH:+:${PYTHONPATH}}"
exec "${PYTHON:-python3}" -m espnet_l2dual.data.split_scp "$@"
