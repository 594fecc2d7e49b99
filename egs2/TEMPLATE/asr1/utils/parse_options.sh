# shellcheck shell=bash
# Command-line options for recipe scripts, Kaldi style.
#
# Source it (without arguments, so that it can shift the caller's "$@") after
# defining every option's default and a `help_message`:
#
#   stage=1
#   stop_stage=100
#   use_lm=false
#   help_message="Usage: $0 [--stage N] [--stop_stage N] <data-dir>"
#   . utils/parse_options.sh
#
# Then `--stop_stage 5`, `--stop-stage 5` and `--stop_stage=5` all set
# `stop_stage=5`. Only variables the caller already defined can be set, so a
# typo fails loudly instead of being ignored. A variable whose default is
# `true`/`false` only accepts `true` or `false`. `--help`/`-h` prints
# $help_message and exits 0; a caller that defines a function `print_help`
# instead gets it called, so the help can show the values of the options given
# before `--help` (a recipe's run.sh passes its own settings first). Parsing
# stops at the first argument that is not an option (or after `--`); the rest
# stay in "$@" as positional arguments.
#
# Names used here are prefixed `_po_` and unset at the end.

_po_help() {
    if declare -F print_help >/dev/null; then print_help; else printf '%s\n' "${help_message:-No help available.}"; fi
}

while [ $# -gt 0 ]; do
    case "$1" in
        --help | -h)
            _po_help
            exit 0
            ;;
        --)
            shift
            break
            ;;
        --*=*)
            _po_opt="${1%%=*}"
            _po_value="${1#*=}"
            shift
            ;;
        --?*)
            _po_opt="$1"
            if [ $# -lt 2 ]; then
                printf '%s: option %s needs a value\n' "$0" "${_po_opt}" >&2
                exit 1
            fi
            _po_value="$2"
            shift 2
            ;;
        *)
            break
            ;;
    esac

    _po_name="${_po_opt#--}"
    _po_name="${_po_name//-/_}"
    if ! [[ "${_po_name}" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || [ -z "${!_po_name+set}" ]; then
        printf '%s: unknown option %s\n' "$0" "${_po_opt}" >&2
        if declare -F print_help >/dev/null || [ -n "${help_message:-}" ]; then _po_help >&2; fi
        exit 1
    fi
    case "${!_po_name}" in
        true | false)
            if [ "${_po_value}" != true ] && [ "${_po_value}" != false ]; then
                printf "%s: option %s takes true or false, not '%s'\n" "$0" "${_po_opt}" "${_po_value}" >&2
                exit 1
            fi
            ;;
    esac
    printf -v "${_po_name}" '%s' "${_po_value}"
done
unset _po_opt _po_value _po_name
unset -f _po_help
true
