#!/usr/bin/env bash
# Keep the lines whose id is listed: filter_scp.sh [--exclude] idlist in.scp > out.scp
# Thin wrapper: the logic (and --help) is in python -m espnet_l2dual.data.filter_scp.
set -euo pipefail
# ${python} and the package of this checkout (tools/python.sh), from any directory.
# shellcheck disable=SC1091
. "$(dirname "$(readlink -f "$0")")/../../../../tools/python.sh"
exec "${python}" -m espnet_l2dual.data.filter_scp "$@"
