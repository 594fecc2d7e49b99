#!/usr/bin/env bash
# Keep the lines whose id is listed: filter_scp.sh [--exclude] idlist in.scp > out.scp
# Thin wrapper: the logic (and --help) is in python -m espnet_l2dual.data.filter_scp.
set -euo pipefail
# Make the package importable without an install (recipes link utils/ here).
root=$(cd "$(dirname "$(readlink -f "$0")")/../../../.." && pwd)
[ -d "${root}/espnet_l2dual" ] && export PYTHONPATH="${root}${PYTHONPATH:+:${PYTHONPATH}}"
exec "${PYTHON:-python3}" -m espnet_l2dual.data.filter_scp "$@"
