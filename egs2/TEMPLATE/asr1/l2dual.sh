#!/usr/bin/env bash
# The stage engine shared by every recipe (egs2/<corpus>/asr1/run.sh calls it).
# Each stage: a log line, a guard that skips finished work, a Python call that does the job.
# The guard (espnet_l2dual.bin.stage_guard) records what each output was computed from
# (.stage<N>.json: input digests and options) and redoes the work when that changed.
set -euo pipefail
invocation=$(printf '%q ' "$0" "$@")  # replayed by exp/<tag>/run.sh

log() {
    local fname=${BASH_SOURCE[1]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*" >&2
}
min() { local a b; a=$1; for b in "$@"; do [ "${b}" -lt "${a}" ] && a="${b}"; done; echo "${a}"; }

# ---- options (every variable here is a --option) ----------------------------------
stage=1                 # first stage to run
stop_stage=11           # last stage to run
nj=2                    # parallel jobs for data stages and stats
inference_nj=2          # parallel decoding jobs
inference_batch_size="" # utterances per batched beam search (1: one at a time, as stock ESPnet; default 32)
ngpu=0                  # 0: CPU
num_nodes=1             # multi-node training (ESPnet's own launcher)
python=${python:-}      # the interpreter of every stage (default: tools/venv's, set by path.sh: tools/python.sh)
wait_lock=false         # true: wait for another run in this recipe dir instead of failing

lang=""                 # ko | en (required)
corpus=mini             # local/data.sh --corpus
local_data_opts=""      # extra options for local/data.sh
train_set=train
valid_set=dev
test_sets=""            # decoded and scored; default: "test eval" for the mini corpus, else "test"
                        # (and the report set's learner-error twins where stage 1 made them)

speed_perturb_factors=""  # e.g. "0.9 1.0 1.1"
fs=16000
audio_format=wav        # wav | flac | wav.ark | flac.ark
min_wav_duration=0.1    # seconds
max_wav_duration=20     # seconds
max_tokens=500          # characters per transcription (stage 4 filter)
min_level_db=-60        # stage 4 drops train/dev recordings quieter than this (RMS dBFS; silent audio)
divergence_unit=auto    # auto | char | jamo | token
divergence_reference=auto  # auto | meaning | canonical | none: what the surface is compared with (stage 4)

surface_token_type=""   # bpe | char | jamo | word (stage 5; default by language: ko jamo, en char)
meaning_token_type=""   # stages 6-7 read the setup stage 5 recorded (data/token_list/setup.json)
nbpe_surface=""         # bpe vocabulary size (default 100)
nbpe_meaning=""
bpemode=""              # unigram | bpe (default unigram)
token_list_dir=data/token_list

train_config=""         # conf/tuning/train_*.yaml
tag=""                  # default: asr_<train_config name without train_>[_seed<N>]
train_args=""           # extra options for the trainer
seed=""                 # training seed (default: the config's); part of the tag: asr_<config>_seed<N>
stats_dir=""            # default: exp/stats_raw_<surface tokens>_<meaning tokens>
init_model_dir=""       # post-training: stage 7 starts from exp/<tag>'s --inference_model (--init_param) with
                        # its token lists and feature statistics (stage 5 skipped; stage 6: shapes only)

inference_model=valid.loss.ave.pth
inference_tag=""        # default: decode_beam<beam>_ctc<ctc>
# stage 8's decoding options: a value given on the command line wins over --inference_config's,
# and that over the default after each (decode_defaults)
inference_config=""     # YAML of decoding options (a recipe's run.sh: conf/decode_asr.yaml)
beam_size=""            # default 5
decode_ctc_weight=""    # CTC weight of the joint CTC/attention search (default 0.3)
ctc_weight=""           # alias of --decode_ctc_weight
penalty=""              # default 0.0
maxlenratio=""          # default 0.0
inference_args=""       # extra options for the decoder (per-output overrides ...)
score_bins="0,0.1,0.2,1"
analysis_args=""

# ---- defaults derived from other options (the stages and --help use the same) ---------
token_defaults() {  # what stage 5 uses where no --*_token_type / --nbpe_* / --bpemode is given
    case "${lang}" in
        ko) : "${surface_token_type:=jamo}"; : "${meaning_token_type:=jamo}" ;;
        en) : "${surface_token_type:=char}"; : "${meaning_token_type:=char}" ;;
    esac
    : "${nbpe_surface:=100}"; : "${nbpe_meaning:=100}"; : "${bpemode:=unigram}"
}
set_defaults() {  # the sets decoded and scored, and the one stage 10 analyses (report_set)
    # the mini corpus: test is the tuning set (the tiny defaults were chosen on it), eval the
    # held-out set for final numbers; a corpus without eval reports on test
    if [ -z "${test_sets// /}" ]; then
        if [ "${corpus}" = mini ]; then test_sets="test eval"; else test_sets="test"; fi
    fi
    local s; report_set=""
    for s in ${test_sets}; do
        [ -n "${report_set}" ] || report_set=${s}
        [ "${s}" != eval ] || report_set=eval
    done
    twin_defaults
}
twin_defaults() {  # twin_set: the report set's learner-error twins, where stage 1 made them; decode_sets
    # data/<report set>_twins (the mini corpus's eval_twins, --local_data_opts "--twins true") is
    # decoded and scored with the test sets and read by stage 10's error following; without it
    # nothing changes (decode_sets = test_sets)
    local s
    twin_set=""
    [ -z "${report_set}" ] || [ ! -f "data/${report_set}_twins/utt2twin" ] || twin_set="${report_set}_twins"
    decode_sets="${test_sets}"
    for s in ${test_sets}; do [ "${s}" != "${twin_set}" ] || return 0; done
    decode_sets="${decode_sets}${twin_set:+ ${twin_set}}"
}
decode_defaults() {  # stage 8's options: the command line, else --inference_config, else the defaults
    local lines line name
    if [ -n "${ctc_weight}" ] && [ -n "${decode_ctc_weight}" ] && [ "${ctc_weight}" != "${decode_ctc_weight}" ]; then
        log "--ctc_weight is an alias of --decode_ctc_weight: give one, got '${ctc_weight}' and '${decode_ctc_weight}'"
        exit 1
    fi
    : "${decode_ctc_weight:=${ctc_weight}}"
    if [ -n "${inference_config}" ]; then
        if [ ! -f "${inference_config}" ]; then
            log "--inference_config must be an existing YAML file (e.g. conf/decode_asr.yaml), got '${inference_config}' ($(script_name) --help lists the options)"
            exit 1
        fi
        lines=$(${python} -m espnet_l2dual.bin.decode_config "${inference_config}") || exit 1
        while IFS= read -r line; do
            name=${line%%=*}
            [ -z "${line}" ] || [ -n "${!name}" ] || printf -v "${name}" '%s' "${line#*=}"
        done <<< "${lines}"
    fi
    : "${beam_size:=5}" "${decode_ctc_weight:=0.3}" "${penalty:=0.0}" "${maxlenratio:=0.0}" "${inference_batch_size:=32}"
}
name_defaults() {  # the model tag and the decode dir name
    if [ -n "${train_config}" ]; then
        config_name=$(basename "${train_config}" .yaml)
        : "${tag:=asr_${config_name#train_}${seed:+_seed${seed}}}"
    fi
    : "${inference_tag:=decode_beam${beam_size}_ctc${decode_ctc_weight}}"
}

# The script the user ran: a recipe's run.sh sets L2DUAL_CALLER=./run.sh (its --help and the
# option errors name it); l2dual.sh itself when run alone.
script_name() { echo "${L2DUAL_CALLER:-$0}"; }

# --help (called by parse_options.sh): the values in use, i.e. the defaults once the options
# before --help are applied (run.sh passes its own first). A subshell: nothing leaks.
print_help() (
    token_defaults; decode_defaults; name_defaults; set_defaults
    if [ -n "${L2DUAL_CALLER:-}" ]; then
        echo "Usage: $(script_name) [options]   (this recipe's settings for l2dual.sh are in the values below)"
    else
        echo "Usage: $0 --lang ko|en --train_config conf/tuning/train_mtl_tiny.yaml [options]"
    fi
    cat <<EOF

Stages (docs/recipes-and-stages.md; what a re-run redoes: docs/rerunning-and-errors.md):
   1 data preparation (local/data.sh)       7 train one config (MTL or STL)
   2 speed perturbation (optional)          8 decode both outputs
   3 format audio into dump/raw             9 score: CER/WER per output, by divergence
   4 filter + divergence                   10 analysis across the configs in exp/
   5 tokenizers per output                 11 pack the model
   6 collect stats

Options (value in use):
  --stage (${stage}) --stop_stage (${stop_stage}) --nj (${nj}) --inference_nj (${inference_nj})
  --ngpu (${ngpu}) --num_nodes (${num_nodes}) --wait_lock (${wait_lock}) --python (${python})
  --lang (${lang:-required: ko|en}) --corpus (${corpus}) --local_data_opts ("${local_data_opts}")
  --train_set (${train_set}) --valid_set (${valid_set}) --test_sets ("${test_sets}": decoded and scored;
      stage 10 analyses ${report_set}: eval where --test_sets has it, else the first; the mini corpus has
      test, the tuning set the tiny defaults were chosen on, and eval, held out for final numbers;
      the report set's learner-error twins too where stage 1 made them (data/<set>_twins: --local_data_opts
      "--twins true"), and stage 10 reports error following on them; decoded and scored here: ${decode_sets})
  --speed_perturb_factors ("${speed_perturb_factors}") --fs (${fs}) --audio_format (${audio_format})
  --min_wav_duration (${min_wav_duration}) --max_wav_duration (${max_wav_duration}) --max_tokens (${max_tokens})
  --min_level_db (${min_level_db}: train/dev recordings quieter than this RMS dBFS are dropped as silent)
  --divergence_unit (${divergence_unit}) --divergence_reference (${divergence_reference}: the meaning for
      the mini corpora, whose surface and meaning share one writing system as in the study; text_canonical
      where another corpus has it, e.g. canonical phones; else the meaning, refused when the surface is
      phones and the meaning words; none: no divergence bins)
  --surface_token_type (${surface_token_type:-by --lang: ko jamo, en char}) --meaning_token_type (${meaning_token_type:-by --lang: ko jamo, en char})
      (bpe|char|jamo|word) --nbpe_surface (${nbpe_surface}) --nbpe_meaning (${nbpe_meaning}) --bpemode (${bpemode}):
      chosen at stage 5, recorded in ${token_list_dir}/setup.json for the later stages
  --train_config (${train_config:-required from stage 6}) --tag (${tag:-asr_<config name without train_>[_seed<N>]})
  --seed (${seed:-the seed of the config}: a seed of its own trains a model of its own, exp/asr_<config>_seed<N>; stages 1-6 are shared)
  --train_args ("${train_args}") --stats_dir (${stats_dir:-exp/stats_raw_<surface tokens>_<meaning tokens>})
  --init_model_dir (${init_model_dir:-none}: post-training, e.g. exp/asr_mtl_tiny: stage 7 starts from its
      ${inference_model} (--init_param) and keeps its token lists and feats_stats.npz; stage 5 is skipped
      and stage 6 makes only the shapes of --train_set, in exp/stats_<train set>_from_<its tag>)
  --inference_model (${inference_model}) --inference_tag (${inference_tag})
  --inference_config (${inference_config:-none}: stage 8's decoding options as YAML, keys beam_size,
      decode_ctc_weight, penalty, maxlenratio, batch_size; an option given here wins over the file, the
      file over the built-in defaults: beam 5, CTC weight 0.3, penalty 0.0, maxlenratio 0.0, batch 32)
  --beam_size (${beam_size}) --decode_ctc_weight (${decode_ctc_weight}), alias --ctc_weight: the CTC weight of the search
  --penalty (${penalty}) --maxlenratio (${maxlenratio}) --inference_args ("${inference_args}")
  --inference_batch_size (${inference_batch_size}: utterances decoded together, same n-best as one at a time)
  --score_bins (${score_bins}) --analysis_args ("${analysis_args}")
EOF
)

log "$0 $*"
. ./path.sh
. ./cmd.sh
. utils/parse_options.sh
[ $# -ne 0 ] && { log "unexpected arguments: $*"; print_help >&2; exit 1; }
[ -z "${lang}" ] && { log "--lang is required (ko|en)"; exit 1; }

# ---- every option checked where it is parsed: one line naming the option and the value -----
bad_option() { log "--$1 $3, got '$2' ($(script_name) --help lists the options)"; exit 1; }
need_int() { [[ "$2" =~ ^[0-9]+$ ]] && [ "$2" -ge "${3:-0}" ] || bad_option "$1" "$2" "must be an integer >= ${3:-0}"; }
need_num() { [[ "$2" =~ ^-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$ ]] || bad_option "$1" "$2" "must be a number"; }
need_choice() {
    local name=$1 value=$2 c; shift 2
    for c in "$@"; do [ "${value}" = "${c}" ] && return 0; done
    bad_option "${name}" "${value}" "must be one of: $*"
}
need_int stage "${stage}" 1; need_int stop_stage "${stop_stage}" 1
last_stage=11
[ "${stage}" -le "${last_stage}" ] || bad_option stage "${stage}" "must be a stage from 1 to ${last_stage}"
[ "${stop_stage}" -le "${last_stage}" ] || bad_option stop_stage "${stop_stage}" "must be a stage from 1 to ${last_stage}"
need_int nj "${nj}" 1; need_int inference_nj "${inference_nj}" 1; need_int ngpu "${ngpu}" 0
need_int num_nodes "${num_nodes}" 1; need_int fs "${fs}" 1
need_int max_tokens "${max_tokens}" 1
[ -z "${seed}" ] || need_int seed "${seed}" 0
need_num min_wav_duration "${min_wav_duration}"; need_num max_wav_duration "${max_wav_duration}"
need_num min_level_db "${min_level_db}"
# the decoding options given on the command line (--inference_config's are checked as it is read)
[ -z "${beam_size}" ] || need_int beam_size "${beam_size}" 1
[ -z "${inference_batch_size}" ] || need_int inference_batch_size "${inference_batch_size}" 1
for name in ctc_weight decode_ctc_weight; do
    v=${!name}; [ -n "${v}" ] || continue
    need_num "${name}" "${v}"
    awk -v w="${v}" 'BEGIN { exit !(w >= 0 && w <= 1) }' || bad_option "${name}" "${v}" "must be in [0, 1]"
done
[ -z "${penalty}" ] || need_num penalty "${penalty}"; [ -z "${maxlenratio}" ] || need_num maxlenratio "${maxlenratio}"
decode_defaults
need_choice lang "${lang}" ko en
need_choice audio_format "${audio_format}" wav flac wav.ark flac.ark
need_choice divergence_unit "${divergence_unit}" auto char jamo token
need_choice divergence_reference "${divergence_reference}" auto meaning canonical none
if [ "${divergence_reference}" = auto ] && [ "${corpus}" = mini ]; then divergence_reference=meaning; fi
need_choice wait_lock "${wait_lock}" true false
for o in surface meaning; do
    name=${o}_token_type; v=${!name}; [ -z "${v}" ] || need_choice "${name}" "${v}" bpe char jamo word
    name=nbpe_${o}; v=${!name}; [ -z "${v}" ] || need_int "${name}" "${v}" 1
done
[ -z "${bpemode}" ] || need_choice bpemode "${bpemode}" unigram bpe
for f in ${speed_perturb_factors}; do need_num speed_perturb_factors "${f}"; done
set_defaults
[ "${stage}" -le "${stop_stage}" ] || bad_option stage "${stage}" "must not be after --stop_stage ${stop_stage}"
if [ -n "${train_config}" ] && [ ! -f "${train_config}" ] && [ "${stop_stage}" -ge 6 ] && [ "${stage}" -le 7 ]; then
    bad_option train_config "${train_config}" "must be an existing YAML file (e.g. conf/tuning/train_mtl_tiny.yaml)"
fi
# the GPUs --ngpu asks for are here (local jobs; a Slurm job gets its node's), before any stage runs
if [ "${ngpu}" -gt 0 ] && [ "${cmd_backend:-local}" = local ] && [ "${stage}" -le 8 ] && [ "${stop_stage}" -ge 7 ]; then
    ${python} -m espnet_l2dual.bin.check_gpu --ngpu "${ngpu}" || exit 1
fi
[ -w . ] || { log "cannot write in ${PWD} (read-only?): run the recipe from a directory you can write"; exit 1; }

# ---- derived settings ----------------------------------------------------------------
# what the user typed (stages 6-11 check it against the setup stage 5 recorded)
token_opts=(--surface_token_type "${surface_token_type}" --meaning_token_type "${meaning_token_type}"
            --nbpe_surface "${nbpe_surface}" --nbpe_meaning "${nbpe_meaning}" --bpemode "${bpemode}")
token_defaults  # --lang is ko or en (checked above)
token_setup="${token_list_dir}/setup.json"
if [ -n "${speed_perturb_factors}" ]; then train_set_used="${train_set}_sp"; else train_set_used="${train_set}"; fi
data_feats=dump/raw
# the seed reaches the Trainer last (it wins over one in --train_args) and keys stage 7 with them
if [ -n "${seed}" ]; then train_args="${train_args:+${train_args} }--seed ${seed}"; fi
name_defaults
exp_dir="exp/${tag:-none}"
outputs="surface meaning"  # espnet_l2dual.outputs.OUTPUTS (test_recipe_cli checks they agree)
# ESPnet reads per-utterance files as `sound`, soundfile-written arks as `kaldi_ark`.
if [[ "${audio_format}" == *ark ]]; then speech_type=kaldi_ark; else speech_type=sound; fi

validate() { ${python} -m espnet_l2dual.bin.validate_data_dir "$@"; }

# ---- locks, held by this shell and the jobs it starts ---------------------------------
# Stages 1-6 and 10 write what every model reads (data, tokenizers, stats, the analysis):
# one such run per recipe dir. A run of only per-model stages (7-9, 11) shares the recipe
# dir with other such runs (several configs train side by side) and locks its model's dir.
# take_lock <fd> <file> <-s|-x> <what>
take_lock() {
    local fd=$1 file=$2 mode=$3 what=$4 holder
    case "${fd}" in
        8) exec 8>>"${file}" ;;
        9) exec 9>>"${file}" ;;
        *) log "take_lock: fd ${fd} is not 8 or 9"; exit 1 ;;
    esac
    if ! flock -n "${mode}" "${fd}"; then
        holder=$(head -n 1 "${file}" 2>/dev/null || true)
        if ! ${wait_lock}; then
            log "another run is using ${what} (${holder:-PID unknown}; lock ${PWD}/${file}): wait for it, or pass --wait_lock true"
            exit 1
        fi
        log "waiting for the run holding ${PWD}/${file} (${holder:-PID unknown})"
        flock "${mode}" "${fd}"
    fi
    echo "PID $$ ($(date '+%Y-%m-%dT%H:%M:%S') ${invocation})" > "${file}"
}
if [ "${stage}" -ge 7 ] && { [ "${stop_stage}" -le 9 ] || [ "${stage}" -eq 11 ]; }; then
    take_lock 9 .l2dual.lock -s "${PWD}"
    mkdir -p exp
    take_lock 8 "exp/.${exp_dir##*/}.lock" -x "${exp_dir}"
else
    take_lock 9 .l2dual.lock -x "${PWD}"
fi

# guard <stage> <out dir> [stage_guard inputs]: true when <out dir> is up to date (skip);
# otherwise it says what changed, sets guard_state (run | resume) and is false
guard() {
    local rc=0
    ${python} -m espnet_l2dual.bin.stage_guard check --stage "$1" --out "$2" "${@:3}" || rc=$?
    case "${rc}" in
        0) return 0 ;;
        10) guard_state=run; return 1 ;;
        11) guard_state=resume; return 1 ;;
        *) log "Stage $1: cannot check the inputs of $2 (see above)"; exit 1 ;;
    esac
}
finish() { ${python} -m espnet_l2dual.bin.stage_guard commit --stage "$1" --out "$2"; }
# need_done <stage> <reading stage> [--strict] <dir>...: refuse (one line each) every <dir> that
# <stage> started and did not finish; --strict: also one it never made
need_done() {
    local made_by=$1 reader=$2 opts=() d; shift 2
    if [ "${1:-}" = --strict ]; then opts+=(--strict); shift; fi
    for d in "$@"; do opts+=(--out "${d}"); done
    ${python} -m espnet_l2dual.bin.stage_guard require --stage "${made_by}" --for_stage "${reader}" "${opts[@]}" || exit 1
}

# token options for the task (type, list, bpe model) of one output; $2: the token dir
token_args() {
    local o=$1 dir=$2 name=${1}_token_type ttype; ttype=${!name}
    echo "--${o}_token_type ${ttype} --${o}_token_list ${dir}/tokens.txt"
    [ "${ttype}" = bpe ] && echo "--${o}_bpemodel ${dir}/bpe.model"
    return 0
}
token_files() { local d=$1; echo "${d}/tokens.txt"; [ -f "${d}/bpe.model" ] && echo "${d}/bpe.model"; return 0; }
token_dir_of() { local name=${1}_token_dir; echo "${!name}"; }
# assign_lines "<name=value lines>": set the shell variables a Python step names (no eval)
assign_lines() {
    local line name
    while IFS= read -r line; do
        [ -n "${line}" ] || continue
        name=${line%%=*}
        [[ "${name}" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || { log "cannot read '${line}' as name=value"; exit 1; }
        printf -v "${name}" '%s' "${line#*=}"
    done <<< "$1"
}

# outputs a config trains: model_conf.tasks of the YAML (one line naming the problem if it is bad)
config_tasks() { ${python} -m espnet_l2dual.bin.config_tasks "$1"; }

# shell_words <option> <value> <array>: the value split into words with shell quoting
# ("--manifest '/dir with space/m.tsv'" is two words), without expanding or running anything
shell_words() {
    local -n _words=$3
    mapfile -d '' -t _words < <(${python} -m espnet_l2dual.bin.shell_words --option "$1" -- "$2")
    wait $! || exit 1  # the one-line reason (an unclosed quote) is already printed
}

need_config() { [ -n "${train_config}" ] || { log "--train_config is required for stage $1"; exit 1; }; }

# ---- Ctrl-C: one line saying where (every stage resumes); the Python steps print no traceback ----
running_stage=""
export L2DUAL_QUIET_INTERRUPT=1  # espnet_l2dual.utils.interrupt
on_interrupt() { trap - INT; log "interrupted at stage ${running_stage:-${stage}}; re-run to resume"; exit 130; }
trap on_interrupt INT

# ---- 1: data preparation -------------------------------------------------------------
if [ "${stage}" -le 1 ] && [ "${stop_stage}" -ge 1 ]; then
    running_stage=1
    log "Stage 1: data preparation (corpus=${corpus}) -> data/{${train_set},${valid_set},${test_sets// /,}}"
    local_data_args=()
    shell_words local_data_opts "${local_data_opts}" local_data_args
    local/data.sh --corpus "${corpus}" --nj "${nj}" "${local_data_args[@]}"
    twin_defaults  # the twin set, if local/data.sh just made it
    for dset in ${train_set} ${valid_set} ${decode_sets}; do validate "data/${dset}"; done
fi

# ---- 2: speed perturbation -----------------------------------------------------------
if [ "${stage}" -le 2 ] && [ "${stop_stage}" -ge 2 ]; then
    running_stage=2
    if [ -n "${speed_perturb_factors}" ]; then
        log "Stage 2: speed perturbation (${speed_perturb_factors}) -> data/${train_set}_sp"
        parts=()
        for f in ${speed_perturb_factors}; do
            if [ "${f}" = 1.0 ] || [ "${f}" = 1 ]; then parts+=("data/${train_set}"); continue; fi
            ${python} -m espnet_l2dual.bin.perturb_speed --factor "${f}" "data/${train_set}" "data/${train_set}_sp${f}"
            parts+=("data/${train_set}_sp${f}")
        done
        ${python} -m espnet_l2dual.bin.combine_data_dirs "data/${train_set}_sp" "${parts[@]}"
        validate "data/${train_set}_sp"
    else
        log "Stage 2: skipped (no --speed_perturb_factors)"
    fi
fi

# ---- 3: format audio -----------------------------------------------------------------
if [ "${stage}" -le 3 ] && [ "${stop_stage}" -ge 3 ]; then
    running_stage=3
    for dset in ${train_set_used} ${valid_set} ${decode_sets}; do
        out="${data_feats}/org/${dset}"
        validate "data/${dset}"
        if guard 3 "${out}" --files "data/${dset}" --audio "data/${dset}/wav.scp" \
            --opt fs="${fs}" --opt audio_format="${audio_format}"; then continue; fi
        log "Stage 3: format audio data/${dset} -> ${out} (fs=${fs}, ${audio_format}, nj=${nj})"
        mkdir -p "${out}/logs"
        rm -f "${out}"/format.*/wav.scp  # a job's scp marks it finished: only this run's count
        _nj=$(min "${nj}" "$(wc -l < "data/${dset}/wav.scp")")
        split_scp.sh "data/${dset}/wav.scp" $(for n in $(seq "${_nj}"); do echo "${out}/logs/wav.${n}.scp"; done)
        ${train_cmd} --max_jobs_run "${nj}" JOB=1:"${_nj}" "${out}/logs/format.JOB.log" \
            ${python} -m espnet_l2dual.bin.format_wav_scp --fs "${fs}" --audio_format "${audio_format}" \
                "${out}/logs/wav.JOB.scp" "${out}/format.JOB"
        # the set's tables are made anew: a file the source no longer has must not survive
        find "${out}" -maxdepth 1 -type f ! -name '.*' -delete
        ${python} -m espnet_l2dual.bin.merge_format_jobs --nj "${_nj}" --src_data "data/${dset}" "${out}"
        validate "${out}"
        finish 3 "${out}"
    done
fi

# ---- 4: filter + divergence ----------------------------------------------------------
if [ "${stage}" -le 4 ] && [ "${stop_stage}" -ge 4 ]; then
    running_stage=4
    for dset in ${train_set_used} ${valid_set} ${decode_sets}; do
        src="${data_feats}/org/${dset}"; dst="${data_feats}/${dset}"
        need_done 3 4 "${src}"
        validate "${src}"
        if [ "${dset}" = "${train_set_used}" ] || [ "${dset}" = "${valid_set}" ]; then
            filter=(--min_wav_duration "${min_wav_duration}" --max_wav_duration "${max_wav_duration}"
                    --max_tokens "${max_tokens}" --min_level_db "${min_level_db}")
        else  # test sets are never filtered (ESPnet convention)
            filter=(--min_wav_duration 0 --max_wav_duration 1e9 --max_tokens 1000000000)
        fi
        if guard 4 "${dst}" --files "${src}" --opt fs="${fs}" --opt filter="${filter[*]}" \
            --opt lang="${lang}" --opt divergence_unit="${divergence_unit}" \
            --opt divergence_reference="${divergence_reference}"; then continue; fi
        log "Stage 4: ${src} -> ${dst} (filter, divergence)"
        [ ! -d "${dst}" ] || find "${dst}" -maxdepth 1 -type f ! -name '.*' -delete  # no stale table survives
        ${python} -m espnet_l2dual.bin.filter_data_dir --fs "${fs}" "${filter[@]}" "${src}" "${dst}"
        ${python} -m espnet_l2dual.bin.compute_divergence --lang "${lang}" --unit "${divergence_unit}" \
            --reference "${divergence_reference}" "${dst}"
        validate "${dst}"
        finish 4 "${dst}"
    done
fi

# ---- 5: tokenizers -------------------------------------------------------------------
if [ "${stage}" -le 5 ] && [ "${stop_stage}" -ge 5 ] && [ -n "${init_model_dir}" ]; then
    log "Stage 5: skipped (--init_model_dir: the token lists of ${init_model_dir})"
elif [ "${stage}" -le 5 ] && [ "${stop_stage}" -ge 5 ]; then
    running_stage=5
    chosen=(--token_list_dir "${token_list_dir}" --surface_token_type "${surface_token_type}"
            --meaning_token_type "${meaning_token_type}" --nbpe_surface "${nbpe_surface}"
            --nbpe_meaning "${nbpe_meaning}" --bpemode "${bpemode}")
    # shellcheck disable=SC2046
    need_done 4 5 $(for dset in ${train_set_used} ${valid_set} ${test_sets}; do echo "${data_feats}/${dset}"; done)
    names=$(${python} -m espnet_l2dual.bin.token_setup name "${chosen[@]}")
    assign_lines "${names}"
    for o in ${outputs}; do
        name=${o}_token_type; ttype=${!name}; name=nbpe_${o}; nbpe=${!name}; dir=$(token_dir_of "${o}")
        bpe_opts=(); [ "${ttype}" = bpe ] && bpe_opts=(--opt nbpe="${nbpe}" --opt bpemode="${bpemode}")
        if guard 5 "${dir}" --files "${data_feats}/${train_set_used}/text_${o}" --opt token_type="${ttype}" \
            --files $(for dset in ${valid_set} ${test_sets}; do echo "${data_feats}/${dset}/text_${o}"; done) \
            "${bpe_opts[@]}"; then continue; fi
        log "Stage 5: ${o} tokenizer (${ttype}) -> ${dir}"
        ${python} -m espnet_l2dual.bin.make_tokenizer --token_type "${ttype}" --nbpe "${nbpe}" \
            --bpemode "${bpemode}" --text "${data_feats}/${train_set_used}/text_${o}" --out_dir "${dir}" \
            $(for dset in ${valid_set} ${test_sets}; do echo "--check_text ${data_feats}/${dset}/text_${o}"; done)
        finish 5 "${dir}"
    done
    ${python} -m espnet_l2dual.bin.token_setup record --setup "${token_setup}" "${chosen[@]}"
    log "Stage 5: token setup recorded in ${token_setup}: surface ${surface_token_dir}, meaning ${meaning_token_dir}"
fi

# ---- the token setup of stage 5, for stages 6-7 (8-11 read the model's own config.yaml) ---
init_param=""
if [ "${stop_stage}" -ge 6 ] && [ "${stage}" -le 7 ] && [ -n "${init_model_dir}" ]; then
    # post-training: the token lists of the model it starts from, its own stats dir for the shapes
    init_model_dir=${init_model_dir%/}
    # shellcheck disable=SC2086
    setup_sh=$(${python} -m espnet_l2dual.bin.init_model --dir "${init_model_dir}" \
        --inference_model "${inference_model}" --outputs ${outputs}) || exit 1
    assign_lines "${setup_sh}"
    : "${stats_dir:=exp/stats_${train_set_used}_from_${init_model_dir##*/}}"
elif [ "${stop_stage}" -ge 6 ] && [ "${stage}" -le 7 ]; then
    setup_sh=$(${python} -m espnet_l2dual.bin.token_setup read --setup "${token_setup}" "${token_opts[@]}")
    assign_lines "${setup_sh}"
    # a non-default front end (e.g. ssl) has its own feature statistics: its own stats dir
    [ -n "${stats_dir}" ] || [ -z "${train_config}" ] || [ ! -f "${train_config}" ] \
        || frontend_tag=$(${python} -m espnet_l2dual.bin.resolve_config --frontend_tag "${train_config}")
    : "${stats_dir:=exp/stats_raw_${surface_token_dir##*/}_${meaning_token_dir##*/}${frontend_tag:-}}"
fi

# ---- 6: collect stats ----------------------------------------------------------------
if [ "${stage}" -le 6 ] && [ "${stop_stage}" -ge 6 ]; then
    running_stage=6
    need_config 6
    need_done 5 6 "${surface_token_dir}" "${meaning_token_dir}"
    stats_inputs=(--audio "${data_feats}/${train_set_used}/wav.scp" "${data_feats}/${valid_set}/wav.scp"
                  --config_keys "${train_config}:frontend,frontend_conf,preprocessor,preprocessor_conf,cleaner,g2p")
    for dset in ${train_set_used} ${valid_set}; do
        stats_inputs+=(--files "${data_feats}/${dset}/wav.scp")
        for o in ${outputs}; do stats_inputs+=(--files "${data_feats}/${dset}/text_${o}"); done
    done
    for o in ${outputs}; do
        # shellcheck disable=SC2207
        stats_inputs+=(--files $(token_files "$(token_dir_of "${o}")"))
    done
    if ! guard 6 "${stats_dir}" "${stats_inputs[@]}"; then
        log "Stage 6: collect stats -> ${stats_dir} (nj=${nj})"
        logdir="${stats_dir}/logdir"; mkdir -p "${logdir}"
        _nj=$(min "${nj}" "$(wc -l < "${data_feats}/${valid_set}/wav.scp")")
        for dset in ${train_set_used} ${valid_set}; do
            split_scp.sh "${data_feats}/${dset}/wav.scp" $(for n in $(seq "${_nj}"); do echo "${logdir}/${dset}.${n}.scp"; done)
        done
        # Stats are shared by every config of this recipe: every output, no normalisation.
        stats_data=()
        for o in ${outputs}; do
            # shellcheck disable=SC2207
            stats_data+=($(token_args "${o}" "$(token_dir_of "${o}")")
                         --train_data_path_and_name_and_type "${data_feats}/${train_set_used}/text_${o},text_${o},text"
                         --valid_data_path_and_name_and_type "${data_feats}/${valid_set}/text_${o},text_${o},text")
        done
        # shellcheck disable=SC2046
        ${train_cmd} --max_jobs_run "${nj}" JOB=1:"${_nj}" "${logdir}/stats.JOB.log" \
            ${python} -m espnet_l2dual.bin.l2dual_train --collect_stats true --use_preprocessor true \
                --config "${train_config}" --normalize none --ngpu 0 --num_workers 0 \
                --model_conf "tasks=[${outputs// /,}]" "${stats_data[@]}" \
                --train_data_path_and_name_and_type "${data_feats}/${train_set_used}/wav.scp,speech,${speech_type}" \
                --valid_data_path_and_name_and_type "${data_feats}/${valid_set}/wav.scp,speech,${speech_type}" \
                --train_shape_file "${logdir}/${train_set_used}.JOB.scp" \
                --valid_shape_file "${logdir}/${valid_set}.JOB.scp" \
                --output_dir "${logdir}/stats.JOB"
        ${python} -m espnet2.bin.aggregate_stats_dirs \
            $(for n in $(seq "${_nj}"); do echo "--input_dir ${logdir}/stats.${n}"; done) --output_dir "${stats_dir}"
        # Text shapes carry the vocabulary size as a second dimension (ESPnet convention).
        for o in ${outputs}; do
            v=$(wc -l < "$(token_dir_of "${o}")/tokens.txt")
            for d in train valid; do
                awk -v N="${v}" '{ print $0 "," N }' "${stats_dir}/${d}/text_${o}_shape" \
                    > "${stats_dir}/${d}/text_${o}_shape.tok"
            done
        done
        finish 6 "${stats_dir}"
    fi
fi

# ---- 7: train ------------------------------------------------------------------------
if [ "${stage}" -le 7 ] && [ "${stop_stage}" -ge 7 ]; then
    running_stage=7
    need_config 7
    # prepare (espnet_l2dual.tasks.stage7): up to date?, pre-flight check, a model trained from other
    # inputs moved to exp/stale/, the stage record, the model's own stats and token lists, its run.sh
    # and provenance.json; exit 0: up to date, 10: train with the data options it prints (one a line)
    token_specs=()
    for o in ${outputs}; do name=${o}_token_type; token_specs+=(--token "${o}=${!name}:$(token_dir_of "${o}")"); done
    rc=0
    data_args=$(${python} -m espnet_l2dual.bin.stage7 prepare --exp_dir "${exp_dir}" --config "${train_config}" \
        --stats_dir "${stats_dir}" --data_feats "${data_feats}" --train_set "${train_set_used}" \
        --valid_set "${valid_set}" --speech_type "${speech_type}" --token_setup "${token_setup}" "${token_specs[@]}" \
        --train_args "${train_args}" --ngpu "${ngpu}" --num_nodes "${num_nodes}" --command "${invocation}" \
        --seed "${seed}" --init_model "${init_param}") || rc=$?
    case "${rc}" in
        0) ;;
        10) mapfile -t data_args <<< "${data_args}"
            # train: ESPnet's launcher (a full disk said in one line), one local/Slurm job on one node,
            # or --num_nodes N with DDP
            # shellcheck disable=SC2086
            ${python} -m espnet_l2dual.bin.launch --cmd "${cuda_cmd}" --log "${exp_dir}/logs/train.log" \
                --ngpu "${ngpu}" --num_nodes "${num_nodes}" --init_file_prefix "${exp_dir}/.dist_init_" \
                --multiprocessing_distributed true -- \
                ${python} -m espnet_l2dual.bin.l2dual_train --config "${train_config}" --use_preprocessor true \
                    --normalize_conf "stats_file=${exp_dir}/feats_stats.npz" \
                    --resume true --output_dir "${exp_dir}" "${data_args[@]}" ${train_args}
            ${python} -m espnet_l2dual.bin.stage7 finish --exp_dir "${exp_dir}" ;;  # the record marks it done
        *) exit 1 ;;  # said in one line
    esac
fi

# ---- 8: decode -----------------------------------------------------------------------
if [ "${stage}" -le 8 ] && [ "${stop_stage}" -ge 8 ]; then
    running_stage=8
    need_config 8
    need_done 7 8 "${exp_dir}"
    [ -e "${exp_dir}/${inference_model}" ] || { log "Stage 8: ${exp_dir}/${inference_model} not found (run stage 7)"; exit 1; }
    model_tasks=$(config_tasks "${exp_dir}/config.yaml")
    # shellcheck disable=SC2207
    model_tokens=($(for o in ${model_tasks}; do token_files "${exp_dir}/token_list/${o}"; done))
    for dset in ${decode_sets}; do
        out="${exp_dir}/${inference_tag}/${dset}"; logdir="${out}/logdir"
        if guard 8 "${out}" --files "${exp_dir}/config.yaml" "${exp_dir}/${inference_model}" "${model_tokens[@]}" \
            "${data_feats}/${dset}/wav.scp" --audio "${data_feats}/${dset}/wav.scp" \
            --opt inference_model="${inference_model}" --opt beam_size="${beam_size}" --opt ctc_weight="${decode_ctc_weight}" \
            --opt penalty="${penalty}" --opt maxlenratio="${maxlenratio}" --opt inference_args="${inference_args}" \
            --opt batch_size="${inference_batch_size}"; then
            continue
        fi
        log "Stage 8: decode ${data_feats}/${dset} with ${exp_dir}/${inference_model} -> ${out}"
        mkdir -p "${logdir}"
        _nj=$(min "${inference_nj}" "$(wc -l < "${data_feats}/${dset}/wav.scp")")
        split_scp.sh "${data_feats}/${dset}/wav.scp" $(for n in $(seq "${_nj}"); do echo "${logdir}/keys.${n}.scp"; done)
        # shellcheck disable=SC2086
        ${decode_cmd} --max_jobs_run "${inference_nj}" --gpu "${ngpu}" JOB=1:"${_nj}" "${logdir}/decode.JOB.log" \
            ${python} -m espnet_l2dual.bin.l2dual_inference --ngpu "${ngpu}" \
                --data_path_and_name_and_type "${data_feats}/${dset}/wav.scp,speech,${speech_type}" \
                --key_file "${logdir}/keys.JOB.scp" \
                --train_config "${exp_dir}/config.yaml" --model_file "${exp_dir}/${inference_model}" \
                --beam_size "${beam_size}" --ctc_weight "${decode_ctc_weight}" --penalty "${penalty}" \
                --maxlenratio "${maxlenratio}" --batch_size "${inference_batch_size}" \
                --output_dir "${logdir}/output.JOB" ${inference_args}
        for o in ${model_tasks}; do
            mkdir -p "${out}/${o}"
            for f in text token score; do
                for n in $(seq "${_nj}"); do cat "${logdir}/output.${n}/${o}/${f}"; done \
                    | LC_ALL=C sort -k1,1 > "${out}/${o}/${f}.tmp"
                mv "${out}/${o}/${f}.tmp" "${out}/${o}/${f}"
            done
        done
        finish 8 "${out}"
    done
fi

# ---- 9: score ------------------------------------------------------------------------
if [ "${stage}" -le 9 ] && [ "${stop_stage}" -ge 9 ]; then
    running_stage=9
    need_config 9
    # shellcheck disable=SC2046
    need_done 8 9 --strict $(for dset in ${decode_sets}; do echo "${exp_dir}/${inference_tag}/${dset}"; done)
    model_tasks=$(config_tasks "${exp_dir}/config.yaml")
    score_inputs=(--files "${exp_dir}/config.yaml" "${exp_dir}/provenance.json")
    decode_records=()
    for dset in ${decode_sets}; do
        score_inputs+=(--files "${data_feats}/${dset}" "${exp_dir}/${inference_tag}/${dset}/.stage8.json")
        decode_records+=("${exp_dir}/${inference_tag}/${dset}/.stage8.json")
        for o in ${model_tasks}; do
            score_inputs+=(--files "${exp_dir}/${inference_tag}/${dset}/${o}/text")
        done
    done
    # results_schema: the results.json layout (2: headline metric per output); older ones are rescored
    if ! guard 9 "${exp_dir}" "${score_inputs[@]}" --opt lang="${lang}" --opt bins="${score_bins}" \
        --opt inference_tag="${inference_tag}" --opt test_sets="${decode_sets}" --opt results_schema=2 \
        --opt html_report=1; then
        log "Stage 9: score ${exp_dir}/${inference_tag} -> ${exp_dir}/RESULTS.md, report.html"
        ${python} -m espnet_l2dual.bin.score --lang "${lang}" --decode_dir "${exp_dir}/${inference_tag}" \
            --data_root "${data_feats}" --sets "${decode_sets}" --outputs "${model_tasks}" \
            --bins "${score_bins}" --model_config "${exp_dir}/config.yaml" \
            --provenance "${exp_dir}/provenance.json" --decode_records "${decode_records[@]}" \
            --results_md "${exp_dir}/RESULTS.md" --results_json "${exp_dir}/results.json"
        # shellcheck disable=SC2086
        ${python} -m espnet_l2dual.bin.html_report --recipes . --tags "${tag}" --test_sets ${decode_sets} \
            --data_root "${data_feats}" --bins "${score_bins}" --summary_md "${exp_dir}/RESULTS.md" --no_figures \
            --title "${tag}: stage 9" --out "${exp_dir}/report.html"
        finish 9 "${exp_dir}"
    fi
    cat "${exp_dir}/RESULTS.md"
fi

# ---- 10: analysis --------------------------------------------------------------------
if [ "${stage}" -le 10 ] && [ "${stop_stage}" -ge 10 ]; then
    running_stage=10
    analysis_inputs=(--files "${data_feats}/${report_set}" "${data_feats}/${train_set_used}")
    for d in exp/*/; do  # every trained model: its weights, config and decoded report set
        [ -f "${d}config.yaml" ] && [ -e "${d}${inference_model}" ] || continue
        analysis_inputs+=(--files "${d}config.yaml" "${d}${inference_model}" "${d}results.json")
        for o in ${outputs}; do analysis_inputs+=(--files "${d}${inference_tag}/${report_set}/${o}/text"); done
        [ -z "${twin_set}" ] || analysis_inputs+=(--files "${d}${inference_tag}/${twin_set}/surface/text")
    done
    # error following on the twin set where there is one (else it is recorded as skipped)
    twin_args=()
    if [ -n "${twin_set}" ]; then
        analysis_inputs+=(--files "${data_feats}/${twin_set}" --opt twin_set="${twin_set}")
        twin_args=(--twin_set "${twin_set}")
    fi
    # analysis_schema: the analysis.json layout (2: skipped quantities recorded, MTL−STL intervals;
    # 3: debiased CKA with permutation null and speaker-blocked intervals)
    if ! guard 10 exp/analysis "${analysis_inputs[@]}" --opt lang="${lang}" --opt analysis_args="${analysis_args}" \
        --opt inference_tag="${inference_tag}" --opt inference_model="${inference_model}" --opt analysis_schema=3; then
        log "Stage 10: analysis of the configs in exp/ on ${data_feats}/${report_set}${twin_set:+ (error following: ${data_feats}/${twin_set})} -> exp/analysis"
        # shellcheck disable=SC2086
        ${python} -m espnet_l2dual.bin.analyze --lang "${lang}" --exp_dir exp --data_root "${data_feats}" \
            --test_set "${report_set}" --train_set "${train_set_used}" --inference_tag "${inference_tag}" \
            --out_dir exp/analysis --if_incomplete skip "${twin_args[@]}" ${analysis_args}
        finish 10 exp/analysis
    fi
fi

# ---- 11: pack ------------------------------------------------------------------------
if [ "${stage}" -le 11 ] && [ "${stop_stage}" -ge 11 ]; then
    running_stage=11
    need_config 11
    need_done 7 11 "${exp_dir}"; need_done 9 11 "${exp_dir}"
    # pack_schema 2: the zip carries decode.yaml, the settings results.json was decoded with (stage 8's)
    if ! guard 11 "${exp_dir}" --files "${exp_dir}/config.yaml" "${exp_dir}/${inference_model}" \
        "${exp_dir}/results.json" --opt inference_model="${inference_model}" --opt pack_schema=2; then
        log "Stage 11: pack ${exp_dir} -> ${exp_dir}/packed.zip (with the decode settings of ${exp_dir}/results.json)"
        ${python} -m espnet_l2dual.bin.pack_model --train_config "${exp_dir}/config.yaml" \
            --model_file "${exp_dir}/${inference_model}" --results_json "${exp_dir}/results.json" \
            --out "${exp_dir}/packed.zip"
        finish 11 "${exp_dir}"
    fi
fi

log "Successfully finished stages ${stage}-${stop_stage}"
