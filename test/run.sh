#!/usr/bin/env bash
# THE test command (README and .ci/run call it): set up tools/venv if needed, run pytest.
#   test/run.sh                 # everything, slow end-to-end tests included
#   test/run.sh -m "not slow"   # fast unit tests only
#   test/run.sh test/test_x.py  # any pytest arguments
set -euo pipefail
log() { echo "$(date '+%Y-%m-%dT%H:%M:%S') (test/run.sh) $*" >&2; }
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
    sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"
bash tools/install.sh
# shellcheck disable=SC1091
. tools/activate_python.sh
# shellcheck disable=SC1091
. tools/python.sh  # ${python}: tools/venv's python
export PATH="/usr/lib/sctk/bin:${PATH}"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
log "running pytest $*"
exec "${python}" -m pytest "$@"
