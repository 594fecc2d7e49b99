#!/usr/bin/env bash
# The main job: every recipe x every model config, then one cross-language report.
# Stages 1-6 (data, tokenizers, stats) run once per language and are shared by the
# configs; 7-9 and 11 run per config; 10 (analysis) once per language over the configs.
# Re-running skips finished work: markers under exp/run_all/ of each recipe are keyed by the
# corpus, its options, the run/train options and the configs' resolved content (an edited
# TEMPLATE base counts), and every stage
# of l2dual.sh checks its own inputs (docs/rerunning-and-errors.md).
set -euo pipefail

log() { echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (run_all.sh) $*" >&2; }

langs="ko en"
corpus=mini               # one name for all, or per language: "ko=dual en=l2arctic"
configs="stl_surface stl_meaning mtl"
seeds=""                  # e.g. "1 2 3": every config trained once per seed (exp/asr_<config>_seed<N>)
size=tiny                 # tiny (CPU, minutes) | small (CPU, hours: real recordings) | full (GPU) | wavlm (GPU, SSL front end)
ngpu=0
nj=2
stage=1
stop_stage=11
local_data_opts=""        # passed to every recipe's local/data.sh
run_args=""               # extra options for every ./run.sh call
train_args=""             # extra trainer options for every config, e.g. "--max_epoch 6"
report_dir=exp/report
parallel=true             # languages side by side (training is one thread per process)
config_jobs=1             # models of one language trained side by side (stages 7-9; 3 = the whole study at once)
grid_error_scales=""      # controlled-divergence grid (mini corpus): e.g. "0 0.5 1 2" (learner error rates x F)
grid_epochs=""            # and/or training budgets: e.g. "4 16" (--max_epoch); each level in grid/es<F>_ep<E>/
study=""                  # a study store: studies/<name> (committed records; a stored model is not trained again)
status=false              # with --study: print done/missing per model and seed group, and stop
eval_set=auto             # the set the reports compare on: auto = eval for the mini corpus, else test

help_message="Usage: ./run_all.sh [options]
  --langs \"${langs}\"              recipes to run (egs2/l2<lang>/asr1)
  --corpus ${corpus}                corpus for all languages, or \"ko=NAME en=NAME\"
  --configs \"${configs}\"  model configs (conf/tuning/train_<config>[_tiny].yaml); twin_subspace post-trains
                                  the mtl model of its seed on the train twins (docs/configs-and-methods.md)
  --seeds \"\"                     training seeds, e.g. \"1 2 3\" (default: the configs' own seed, one model each);
                                  the report then gives mean and sd over seeds and intervals over seeds and utterances
  --size ${size}                    tiny | small (real recordings on CPU; en only) | full | wavlm (full with a
                                  pretrained SSL front end, train_<config>_wavlm.yaml; docs/clusters-gpu-ssl-ddp.md)
  --ngpu ${ngpu}  --nj ${nj}  --stage ${stage}  --stop_stage ${stop_stage}
  --local_data_opts \"\"            extra options for local/data.sh
  --run_args \"\"                   extra options for every ./run.sh call
  --train_args \"\"                 extra trainer options for every config (e.g. \"--max_epoch 6\")
  --report_dir ${report_dir}        where REPORT.md, report.json and report.html (every utterance of the report
                                  set) go; the report set is eval (the mini corpus's held-out set) where every
                                  model scored it, else test
  --parallel ${parallel}              run the languages side by side (log: egs2/l2<lang>/asr1/exp/run_all/run_all.log)
  --config_jobs ${config_jobs}           train this many models of one language side by side (stages 7-9, one
                                  thread each; log per model: exp/run_all/<config>[_seed<N>].7-9.log)
  --grid_error_scales \"\" --grid_epochs \"\"  the controlled-divergence grid (mini corpus only): every
                                  level (error scale x budget) is a study of its own in egs2/l2<lang>/asr1/grid/es<F>_ep<E>/,
                                  resumable like the rest; the grid report plots MTL−STL against divergence and budget
  --study NAME                    keep a record of every finished model (results, sclite's per-utterance counts,
                                  hypotheses, provenance) and of every seed group's analysis in studies/NAME/
                                  (a path with a '/' is used as it is); a model whose key (config, options, seed,
                                  data, evaluation set) is stored is not trained again, even on a fresh clone;
                                  the reports and each recipe's RESULTS.md are then made from the store
  --status                        with --study: print done/missing per model and per seed group, then stop
  --eval_set ${eval_set}                 the set the reports compare on (auto: eval for the mini corpus, else test)"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "${root}"
run_all_command="./run_all.sh $*"
args=()  # a bare --status (the one flag without a value) means --status true
for ((i = 1; i <= $#; i++)); do
    a=${!i}; j=$((i + 1))
    if [ "${a}" = --status ] && { [ "${i}" -eq "$#" ] || [[ "${!j}" == --* ]]; }; then args+=(--status true); else args+=("${a}"); fi
done
set -- "${args[@]}"
. egs2/TEMPLATE/asr1/utils/parse_options.sh
[ $# -ne 0 ] && { log "unexpected arguments: $*"; echo "${help_message}" >&2; exit 1; }
case "${size}" in tiny) suffix=_tiny ;; small) suffix=_small ;; full) suffix="" ;; wavlm) suffix=_wavlm ;;
    *) log "--size must be tiny, small, full or wavlm"; exit 1 ;; esac
for s in ${seeds}; do
    [[ "${s}" =~ ^[0-9]+$ ]] || { log "--seeds must be non-negative integers, got '${s}'"; exit 1; }
done
seed_list=${seeds:-none}  # "none": the config's own seed, tags without _seed<N>
seed_opts() { [ "$1" = none ] || echo "--seed $1"; }
seed_tag() { [ "$1" = none ] || echo "_seed$1"; }
for opt in nj:1 ngpu:0 stage:1 stop_stage:1 config_jobs:1; do
    name=${opt%%:*}; v=${!name}
    [[ "${v}" =~ ^[0-9]+$ ]] && [ "${v}" -ge "${opt##*:}" ] \
        || { log "--${opt%%:*} must be an integer >= ${opt##*:}, got '${v}'"; exit 1; }
done

study_dir=""
if [ -n "${study}" ]; then
    case "${study}" in */*) study_dir=${study} ;; *) study_dir="studies/${study}" ;; esac  # run_all.sh runs in the repo root
fi
[[ "${eval_set}" =~ ^[A-Za-z0-9_.-]+$ ]] || { log "--eval_set must be a data set name, got '${eval_set}'"; exit 1; }
case "${eval_set}" in auto | test | eval) ;; *) run_args="${run_args} --test_sets ${eval_set}" ;; esac
# eval_set_of <corpus>: the set a language's models are compared on (auto: the mini corpus has eval)
eval_set_of() { if [ "${eval_set}" != auto ]; then echo "${eval_set}"; elif [ "$1" = mini ]; then echo eval; else echo test; fi; }
if [ "${status}" = true ]; then  # the store's state only: no install, no data, no training
    [ -n "${study_dir}" ] || { log "--status needs --study NAME"; exit 1; }
    # shellcheck disable=SC1091
    . tools/python.sh
    # shellcheck disable=SC2086
    exec "${python}" -m espnet_l2dual.bin.study status --study "${study_dir}" --langs ${langs} --configs ${configs} \
        --suffix="${suffix}" --seeds ${seeds} --error_scales ${grid_error_scales} --epochs ${grid_epochs} \
        --eval_set "$(eval_set_of "${corpus}")"
fi

bash tools/install.sh
# shellcheck disable=SC1091
. tools/python.sh  # ${python}: tools/venv's python; this checkout first on PYTHONPATH
for c in ${configs}; do  # a post-training config's own training data (twin_subspace: data/train_twins)
    opts=$("${python}" -m espnet_l2dual.bin.study run_opts --config "${c}" --local_data)
    [ -z "${opts}" ] || [[ " ${local_data_opts} " == *" ${opts} "* ]] || local_data_opts="${local_data_opts:+${local_data_opts} }${opts}"
done

corpus_of() {  # corpus_of <lang>
    local item
    for item in ${corpus}; do
        case "${item}" in
            "$1"=*) echo "${item#*=}"; return ;;
            *=*) ;;
            *) echo "${item}"; return ;;
        esac
    done
    echo mini
}

# run_stages <recipe dir> <marker name> <first> <last> <config> [extra run.sh options]
run_stages() {
    local dir=$1 marker=$2 first=$3 last=$4 config=$5; shift 5
    [ "${first}" -lt "${stage}" ] && first=${stage}
    [ "${last}" -gt "${stop_stage}" ] && last=${stop_stage}
    [ "${first}" -gt "${last}" ] && return 0
    # the marker is keyed by everything that shapes the work: a changed corpus, option, YAML or
    # stage engine (an upgraded toolkit, e.g. a new default set) is new work (each stage's own
    # record then decides what is really recomputed)
    local key c files=("${dir}/${config}")
    for c in ${configs}; do files+=("${dir}/conf/tuning/train_${c}${suffix}.yaml"); done
    key=$( { echo "$(corpus_of "${lang}")|${local_data_opts}|${run_args}|${train_args}|${ngpu}|$*"
             "${python}" -m espnet_l2dual.bin.resolve_config --digest "${files[@]}" | cut -d' ' -f1
             sha1sum "${dir}/l2dual.sh" "${dir}/run.sh" | cut -d' ' -f1
           } | sha1sum | cut -c1-12)
    local done_file="${dir}/exp/run_all/${marker}.${first}-${last}.${key}.done"
    if [ -f "${done_file}" ]; then log "${dir}: ${marker} stages ${first}-${last} already done (${done_file##*/})"; return 0; fi
    log "${dir}: ${marker} stages ${first}-${last} (config ${config})"
    # shellcheck disable=SC2086
    (cd "${dir}" && ./run.sh --stage "${first}" --stop_stage "${last}" --ngpu "${ngpu}" --nj "${nj}" \
        --inference_nj "${nj}" --corpus "$(corpus_of "${lang}")" --local_data_opts "${local_data_opts}" \
        --train_config "${config}" --train_args "${train_args}" ${run_args} "$@")
    mkdir -p "$(dirname "${done_file}")"
    touch "${done_file}"
}

# wait_model <recipe dir> <pid> <model>: wait for one background model; on failure show its log's end
wait_model() {
    if wait "$2"; then return 0; fi
    log "$1: $3 stages 7-9 failed; last lines of $1/exp/run_all/$3.7-9.log:"
    tail -n 20 "$1/exp/run_all/$3.7-9.log" >&2
    return 1
}

level_es=""; level_ep=""  # the grid level being run (empty outside the grid)
# study_cmd <command> <recipe dir> [options]: the study store's command for this language and level
study_cmd() {
    local cmd=$1 dir=$2; shift 2
    "${python}" -m espnet_l2dual.bin.study "${cmd}" --study "${study_dir}" --recipe "${dir}" --lang "${lang}" \
        --suffix="${suffix}" --eval_set "$(eval_set_of "$(corpus_of "${lang}")")" --train_args="${train_args}" --run_args="${run_args}" \
        --corpus "$(corpus_of "${lang}")" --error_scale="${level_es}" --epochs="${level_ep:-}" "$@"
}
# study_model_opts <config> <seed|none>
study_model_opts() { echo "--config $1 --config_file $2/conf/tuning/train_$1${suffix}.yaml --seed $3"; }
# post_opts <config> <seed|none>: ./run.sh options of a post-training config (empty for others)
post_opts() { "${python}" -m espnet_l2dual.bin.study run_opts --config "$1" --suffix="${suffix}" --seed "$2"; }
# train_model <recipe dir> <config> <seed|none>: stages 7-9 (a post-training config: 3-9, its own
# training set dumped), then (--study) the model's record
train_model() {
    local dir=$1 c=$2 s=$3 post first=7
    post=$(post_opts "${c}" "${s}"); [ -z "${post}" ] || first=3
    # shellcheck disable=SC2046,SC2086
    run_stages "${dir}" "${c}${suffix}$(seed_tag "${s}")" "${first}" 9 "conf/tuning/train_${c}${suffix}.yaml" $(seed_opts "${s}") \
        ${post:+${post} --wait_lock true}
    if [ -n "${study_dir}" ] && [ "${stop_stage}" -ge 9 ]; then
        # shellcheck disable=SC2046
        study_cmd save "${dir}" $(study_model_opts "${c}" "${dir}" "${s}") --command="${run_all_command}"
    fi
}

# record_seed_group <recipe dir> <seed|none>: stage 10 on the models in exp/, then the store's record
# of every seed group it analysed whose models are stored (the group of <seed> among them)
record_seed_group() {
    local dir=$1 s=$2
    [ "${stop_stage}" -ge 10 ] || return 0
    run_stages "${dir}" "analysis${suffix}.$(echo ${configs} | tr ' ' '+').upto$(seed_tag "${s}")" 10 10 \
        "conf/tuning/train_${configs%% *}${suffix}.yaml" --analysis_args "--if_incomplete error"
    # shellcheck disable=SC2046
    study_cmd save_groups "${dir}" $(study_model_opts "${configs%% *}" "${dir}" none) --configs ${configs} --seeds ${seeds}
}

# run_language <lang> [recipe dir]: stages 1-6 once, 7-9 per config, 10 once, 11 per config
run_language() {
    local lang=$1 dir=${2:-"egs2/l2$1/asr1"} c first_config
    first_config="conf/tuning/train_$(echo "${configs}" | awk '{print $1}')${suffix}.yaml"
    SECONDS=0
    run_stages "${dir}" "data" 1 6 "${first_config}"
    local s model failed_models="" i all_in_exp=true
    local -a model_pids=() model_names=()
    for s in ${seed_list}; do
        # a stored model is trained again only when its seed group's analysis is not stored and
        # the model is not in exp/ (the analysis needs the models themselves)
        local group_stored=false
        # shellcheck disable=SC2046
        if [ -n "${study_dir}" ] && study_cmd has_group "${dir}" $(study_model_opts "${configs%% *}" "${dir}" "${s}") \
                --configs ${configs} > /dev/null; then
            group_stored=true
        fi
        for c in ${configs}; do
            model="${c}${suffix}$(seed_tag "${s}")"
            # shellcheck disable=SC2046
            if [ -n "${study_dir}" ] && [ "${stage}" -le 9 ] \
                    && study_cmd has "${dir}" $(study_model_opts "${c}" "${dir}" "${s}") > /dev/null; then
                if [ -f "${dir}/exp/asr_${model}/results.json" ]; then
                    log "${dir}: ${model} is in the study store ${study_dir} (same key) and in exp/: not trained again"
                    continue
                elif ${group_stored}; then
                    log "${dir}: ${model} is in the study store ${study_dir} (same key), and so is its seed group's analysis: not trained again"
                    all_in_exp=false
                    continue
                fi
                log "${dir}: ${model} is in the study store ${study_dir} but not in exp/, and its seed group's" \
                    "analysis is not stored: trained again (same key, same seed) for the analysis"
            fi
            if [ "${config_jobs}" -le 1 ]; then
                train_model "${dir}" "${c}" "${s}"
                continue
            fi
            if [ -n "$(post_opts "${c}" "${s}")" ]; then  # a post-training config starts from a model: wait for it
                for i in "${!model_pids[@]}"; do
                    wait_model "${dir}" "${model_pids[$i]}" "${model_names[$i]}" || failed_models+=" ${model_names[$i]}"
                done
                model_pids=(); model_names=()
            fi
            if [ "${#model_pids[@]}" -ge "${config_jobs}" ]; then  # a free slot: wait for the oldest
                wait_model "${dir}" "${model_pids[0]}" "${model_names[0]}" || failed_models+=" ${model_names[0]}"
                model_pids=("${model_pids[@]:1}"); model_names=("${model_names[@]:1}")
            fi
            mkdir -p "${dir}/exp/run_all"
            log "${dir}: ${model} stages 7-9 in the background, log ${dir}/exp/run_all/${model}.7-9.log"
            train_model "${dir}" "${c}" "${s}" > "${dir}/exp/run_all/${model}.7-9.log" 2>&1 &
            model_pids+=($!); model_names+=("${model}")
        done
        # one model at a time: record this seed's group now, so a run cut short keeps every finished group
        if [ -n "${study_dir}" ] && [ "${config_jobs}" -le 1 ] && ! ${group_stored}; then
            record_seed_group "${dir}" "${s}"
        fi
    done
    for i in "${!model_pids[@]}"; do
        wait_model "${dir}" "${model_pids[$i]}" "${model_names[$i]}" || failed_models+=" ${model_names[$i]}"
    done
    [ -z "${failed_models}" ] || { log "${dir}: stages 7-9 failed for${failed_models}"; return 1; }
    if ! ${all_in_exp}; then  # stage 10 and 11 need the models themselves
        log "${dir}: stages 10-11 skipped: some models came from the study store and are not in exp/" \
            "(their analyses are in the store, or: run_all.sh --study ... --status)"
        log "${dir}: finished in $((SECONDS / 60)) min"
        return 0
    fi
    # the analysis compares the configs (and seeds) that exist: a new list re-runs it
    run_stages "${dir}" "analysis${suffix}.$(echo ${configs} | tr ' ' '+')$(echo ${seeds} | tr ' ' '+' | sed 's/^./.seeds&/')" \
        10 10 "${first_config}" --analysis_args "--if_incomplete error"
    if [ -n "${study_dir}" ] && [ "${stop_stage}" -ge 10 ]; then
        # shellcheck disable=SC2046
        study_cmd save_groups "${dir}" $(study_model_opts "$(echo "${configs}" | awk '{print $1}')" "${dir}" none) \
            --configs ${configs} --seeds ${seeds}
    fi
    for s in ${seed_list}; do
        for c in ${configs}; do
            # shellcheck disable=SC2046
            run_stages "${dir}" "${c}${suffix}$(seed_tag "${s}")" 11 11 "conf/tuning/train_${c}${suffix}.yaml" $(seed_opts "${s}") \
                $(post_opts "${c}" "${s}")
        done
    done
    log "${dir}: finished in $((SECONDS / 60)) min"
}

grid=false; [ -z "${grid_error_scales}${grid_epochs}" ] || grid=true
if ! ${grid} && [ "${stage}" -le 7 ] && [ "${stop_stage}" -ge 7 ]; then  # the projection from measured epochs
    # shellcheck disable=SC2046,SC2086
    "${python}" -m espnet_l2dual.bin.project_wallclock --recipes $(for l in ${langs}; do echo "egs2/l2${l}/asr1"; done) \
        --configs ${configs} --suffix "${suffix}" --seeds ${seeds} --parallel "${parallel}" --config_jobs "${config_jobs}" || true
fi
# make_grid_dir <recipe dir> <level>: a working dir of its own per level, sharing the recipe's scripts
make_grid_dir() {
    local gdir="$1/grid/$2" f
    mkdir -p "${gdir}"
    for f in run.sh conf local cmd.sh db.sh path.sh l2dual.sh scripts utils pyscripts; do
        [ -e "${gdir}/${f}" ] || ln -s "../../${f}" "${gdir}/${f}"
    done
    echo "${gdir}"
}
# run_grid <lang>: every level of the grid, one after another (stage markers make it resumable)
run_grid() {
    local lang=$1 dir="egs2/l2$1/asr1" es ep gdir
    [ "$(corpus_of "${lang}")" = mini ] || { log "--grid_* needs --corpus mini (the knob is the mini corpus's)"; return 1; }
    local base_lopts=${local_data_opts} base_targs=${train_args}
    for es in ${grid_error_scales:-1}; do
        for ep in ${grid_epochs:-config}; do
            gdir=$(make_grid_dir "${dir}" "es${es}_ep${ep}")
            # one corpus per error scale, shared by the budgets
            local_data_opts="${base_lopts} --error_scale ${es} --corpus_dir ${root}/${dir}/data/local/mini_es${es}"
            train_args=${base_targs}; [ "${ep}" = config ] || train_args="${base_targs} --max_epoch ${ep}"
            log "${dir}: grid level es${es}_ep${ep} in ${gdir}"
            level_es=${es}; level_ep=${ep}
            run_language "${lang}" "${gdir}"
        done
    done
    local_data_opts=${base_lopts}; train_args=${base_targs}; level_es=""; level_ep=""
}
for v in ${grid_error_scales}; do [[ "${v}" =~ ^[0-9]+(\.[0-9]+)?$ ]] || { log "--grid_error_scales: '${v}' is not a number >= 0"; exit 1; }; done
for v in ${grid_epochs}; do [[ "${v}" =~ ^[1-9][0-9]*$ ]] || { log "--grid_epochs: '${v}' is not an integer >= 1"; exit 1; }; done

recipes=()
pids=()
for lang in ${langs}; do
    dir="egs2/l2${lang}/asr1"
    [ -d "${dir}" ] || { log "no recipe ${dir} for language ${lang}"; exit 1; }
    for c in ${configs}; do
        [ -f "${dir}/conf/tuning/train_${c}${suffix}.yaml" ] || { log "missing ${dir}/conf/tuning/train_${c}${suffix}.yaml"; exit 1; }
    done
    recipes+=("${dir}")
    if ${parallel}; then
        mkdir -p "${dir}/exp/run_all"
        log "${dir}: started in the background, log ${dir}/exp/run_all/run_all.log"
        if ${grid}; then run_grid "${lang}"; else run_language "${lang}"; fi > "${dir}/exp/run_all/run_all.log" 2>&1 &
        pids+=($!)
    elif ${grid}; then
        run_grid "${lang}"
    else
        run_language "${lang}"
    fi
done
failed=0
for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then
        log "${recipes[$i]} failed; last lines of ${recipes[$i]}/exp/run_all/run_all.log:"
        tail -n 20 "${recipes[$i]}/exp/run_all/run_all.log" >&2
        failed=1
    fi
done
[ "${failed}" = 0 ] || exit 1

if [ "${stop_stage}" -lt 9 ]; then log "no cross-language report: it needs stage 9 (--stop_stage ${stop_stage})"; exit 0; fi
if [ -n "${study_dir}" ]; then
    for lang in ${langs}; do  # each recipe's RESULTS.md, from the store
        "${python}" -m espnet_l2dual.bin.study results_md --study "${study_dir}" --lang "${lang}" \
            --out "egs2/l2${lang}/asr1/RESULTS.md"
    done
fi
if ${grid}; then
    log "grid report -> ${report_dir}"
    grid_source=(--recipes "${recipes[@]}"); [ -z "${study_dir}" ] || grid_source=(--study "${study_dir}")
    # shellcheck disable=SC2086
    "${python}" -m espnet_l2dual.bin.grid_report "${grid_source[@]}" --suffix "${suffix}" --out_dir "${report_dir}" \
        --test_set "${eval_set}" ${seeds:+--seeds ${seeds}}
    cat "${report_dir}/GRID.md"
    exit 0
fi
report_opts=()  # without stage 10 the report has no entanglement section, and says so
[ "${stop_stage}" -ge 10 ] || report_opts+=(--without_analysis)
log "cross-language report -> ${report_dir}"
# fails, naming every missing results.json / analysis.json, rather than write a partial report
# shellcheck disable=SC2086
[ -z "${seeds}" ] || report_opts+=(--seeds ${seeds})
report_source=(--recipes "${recipes[@]}"); [ -z "${study_dir}" ] || report_source=(--study "${study_dir}" --langs ${langs})
"${python}" -m espnet_l2dual.bin.make_report "${report_source[@]}" --configs ${configs} \
    --suffix "${suffix}" --test_set "${eval_set}" --out_dir "${report_dir}" "${report_opts[@]}"
cat "${report_dir}/REPORT.md"
# the same summary as a page, with every utterance of the report set (audio, edits); with seeds, the first seed's models
html_suffix=${suffix}; [ -z "${seeds}" ] || html_suffix="${suffix}_seed${seeds%% *}"
# shellcheck disable=SC2086
"${python}" -m espnet_l2dual.bin.html_report --recipes "${recipes[@]}" --configs ${configs} \
    --suffix "${html_suffix}" --summary_md "${report_dir}/REPORT.md" --out "${report_dir}/report.html" \
    || { [ -n "${study_dir}" ] || exit 1
         log "no per-utterance page: it needs the models' decode dirs and the audio in exp/ and dump/" \
             "(models taken from the study store are not there)"; exit 0; }
log "open ${report_dir}/report.html in a browser (works from file://)"
