# shellcheck shell=bash
# The one place that chooses the interpreter of every script: sets and exports ${python}.
# Sourced by path.sh (recipe scripts) and by the scripts that do not source path.sh
# (utils/*.sh, scripts/mini_data.sh, run_all.sh, test/run.sh, tools/install.sh).
#
#   python   tools/venv/bin/python when the venv exists, whatever `python3` is first on PATH;
#            else python3 (ESPnet's `python=python3`). A value set before wins: an exported
#            python=/x/bin/python, or l2dual.sh --python; exported, so the scripts a run
#            starts use the same one.
#   PYTHONPATH  this checkout first: the venv may hold an editable install of another checkout.
#
# Scripts call "${python}" -m ..., never python3 or python.
_l2dual_root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd -P)"
if [ -z "${python:-}" ]; then
    if [ -x "${_l2dual_root}/tools/venv/bin/python" ]; then
        python="${_l2dual_root}/tools/venv/bin/python"
    else
        python=python3
    fi
fi
export python
case "${PYTHONPATH:-}" in
    "${_l2dual_root}" | "${_l2dual_root}:"*) ;;  # already first (path.sh sourced twice)
    *) export PYTHONPATH="${_l2dual_root}${PYTHONPATH:+:${PYTHONPATH}}" ;;
esac
unset _l2dual_root
