#!/usr/bin/env bash
# THE test command (README and .ci/run call it): set up tools/venv if needed, run pytest.
#   test/run.sh                 # everything, slow end-to-end tests included
#   test/run.sh -m "not slow"   # fast unit tests only
#   test/run.sh test/test_x.py  # any pytest arguments
#   test/run.sh --stack 202611 -m "not slow"   # on the newest tested ESPnet stack (own venv)
set -euo pipefail
log() { echo "$(date '+%Y-%m-%dT%H:%M:%S') (test/run.sh) $*" >&2; }
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
    sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0
fi
stack=202511  # --stack: tools/venv (202511) or tools/venv-espnet<V> (tools/install.sh --espnet V)
if [ "${1:-}" = "--stack" ]; then
    [ $# -ge 2 ] || { echo "test/run.sh: --stack needs a version (202511 or 202611)" >&2; exit 1; }
    stack="$2"; shift 2
fi
export L2DUAL_ESPNET="${stack}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"
bash tools/install.sh --espnet "${stack}"
# shellcheck disable=SC1091
. tools/activate_python.sh
# shellcheck disable=SC1091
. tools/python.sh  # ${python}: the selected venv's python
export PATH="/usr/lib/sctk/bin:${PATH}"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
log "running pytest $* (ESPnet ${stack}: ${python})"
exec "${python}" -m pytest "$@"
