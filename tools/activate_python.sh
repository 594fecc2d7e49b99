#!/usr/bin/env bash
# Sourced by path.sh: puts tools/venv first on PATH (python, pytest, espnet2 CLIs).
_l2dual_tools_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ ! -f "${_l2dual_tools_dir}/venv/bin/activate" ]; then
    echo "tools/venv is missing: run tools/install.sh first" >&2
    return 1 2>/dev/null || exit 1
fi
# shellcheck disable=SC1091
. "${_l2dual_tools_dir}/venv/bin/activate"
unset _l2dual_tools_dir
