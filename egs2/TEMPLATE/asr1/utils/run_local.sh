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

. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/job_args.sh"

status_dir=$(mktemp -d "${TMPDIR:-/tmp}/run_local.XXXXXX")
trap 'rm -rf "${status_dir}"' EXIT
trap 'kill $(jobs -p) 2>/dev/null || true; log "interrupted"; exit 130' TERM
trap 'kill $(jobs -p) 2>/dev/null || true; exit 130' INT  # Ctrl-C: the caller says where it stopped

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
    report_failed "$((last - first + 1))" "${failed[@]}"
    exit 1
fi
exit 0
