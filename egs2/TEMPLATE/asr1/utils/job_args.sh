# shellcheck shell=bash
# The Kaldi run.pl call syntax shared by run_local.sh and run_slurm.sh; sourced after
# option parsing with "$@" = [JOB=a[:b]] LOG COMMAND... and a `die` function defined.
# Sets job_var, first, last, log_template, cmd_template and defines substitute().
# Job range: JOB=a:b or JOB=a (any variable name, like run.pl).
job_var=""
first=1
last=1
if [ $# -gt 0 ] && [[ "$1" =~ ^([A-Za-z_][A-Za-z0-9_]*)=([0-9]+)(:([0-9]+))?$ ]]; then
    job_var="${BASH_REMATCH[1]}"
    first="${BASH_REMATCH[2]}"
    last="${BASH_REMATCH[4]:-${first}}"
    shift
    [ $((10#${first})) -le $((10#${last})) ] || die "empty job range ${job_var}=${first}:${last}"
    first=$((10#${first}))
    last=$((10#${last}))
fi
[ $# -ge 2 ] || die "need a log file and a command (see --help)"
log_template="$1"
shift
if [ -n "${job_var}" ] && [ "${first}" -ne "${last}" ] && [[ "${log_template}" != *"${job_var}"* ]]; then
    die "the log file '${log_template}' does not contain ${job_var}: all jobs would write the same log"
fi

# Build the command line once, with the job variable still in it.
if [ $# -eq 1 ]; then
    cmd_template="$1"
else
    cmd_template=""
    for arg in "$@"; do
        if [[ -n "${arg}" && "${arg}" != *[[:space:]]* ]]; then
            cmd_template+="${arg} "
        else
            cmd_template+="$(printf '%q' "${arg}") "
        fi
    done
    cmd_template="${cmd_template% }"
fi

substitute() {  # $1 text -> text with the job variable replaced by $2
    if [ -n "${job_var}" ]; then
        printf '%s' "${1//"${job_var}"/$2}"
    else
        printf '%s' "$1"
    fi
}

# error_line <log>: the line of a failed job's log that says what went wrong (the first
# "...error: ..." / "XxxError: ..." line after the header, else the last line), for the console.
error_line() {
    local body line
    body=$(grep -v '^#' "$1" 2>/dev/null) || true
    line=$(grep -m1 -E '(^|[^A-Za-z])([Ee]rror|ERROR|Exception)(:| [^ ]+:)' <<< "${body}") || true
    [ -n "${line}" ] || line=$(grep -v '^[[:space:]]*$' <<< "${body}" | tail -n 1) || true
    echo "${line:0:400}"
}

# report_failed <total> <log>...: one line per failed job, with its reason
report_failed() {
    local total=$1 f; shift
    log "$#/${total} jobs failed, see: $*"
    for f in "$@"; do log "  ${f}: $(error_line "${f}")"; done
}
