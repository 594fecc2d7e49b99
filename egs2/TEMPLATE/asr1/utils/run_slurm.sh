#!/usr/bin/env bash
# Run a job array on a Slurm cluster with the Kaldi run.pl call syntax (the same as
# utils/run_local.sh), so cmd.sh can switch a recipe between the two.
set -euo pipefail

help_message=$(cat <<'EOF'
Usage: run_slurm.sh [options] [JOB=1:N] <log-file> <command> [<arg> ...]

Submits ONE sbatch job (an array job for JOB=a:b, task i running job i) and waits
until every task has finished. Every literal "JOB" in <log-file> and in the
arguments is replaced by the task's index. Each task's stdout and stderr go to
its log file, between a header (the command, start time, Slurm job and node)
and a footer (elapsed time, exit code); the task also writes <log-file>.done
holding its exit code. Exits non-zero, naming the failed logs, if any task
fails or ends without an exit code (killed by Slurm: see <logdir>/q/*.out).
Ctrl-C (SIGINT/SIGTERM) cancels the job (scancel). utils/slurm.pl is this script
under the name espnet2.bin.launch needs for multi-node training (see cmd.sh).

The batch script is written to <logdir>/q/; it runs in the current directory
and sources ./path.sh there if it exists. The command line is built as in
run_local.sh (a single argument is a shell command line; with several, words
with white space are quoted).

Options:
  --config FILE      slurm.pl-style conf mapping options to sbatch arguments
                     (default: a built-in one; see egs2/*/asr1/conf/slurm.conf)
  --max_jobs_run N   tasks running at once (sbatch --array=a-b%N)
  --gpu N, --mem X, --time X, --num_threads K, --num_nodes M, --name NAME, ...
                     any other --NAME VALUE is mapped through the conf file
                     (an option it has no rule for is an error)
  -h, --help         this message
Environment: RUN_SLURM_GRACE (seconds to wait for the .done files of tasks
Slurm reports finished, for slow shared file systems; default 30).
EOF
)

log() { echo "$(basename "$0"): $*" >&2; }
die() { log "$*"; exit 1; }

script_dir="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd -P)"
repo_root="$(cd "${script_dir}/../../../.." && pwd -P)"

config=""
max_jobs_run=""
num_threads=1
conf_opts=()

while [ $# -gt 0 ]; do
    case "$1" in
        -h | --help) echo "${help_message}"; exit 0 ;;
        --*=*) opt="${1%%=*}"; value="${1#*=}"; shift ;;
        --*)
            [ $# -ge 2 ] || die "option $1 needs a value"
            opt="$1"; value="$2"; shift 2 ;;
        *) break ;;
    esac
    name="${opt#--}"
    name="${name//-/_}"
    case "${name}" in
        config) config="${value}" ;;
        max_jobs_run) max_jobs_run="${value}" ;;
        num_threads) num_threads="${value}"; conf_opts+=(--opt "${name}=${value}") ;;
        *) conf_opts+=(--opt "${name}=${value}") ;;
    esac
done
if [ -n "${max_jobs_run}" ] && ! [[ "${max_jobs_run}" =~ ^[1-9][0-9]*$ ]]; then
    die "--max_jobs_run must be a positive integer, not '${max_jobs_run}'"
fi

. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/job_args.sh"

# sbatch command from the conf file (stdlib-only Python); ${python}: tools/python.sh
# shellcheck disable=SC1091
. "${repo_root}/tools/python.sh"
conf_args=()
[ -n "${config}" ] && conf_args=(--config "${config}")
sbatch_words=$("${python}" -m espnet_l2dual.cluster.slurm_conf "${conf_args[@]}" "${conf_opts[@]}") \
    || die "cannot map the options through ${config:-the default conf}"
mapfile -t sbatch_cmd <<<"${sbatch_words}"

# Where the batch script and Slurm's own output go: <logdir>/q/.
logdir=$(dirname "${log_template}")
while [ -n "${job_var}" ] && [[ "${logdir}" == *"${job_var}"* ]]; do logdir=$(dirname "${logdir}"); done
qdir="${logdir}/q"
mkdir -p "${qdir}"
base=$(basename "${log_template}")
base="${base%.log}"
job_name="${base//.${job_var:-JOB}/}"
job_name="${job_name//${job_var:-JOB}/}"
script="${qdir}/${base}.sh"
if [ -n "${job_var}" ]; then
    slurm_out="${qdir}/$(substitute "${base}" '%a').out"
else
    slurm_out="${qdir}/${base}.out"
fi

{
    echo "#!/usr/bin/env bash"
    echo "# Written by run_slurm.sh on $(date); sbatch arguments from the conf: ${sbatch_cmd[*]}"
    printf 'cd %q || exit 1\n' "$(pwd -P)"
    printf 'job_var=%q\n' "${job_var}"
    printf 'log_template=%q\n' "${log_template}"
    printf 'cmd_template=%q\n' "${cmd_template}"
    printf 'num_threads=%q\n' "${num_threads}"
    printf 'task=${SLURM_ARRAY_TASK_ID:-%q}\n' "${first}"
    cat <<'EOF'
if [ -n "${job_var}" ]; then
    logfile=${log_template//"${job_var}"/${task}}
    cmd=${cmd_template//"${job_var}"/${task}}
else
    logfile=${log_template}
    cmd=${cmd_template}
fi
mkdir -p "$(dirname "${logfile}")"
start=$(date +%s)
rc=0
{
    echo "# ${cmd}"
    echo "# Started at $(date)"
    echo "# Slurm job ${SLURM_JOB_ID:-?} (array task ${SLURM_ARRAY_TASK_ID:--}) on $(hostname)"
    echo "#"
    if [ -f ./path.sh ]; then . ./path.sh || rc=$?; fi
    if [ "${rc}" -eq 0 ]; then bash -c "${cmd}" </dev/null || rc=$?; fi
    end=$(date +%s)
    echo "# Accounting: time=$((end - start)) threads=${num_threads}"
    echo "# Ended (code ${rc}) at $(date), elapsed time $((end - start)) seconds"
} >"${logfile}" 2>&1 || rc=$?
echo "${rc}" >"${logfile}.done.tmp" && mv -f "${logfile}.done.tmp" "${logfile}.done"
exit "${rc}"
EOF
} >"${script}"
chmod +x "${script}"

marker() { echo "$(substitute "${log_template}" "$1").done"; }
for ((i = first; i <= last; i++)); do rm -f "$(marker "${i}")"; done

submit=("${sbatch_cmd[@]}" --parsable --job-name "${job_name:-run_slurm}" --output "${slurm_out}")
if [ -n "${job_var}" ]; then
    array="${first}-${last}"
    if [ -n "${max_jobs_run}" ] && [ "${max_jobs_run}" -lt $((last - first + 1)) ]; then array+="%${max_jobs_run}"; fi
    submit+=(--array "${array}")
fi
submitted=$("${submit[@]}" "${script}") || die "submission failed: ${submit[*]} ${script}"
job_id="${submitted%%;*}"
[[ "${job_id}" =~ ^[0-9]+$ ]] || die "sbatch printed no job id: '${submitted}'"
trap 'scancel "${job_id}" 2>/dev/null || true; log "interrupted: cancelled Slurm job ${job_id}"; exit 130' INT TERM
log "submitted Slurm job ${job_id} ($((last - first + 1)) task(s), log ${log_template}, script ${script})"

# Is the job still known to Slurm as pending/running? (Unknown errors: assume yes.)
job_active() {
    local out
    if out=$(squeue -h -j "${job_id}" -o %i 2>&1); then
        [ -n "${out}" ]
    else
        [[ "${out}" != *"Invalid job id"* ]]
    fi
}

count_done() {
    local n=0 i
    for ((i = first; i <= last; i++)); do [ -f "$(marker "${i}")" ] && n=$((n + 1)); done
    echo "${n}"
}

total=$((last - first + 1))
poll=1
last_progress=$(date +%s)
grace_until=""
while true; do
    done_count=$(count_done)
    [ "${done_count}" -eq "${total}" ] && break
    if [ -z "${grace_until}" ] && ! job_active; then
        grace_until=$(($(date +%s) + ${RUN_SLURM_GRACE:-30}))
    fi
    [ -n "${grace_until}" ] && [ "$(date +%s)" -ge "${grace_until}" ] && break
    if [ $(($(date +%s) - last_progress)) -ge 60 ]; then
        log "job ${job_id}: ${done_count}/${total} task(s) finished"
        last_progress=$(date +%s)
    fi
    sleep "${poll}" &
    wait $! || true
    [ "${poll}" -lt 5 ] && poll=$((poll + 1))
done
trap - INT TERM

failed=()
for ((i = first; i <= last; i++)); do
    logfile="$(substitute "${log_template}" "${i}")"
    if [ -f "${logfile}.done" ]; then
        [ "$(cat "${logfile}.done")" = 0 ] || failed+=("${logfile}")
    else
        failed+=("${logfile}")
        log "task ${i} ended without an exit code (cancelled, out of time/memory?): see ${slurm_out//%a/${i}}"
    fi
done
if [ "${#failed[@]}" -gt 0 ]; then
    report_failed "${total}" "${failed[@]}"
    exit 1
fi
exit 0
