#!/usr/bin/env bash
# Split a table into N contiguous parts: split_scp.sh [--utt2spk FILE] in.scp out.1 ... out.N
# Thin wrapper: the logic (and --help) is in python -m espnet_l2dual.data.split_scp.
set -euo pipefail
# ${python} and the package of this checkout (tools/python.sh), from any directory.
# shellcheck disable=SC1091
. "$(dirname "$(readlink -f "$0")")/../../../../tools/python.sh"
exec "${python}" -m espnet_l2dual.data.split_scp "$@"
