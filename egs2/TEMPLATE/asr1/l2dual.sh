#!/usr/bin/env bash
# The stage engine shared by every recipe (egs2/<corpus>/asr1/run.sh calls it).
# Each stage: a log line, a guard that skips finished work, a Python call that does the job.
set -euo pipefail

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
ngpu=0                  # 0: CPU
num_nodes=1             # multi-node training (ESPnet's own launcher)
python=python3          # python of tools/venv (path.sh puts it first on PATH)

lang=""                 # ko | en (required)
corpus=mini             # local/data.sh --corpus
local_data_opts=""      # extra options for local/data.sh
train_set=train
valid_set=dev
test_sets="test"

speed_perturb_factors=""  # e.g. "0.9 1.0 1.1"
fs=16000
audio_format=wav        # wav | flac | wav.ark | flac.ark
min_wav_duration=0.1    # seconds
max_wav_duration=20     # seconds
max_tokens=500          # characters per transcription (stage 4 filter)
divergence_unit=auto    # auto | char | jamo | token

surface_token_type=""   # bpe | char | jamo | word (default by language)
meaning_token_type=""
nbpe_surface=100
nbpe_meaning=100
bpemode=unigram         # unigram | bpe
token_list_dir=data/token_list

train_config=""         # conf/tuning/train_*.yaml
tag=""                  # default: asr_<train_config name without train_>
train_args=""           # extra options for the trainer
stats_dir=""            # default: exp/stats_raw

inference_model=valid.loss.ave.pth
inference_tag=""        # default: decode_beam<beam>_ctc<ctc>
beam_size=5
ctc_weight=0.3
penalty=0.0
maxlenratio=0.0
inference_args=""       # extra options for the decoder (per-output overrides ...)
score_bins="0,0.1,0.2,1"
analysis_args=""

help_message=$(cat <<EOF
Usage: $0 --lang ko|en --train_config conf/tuning/train_mtl_tiny.yaml [options]

Stages (DESIGN.md):
   1 data preparation (local/data.sh)       7 train one config (MTL or STL)
   2 speed perturbation (optional)          8 decode both outputs
   3 format audio into dump/raw             9 score: CER/WER per output, by divergence
   4 filter + divergence                   10 analysis across the configs in exp/
   5 tokenizers per output                 11 pack the model
   6 collect stats

Options (default):
  --stage (${stage}) --stop_stage (${stop_stage}) --nj (${nj}) --inference_nj (${inference_nj})
  --ngpu (${ngpu}) --num_nodes (${num_nodes})
  --lang (required) --corpus (${corpus}) --local_data_opts ("${local_data_opts}")
  --train_set (${train_set}) --valid_set (${valid_set}) --test_sets ("${test_sets}")
  --speed_perturb_factors ("${speed_perturb_factors}") --fs (${fs}) --audio_format (${audio_format})
  --min_wav_duration (${min_wav_duration}) --max_wav_duration (${max_wav_duration}) --max_tokens (${max_tokens})
  --divergence_unit (${divergence_unit})
  --surface_token_type / --meaning_token_type (bpe|char|jamo|word; ko: jamo jamo, en: char bpe)
  --nbpe_surface (${nbpe_surface}) --nbpe_meaning (${nbpe_meaning}) --bpemode (${bpemode})
  --train_config (required from stage 6) --tag --train_args --stats_dir
  --inference_model (${inference_model}) --inference_tag --beam_size (${beam_size})
  --ctc_weight (${ctc_weight}) --penalty (${penalty}) --maxlenratio (${maxlenratio}) --inference_args
  --score_bins (${score_bins}) --analysis_args
EOF
)

log "$0 $*"
. ./path.sh
. ./cmd.sh
. utils/parse_options.sh
[ $# -ne 0 ] && { log "unexpected arguments: $*"; echo "${help_message}" >&2; exit 1; }
[ -z "${lang}" ] && { log "--lang is required (ko|en)"; exit 1; }

# ---- derived settings ----------------------------------------------------------------
case "${lang}" in
    ko) : "${surface_token_type:=jamo}"; : "${meaning_token_type:=jamo}" ;;
    en) : "${surface_token_type:=char}"; : "${meaning_token_type:=bpe}" ;;
    *) log "--lang must be ko or en, got '${lang}'"; exit 1 ;;
esac
if [ -n "${speed_perturb_factors}" ]; then train_set_used="${train_set}_sp"; else train_set_used="${train_set}"; fi
data_feats=dump/raw
: "${stats_dir:=exp/stats_raw}"
if [ -n "${train_config}" ]; then
    config_name=$(basename "${train_config}" .yaml)
    : "${tag:=asr_${config_name#train_}}"
fi
exp_dir="exp/${tag:-none}"
: "${inference_tag:=decode_beam${beam_size}_ctc${ctc_weight}}"
outputs="surface meaning"
# ESPnet reads per-utterance files as `sound`, soundfile-written arks as `kaldi_ark`.
if [[ "${audio_format}" == *ark ]]; then speech_type=kaldi_ark; else speech_type=sound; fi

validate() { ${python} -m espnet_l2dual.bin.validate_data_dir "$@"; }

# token options for the task (type, list, bpe model) of one output
token_args() {
    local o=$1 ttype; ttype=$(eval echo "\${${o}_token_type}")
    echo "--${o}_token_type ${ttype} --${o}_token_list ${token_list_dir}/${o}/tokens.txt"
    [ "${ttype}" = bpe ] && echo "--${o}_bpemodel ${token_list_dir}/${o}/bpe.model"
    return 0
}

# outputs a config trains: model_conf.tasks of the YAML
config_tasks() {
    ${python} -c "import sys, yaml; c = yaml.safe_load(open(sys.argv[1])); print(' '.join(c.get('model_conf', {}).get('tasks', ['surface', 'meaning'])))" "$1"
}

need_config() { [ -n "${train_config}" ] || { log "--train_config is required for stage $1"; exit 1; }; }

# ---- 1: data preparation -------------------------------------------------------------
if [ "${stage}" -le 1 ] && [ "${stop_stage}" -ge 1 ]; then
    log "Stage 1: data preparation (corpus=${corpus}) -> data/{${train_set},${valid_set},${test_sets// /,}}"
    # shellcheck disable=SC2086
    local/data.sh --corpus "${corpus}" --nj "${nj}" ${local_data_opts}
    for dset in ${train_set} ${valid_set} ${test_sets}; do validate "data/${dset}"; done
fi

# ---- 2: speed perturbation -----------------------------------------------------------
if [ "${stage}" -le 2 ] && [ "${stop_stage}" -ge 2 ]; then
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
    for dset in ${train_set_used} ${valid_set} ${test_sets}; do
        out="${data_feats}/org/${dset}"
        if [ "${out}/.done" -nt "data/${dset}/wav.scp" ]; then log "Stage 3: ${out} done, skipping"; continue; fi
        log "Stage 3: format audio data/${dset} -> ${out} (fs=${fs}, ${audio_format}, nj=${nj})"
        validate "data/${dset}"
        mkdir -p "${out}/logs"
        _nj=$(min "${nj}" "$(wc -l < "data/${dset}/wav.scp")")
        split_scp.sh "data/${dset}/wav.scp" $(for n in $(seq "${_nj}"); do echo "${out}/logs/wav.${n}.scp"; done)
        ${train_cmd} --max_jobs_run "${nj}" JOB=1:"${_nj}" "${out}/logs/format.JOB.log" \
            ${python} -m espnet_l2dual.bin.format_wav_scp --fs "${fs}" --audio_format "${audio_format}" \
                "${out}/logs/wav.JOB.scp" "${out}/format.JOB"
        ${python} -m espnet_l2dual.bin.merge_format_jobs --nj "${_nj}" --src_data "data/${dset}" "${out}"
        validate "${out}"
        touch "${out}/.done"
    done
fi

# ---- 4: filter + divergence ----------------------------------------------------------
if [ "${stage}" -le 4 ] && [ "${stop_stage}" -ge 4 ]; then
    for dset in ${train_set_used} ${valid_set} ${test_sets}; do
        src="${data_feats}/org/${dset}"; dst="${data_feats}/${dset}"
        log "Stage 4: ${src} -> ${dst} (filter, divergence)"
        validate "${src}"
        if [ "${dset}" = "${train_set_used}" ] || [ "${dset}" = "${valid_set}" ]; then
            ${python} -m espnet_l2dual.bin.filter_data_dir --fs "${fs}" \
                --min_wav_duration "${min_wav_duration}" --max_wav_duration "${max_wav_duration}" \
                --max_tokens "${max_tokens}" "${src}" "${dst}"
        else  # test sets are never filtered (ESPnet convention)
            ${python} -m espnet_l2dual.bin.filter_data_dir --fs "${fs}" \
                --min_wav_duration 0 --max_wav_duration 1e9 --max_tokens 1000000000 "${src}" "${dst}"
        fi
        ${python} -m espnet_l2dual.bin.compute_divergence --lang "${lang}" --unit "${divergence_unit}" "${dst}"
        validate "${dst}"
    done
fi

# ---- 5: tokenizers -------------------------------------------------------------------
if [ "${stage}" -le 5 ] && [ "${stop_stage}" -ge 5 ]; then
    for o in ${outputs}; do
        ttype=$(eval echo "\${${o}_token_type}"); nbpe=$(eval echo "\${nbpe_${o}}")
        dir="${token_list_dir}/${o}"
        log "Stage 5: ${o} tokenizer (${ttype}) -> ${dir}"
        ${python} -m espnet_l2dual.bin.make_tokenizer --token_type "${ttype}" --nbpe "${nbpe}" \
            --bpemode "${bpemode}" --text "${data_feats}/${train_set_used}/text_${o}" --out_dir "${dir}"
    done
fi

# ---- 6: collect stats ----------------------------------------------------------------
if [ "${stage}" -le 6 ] && [ "${stop_stage}" -ge 6 ]; then
    need_config 6
    if [ "${stats_dir}/.done" -nt "${data_feats}/${train_set_used}/wav.scp" ]; then
        log "Stage 6: ${stats_dir} done, skipping"
    else
        log "Stage 6: collect stats -> ${stats_dir} (nj=${nj})"
        logdir="${stats_dir}/logdir"; mkdir -p "${logdir}"
        _nj=$(min "${nj}" "$(wc -l < "${data_feats}/${valid_set}/wav.scp")")
        for dset in ${train_set_used} ${valid_set}; do
            split_scp.sh "${data_feats}/${dset}/wav.scp" $(for n in $(seq "${_nj}"); do echo "${logdir}/${dset}.${n}.scp"; done)
        done
        # Stats are shared by every config of this recipe: both outputs, no normalisation.
        # shellcheck disable=SC2046
        ${train_cmd} --max_jobs_run "${nj}" JOB=1:"${_nj}" "${logdir}/stats.JOB.log" \
            ${python} -m espnet_l2dual.bin.l2dual_train --collect_stats true --use_preprocessor true \
                --config "${train_config}" --normalize none --ngpu 0 --num_workers 0 \
                --model_conf "tasks=[surface,meaning]" \
                $(token_args surface) $(token_args meaning) \
                --train_data_path_and_name_and_type "${data_feats}/${train_set_used}/wav.scp,speech,${speech_type}" \
                --train_data_path_and_name_and_type "${data_feats}/${train_set_used}/text_surface,text_surface,text" \
                --train_data_path_and_name_and_type "${data_feats}/${train_set_used}/text_meaning,text_meaning,text" \
                --valid_data_path_and_name_and_type "${data_feats}/${valid_set}/wav.scp,speech,${speech_type}" \
                --valid_data_path_and_name_and_type "${data_feats}/${valid_set}/text_surface,text_surface,text" \
                --valid_data_path_and_name_and_type "${data_feats}/${valid_set}/text_meaning,text_meaning,text" \
                --train_shape_file "${logdir}/${train_set_used}.JOB.scp" \
                --valid_shape_file "${logdir}/${valid_set}.JOB.scp" \
                --output_dir "${logdir}/stats.JOB"
        ${python} -m espnet2.bin.aggregate_stats_dirs \
            $(for n in $(seq "${_nj}"); do echo "--input_dir ${logdir}/stats.${n}"; done) --output_dir "${stats_dir}"
        # Text shapes carry the vocabulary size as a second dimension (ESPnet convention).
        for o in ${outputs}; do
            v=$(wc -l < "${token_list_dir}/${o}/tokens.txt")
            for d in train valid; do
                awk -v N="${v}" '{ print $0 "," N }' "${stats_dir}/${d}/text_${o}_shape" \
                    > "${stats_dir}/${d}/text_${o}_shape.tok"
            done
        done
        touch "${stats_dir}/.done"
    fi
fi

# ---- 7: train ------------------------------------------------------------------------
if [ "${stage}" -le 7 ] && [ "${stop_stage}" -ge 7 ]; then
    need_config 7
    tasks=$(config_tasks "${train_config}")
    log "Stage 7: train ${train_config} (tasks: ${tasks}) -> ${exp_dir}"
    mkdir -p "${exp_dir}/logs"
    data_args="--train_data_path_and_name_and_type ${data_feats}/${train_set_used}/wav.scp,speech,${speech_type}"
    data_args+=" --valid_data_path_and_name_and_type ${data_feats}/${valid_set}/wav.scp,speech,${speech_type}"
    data_args+=" --train_shape_file ${stats_dir}/train/speech_shape --valid_shape_file ${stats_dir}/valid/speech_shape"
    for o in ${tasks}; do
        data_args+=" --train_data_path_and_name_and_type ${data_feats}/${train_set_used}/text_${o},text_${o},text"
        data_args+=" --valid_data_path_and_name_and_type ${data_feats}/${valid_set}/text_${o},text_${o},text"
        data_args+=" --train_shape_file ${stats_dir}/train/text_${o}_shape.tok"
        data_args+=" --valid_shape_file ${stats_dir}/valid/text_${o}_shape.tok"
        data_args+=" $(token_args "${o}" | tr '\n' ' ')"
    done
    # ESPnet's launcher: one local/Slurm job on one node, or --num_nodes N with DDP.
    # shellcheck disable=SC2086
    ${python} -m espnet2.bin.launch --cmd "${cuda_cmd}" --log "${exp_dir}/logs/train.log" \
        --ngpu "${ngpu}" --num_nodes "${num_nodes}" --init_file_prefix "${exp_dir}/.dist_init_" \
        --multiprocessing_distributed true -- \
        ${python} -m espnet_l2dual.bin.l2dual_train --config "${train_config}" --use_preprocessor true \
            --normalize_conf "stats_file=${stats_dir}/train/feats_stats.npz" \
            --resume true --output_dir "${exp_dir}" ${data_args} ${train_args}
    log "Stage 7: done; log ${exp_dir}/logs/train.log, plots ${exp_dir}/images/"
fi

# ---- 8: decode -----------------------------------------------------------------------
if [ "${stage}" -le 8 ] && [ "${stop_stage}" -ge 8 ]; then
    need_config 8
    for dset in ${test_sets}; do
        out="${exp_dir}/${inference_tag}/${dset}"; logdir="${out}/logdir"
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
                --beam_size "${beam_size}" --ctc_weight "${ctc_weight}" --penalty "${penalty}" \
                --maxlenratio "${maxlenratio}" --output_dir "${logdir}/output.JOB" ${inference_args}
        for o in $(config_tasks "${exp_dir}/config.yaml"); do
            mkdir -p "${out}/${o}"
            for f in text token score; do
                for n in $(seq "${_nj}"); do cat "${logdir}/output.${n}/${o}/${f}"; done \
                    | LC_ALL=C sort -k1,1 > "${out}/${o}/${f}.tmp"
                mv "${out}/${o}/${f}.tmp" "${out}/${o}/${f}"
            done
        done
    done
fi

# ---- 9: score ------------------------------------------------------------------------
if [ "${stage}" -le 9 ] && [ "${stop_stage}" -ge 9 ]; then
    need_config 9
    log "Stage 9: score ${exp_dir}/${inference_tag} -> ${exp_dir}/RESULTS.md"
    unit_args=""
    [ "${surface_token_type}" = word ] && unit_args+=" --unit_surface token"
    [ "${meaning_token_type}" = word ] && unit_args+=" --unit_meaning token"
    # shellcheck disable=SC2086
    ${python} -m espnet_l2dual.bin.score --lang "${lang}" --decode_dir "${exp_dir}/${inference_tag}" \
        --data_root "${data_feats}" --sets "${test_sets}" --outputs "$(config_tasks "${exp_dir}/config.yaml")" \
        --bins "${score_bins}" ${unit_args} \
        --results_md "${exp_dir}/RESULTS.md" --results_json "${exp_dir}/results.json"
    cat "${exp_dir}/RESULTS.md"
fi

# ---- 10: analysis --------------------------------------------------------------------
if [ "${stage}" -le 10 ] && [ "${stop_stage}" -ge 10 ]; then
    log "Stage 10: analysis of the configs in exp/ -> exp/analysis"
    # shellcheck disable=SC2086
    ${python} -m espnet_l2dual.bin.analyze --lang "${lang}" --exp_dir exp --data_root "${data_feats}" \
        --test_set "${test_sets%% *}" --train_set "${train_set_used}" --inference_tag "${inference_tag}" \
        --out_dir exp/analysis --if_incomplete skip ${analysis_args}
fi

# ---- 11: pack ------------------------------------------------------------------------
if [ "${stage}" -le 11 ] && [ "${stop_stage}" -ge 11 ]; then
    need_config 11
    log "Stage 11: pack ${exp_dir} -> ${exp_dir}/packed.zip"
    ${python} -m espnet_l2dual.bin.pack_model --train_config "${exp_dir}/config.yaml" \
        --model_file "${exp_dir}/${inference_model}" --out "${exp_dir}/packed.zip"
fi

log "Successfully finished stages ${stage}-${stop_stage}"
