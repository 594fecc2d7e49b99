#!/usr/bin/env bash
# Sourced by path.sh: puts tools/venv first on PATH (python, pytest, espnet2 CLIs);
# L2DUAL_ESPNET=202611: tools/venv-espnet202611 instead (as tools/python.sh).
_l2dual_tools_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
case "${L2DUAL_ESPNET:-202511}" in
    202511) _l2dual_venv=venv; _l2dual_install="tools/install.sh" ;;
    *) _l2dual_venv="venv-espnet${L2DUAL_ESPNET}"; _l2dual_install="tools/install.sh --espnet ${L2DUAL_ESPNET}" ;;
esac
if [ ! -f "${_l2dual_tools_dir}/${_l2dual_venv}/bin/activate" ]; then
    echo "tools/${_l2dual_venv} is missing: run ${_l2dual_install} first" >&2
    return 1 2>/dev/null || exit 1
fi
# shellcheck disable=SC1091
. "${_l2dual_tools_dir}/${_l2dual_venv}/bin/activate"
unset _l2dual_tools_dir _l2dual_venv _l2dual_install
