#!/usr/bin/env bash
# Check a data dir against the contract: validate_data_dir.sh [--no_audio_check] [--require a,b] DIR
# Thin wrapper: the logic (and --help) is in python -m espnet_l2dual.bin.validate_data_dir.
set -euo pipefail
# ${python} and the package of this checkout (tools/python.sh), from any directory.
# shellcheck disable=SC1091
. "$(dirname "$(readlink -f "$0")")/../../../../tools/python.sh"
exec "${python}" -m espnet_l2dual.bin.validate_data_dir "$@"
