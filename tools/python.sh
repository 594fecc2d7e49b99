# shellcheck shell=bash
# The one place that chooses the interpreter of every script: sets and exports ${python}.
# Sourced by path.sh (recipe scripts) and by the scripts that do not source path.sh
# (utils/*.sh, scripts/mini_data.sh, run_all.sh, test/run.sh, tools/install.sh).
#
#   python   tools/venv/bin/python when the venv exists, whatever `python3` is first on PATH;
#            else python3 (ESPnet's `python=python3`). A value set before wins: an exported
#            python=/x/bin/python, or l2dual.sh --python; exported, so the scripts a run
#            starts use the same one.
#            L2DUAL_ESPNET=202611 picks the newest tested stack, tools/venv-espnet202611
#            (tools/install.sh --espnet 202611); 202511 or unset: tools/venv.
#   PYTHONPATH  this checkout first: the venv may hold an editable install of another checkout.
#
# Scripts call "${python}" -m ..., never python3 or python.
_l2dual_root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd -P)"
if [ -z "${python:-}" ]; then
    case "${L2DUAL_ESPNET:-202511}" in
        202511) _l2dual_venv="${_l2dual_root}/tools/venv" ;;
        *) _l2dual_venv="${_l2dual_root}/tools/venv-espnet${L2DUAL_ESPNET}" ;;
    esac
    if [ -x "${_l2dual_venv}/bin/python" ]; then
        python="${_l2dual_venv}/bin/python"
    elif [ "${L2DUAL_ESPNET:-202511}" != 202511 ] && [ -z "${L2DUAL_INSTALLING:-}" ]; then
        echo "L2DUAL_ESPNET=${L2DUAL_ESPNET}: no ${_l2dual_venv}; run tools/install.sh --espnet ${L2DUAL_ESPNET}" >&2
        unset _l2dual_root _l2dual_venv
        return 1 2>/dev/null || exit 1
    else
        python=python3
    fi
fi
export python
case "${PYTHONPATH:-}" in
    "${_l2dual_root}" | "${_l2dual_root}:"*) ;;  # already first (path.sh sourced twice)
    *) export PYTHONPATH="${_l2dual_root}${PYTHONPATH:+:${PYTHONPATH}}" ;;
esac
unset _l2dual_root _l2dual_venv
