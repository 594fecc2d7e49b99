# Sourced by every recipe script: the toolkit's venv, ${python}, our utils, sclite on PATH.
MAIN_ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../../.." && pwd -P)"
export MAIN_ROOT
# shellcheck disable=SC1091
. "${MAIN_ROOT}/tools/activate_python.sh"
# ${python} (tools/venv's python) and this checkout first on PYTHONPATH: tools/python.sh
# shellcheck disable=SC1091
. "${MAIN_ROOT}/tools/python.sh"
export PATH="${PWD}/utils:${PWD}/scripts:/usr/lib/sctk/bin:${PATH}"
export LC_ALL=C.UTF-8
export PYTHONIOENCODING=UTF-8
# One BLAS/OpenMP thread per process: parallelism comes from nj jobs. On 2-core machines
# torch's 2 intra-op threads next to a DataLoader worker made training steps ~15x slower.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
export HF_HUB_OFFLINE=1
