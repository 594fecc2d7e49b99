#!/usr/bin/env bash
# Run a job array on this machine, with the Kaldi run.pl call syntax, so a
# recipe's `train_cmd`/`decode_cmd` can be this or the Slurm launcher.
set -euo pipefail

help_message=$(cat <<'EOF'
Usage: run_local.sh [options] [JOB=1:N] <log-file> <command> [<arg> ...]

Runs <command> once per job index (JOB=3:5 runs jobs 3, 4, 5; without JOB=
it runs once). Every literal "JOB" in <log-file> and in the arguments is
replaced by the job index. Each job's stdout and stderr go to its log file,
between a header (the command, start time) and a footer (elapsed time, exit
code). Exits non-zero, naming the failed logs, if any job fails.

The command is run with `bash -c`. A single argument is taken as a shell
command line ('a | b > c' works). With several arguments, the ones without
white space are passed as they are (so \| and \> act as pipe and
redirection, as in run.pl) and the others are quoted as single words.

Options:
  --max_jobs_run N   jobs running at once (default: number of CPUs)
  --num_threads K    recorded in the log; threads are the job's business
  --gpu N, --mem X, --time X
                     accepted and ignored here (used by the Slurm launcher)
  -h, --help         this message
EOF
)

log() { echo "$(basename "$0"): $*" >&2; }
die() { log "$*"; exit 1; }

max_jobs_run=$(nproc 2>/dev/null || echo 1)
num_threads=1

while [ $# -gt 0 ]; do
    case "$1" in
        -h | --help) echo "${help_message}"; exit 0 ;;
        --*=*) opt="${1%%=*}"; value="${1#*=}"; shift ;;
        --*)
            [ $# -ge 2 ] || die "option $1 needs a value"
            opt="$1"; value="$2"; shift 2 ;;
        *) break ;;
    esac
    case "${opt//-/_}" in
        __max_jobs_run) max_jobs_run="${value}" ;;
        __num_threads) num_threads="${value}" ;;
        __gpu | __mem | __time) ;;  # Meaningful to cluster launchers only.
        *) die "unknown option ${opt}" ;;
    esac
done
[[ "${max_jobs_run}" =~ ^[1-9][0-9]*$ ]] || die "--max_jobs_run must be a positive integer, not '${max_jobs_run}'"

# Job range: JOB=a:b or JOB=a (any upper-case variable name, like run.pl).
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

status_dir=$(mktemp -d "${TMPDIR:-/tmp}/run_local.XXXXXX")
trap 'rm -rf "${status_dir}"' EXIT
trap 'kill $(jobs -p) 2>/dev/null || true; log "interrupted"; exit 130' INT TERM

run_job() {  # $1 index, $2 log file, $3 command line
    local index="$1" logfile="$2" cmd="$3" start end rc=0
    mkdir -p "$(dirname "${logfile}")"
    start=$(date +%s)
    {
        echo "# ${cmd}"
        echo "# Started at $(date)"
        echo "#"
        bash -c "${cmd}" </dev/null || rc=$?
        end=$(date +%s)
        echo "# Accounting: time=$((end - start)) threads=${num_threads}"
        echo "# Ended (code ${rc}) at $(date), elapsed time $((end - start)) seconds"
    } >"${logfile}" 2>&1 || rc=$?
    echo "${rc}" >"${status_dir}/${index}"
}

running=0
for ((i = first; i <= last; i++)); do
    if [ "${running}" -ge "${max_jobs_run}" ]; then
        wait -n || true
        running=$((running - 1))
    fi
    run_job "${i}" "$(substitute "${log_template}" "${i}")" "$(substitute "${cmd_template}" "${i}")" &
    running=$((running + 1))
done
wait || true

failed=()
for ((i = first; i <= last; i++)); do
    rc=$(cat "${status_dir}/${i}" 2>/dev/null || echo "?")
    [ "${rc}" = 0 ] || failed+=("$(substitute "${log_template}" "${i}")")
done
if [ "${#failed[@]}" -gt 0 ]; then
    log "${#failed[@]}/$((last - first + 1)) jobs failed, see: ${failed[*]}"
    exit 1
fi
exit 0
