#!/usr/bin/env bash
# Stage 1 corpus adapters shared by every recipe (each recipe's local/data.sh calls this
# with its --lang): data/{train,dev,test} from the corpus chosen with --corpus (mini also
# data/eval, the held-out evaluation set; test is then the tuning set).
# Each adapter is one Python call; run.sh passes options through --local_data_opts, e.g.
#   ./run.sh --stage 1 --stop_stage 1 --corpus manifest --local_data_opts "--manifest x.tsv"
set -euo pipefail

log() { echo "$(date '+%Y-%m-%dT%H:%M:%S') (local/data.sh) $*" >&2; }

lang=""
corpus=mini
nj=$(nproc)
seed=""              # these: empty = the default of the corpus's tool (see its --help)
num_train=""
num_dev=""
num_test=""
error_scale=""
eval_speakers=""
eval_utts_per_speaker=""
twins=false
train_twins=false
corpus_dir=""
trn=""
speaker_pattern=""
unknown_tags=error
split_lists=""
manifest=""
dev_speakers=""
test_speakers=""
skip_bad=false
dev_fraction=0.1
help_message="Usage: $0 --lang ko|en [--corpus mini|dual|l2arctic|speechocean762|manifest] [options]
  --corpus mini      synthetic espeak-ng corpus (--num_train/--num_dev/--num_test N, --seed S, --nj N, --error_scale F,
                     --corpus_dir DIR where it is made) and its held-out eval set (--eval_speakers N
                     --eval_utts_per_speaker N), with --twins true also data/eval_twins (learner-error
                     twins of eval), with --train_twins true data/train_twins (the same for train: training
                     pairs of twin-contrastive methods); see scripts/mini_data.sh --help
  --corpus dual      .trn lists '<audio path> :: <(meaning)/(surface) transcript>'
                     --corpus_dir DIR  audio root (default \$KSPON for ko, \$L2EN_DUAL for en, of db.sh)
                     --trn \"A.trn B.trn\" (default: DIR/*.trn)  --speaker_pattern REGEX
                     --split_lists train=F,dev=F,test=F  or  --dev_speakers N --test_speakers N --seed S
                     --unknown_tags error|drop|word  a tag outside b/ l/ o/ n/ u/: refused (default), dropped, or kept as a word
  --corpus l2arctic  (en only) L2-ARCTIC annotations: --corpus_dir DIR (default \$L2ARCTIC of db.sh)
                     --dev_speakers \"SPK ...\" --test_speakers \"SPK ...\" --skip_bad true|false
  --corpus speechocean762  (en only) the official release (WAVE/ train/ test/ resource/):
                     --corpus_dir DIR (default \$SPEECHOCEAN762 of db.sh); test = official test,
                     dev = --dev_fraction F (default 0.1) of the training speakers, chosen by --seed S
  --corpus manifest  TSV utt_id wav speaker surface meaning [split]: --manifest F (default \$MANIFEST)
                     --dev_speakers N --test_speakers N --seed S (when the TSV has no split column)
  Details: python -m espnet_l2dual.bin.prepare_{dual,l2arctic,speechocean762,manifest} --help"

. utils/parse_options.sh
. ./path.sh
. ./db.sh
case "${lang}" in
    ko) dual_root=${KSPON}; dual_var=KSPON ;;
    en) dual_root=${L2EN_DUAL}; dual_var=L2EN_DUAL ;;
    *) log "--lang must be ko or en, got '${lang}'"; exit 1 ;;
esac

# english_root <corpus> <db.sh variable>: the root of an English-only corpus (--corpus_dir or db.sh)
english_root() {
    if [ "${lang}" != en ]; then
        log "$1 is an English corpus: prepare it in egs2/l2en/asr1 (this recipe is ${lang})"
        exit 1
    fi
    local dir=${corpus_dir:-${!2}}
    [ -d "${dir}" ] || { log "corpus root '${dir}' not found: set $2 in db.sh or pass --corpus_dir"; exit 1; }
    echo "${dir}"
}

seed_opt=()  # only when given: each tool has its own default
if [ -n "${seed}" ]; then seed_opt=(--seed "${seed}"); fi
split_opts=()  # seeded speaker split of dual/manifest, or speaker lists of l2arctic
if [ -n "${dev_speakers}" ]; then split_opts+=(--dev_speakers "${dev_speakers}"); fi
if [ -n "${test_speakers}" ]; then split_opts+=(--test_speakers "${test_speakers}"); fi

case "${corpus}" in
    mini)
        scripts/mini_data.sh --lang "${lang}" --nj "${nj}" "${seed_opt[@]}" \
            ${corpus_dir:+--corpus_dir "${corpus_dir}"} \
            ${num_train:+--num_train "${num_train}"} ${num_dev:+--num_dev "${num_dev}"} \
            ${num_test:+--num_test "${num_test}"} ${error_scale:+--error_scale "${error_scale}"} \
            ${eval_speakers:+--eval_speakers "${eval_speakers}"} \
            ${eval_utts_per_speaker:+--eval_utts_per_speaker "${eval_utts_per_speaker}"} --twins "${twins}" \
            --train_twins "${train_twins}" ;;
    dual)
        root=${corpus_dir:-${dual_root}}
        [ -d "${root}" ] || { log "corpus root '${root}' not found: set ${dual_var} in db.sh or pass --corpus_dir"; exit 1; }
        read -r -a trns <<< "${trn:-$(echo "${root}"/*.trn)}"
        trn_opts=()
        for f in "${trns[@]}"; do trn_opts+=(--trn "${f}"); done
        log "dual corpus (${lang}): audio ${root}, lists ${trns[*]}"
        "${python}" -m espnet_l2dual.bin.prepare_dual --lang "${lang}" --audio_root "${root}" --out data \
            "${trn_opts[@]}" ${speaker_pattern:+--speaker_pattern "${speaker_pattern}"} \
            ${split_lists:+--split_lists "${split_lists}"} "${split_opts[@]}" "${seed_opt[@]}" \
            --unknown_tags "${unknown_tags}" ;;
    l2arctic)
        root=$(english_root L2-ARCTIC L2ARCTIC)
        log "L2-ARCTIC corpus: ${root}"
        skip_opt=(); if "${skip_bad}"; then skip_opt=(--skip_bad); fi
        "${python}" -m espnet_l2dual.bin.prepare_l2arctic --root "${root}" --out data "${split_opts[@]}" "${skip_opt[@]}" ;;
    speechocean762)
        root=$(english_root speechocean762 SPEECHOCEAN762)
        log "speechocean762 corpus: ${root}"
        "${python}" -m espnet_l2dual.bin.prepare_speechocean762 --root "${root}" --out data \
            --dev_fraction "${dev_fraction}" "${seed_opt[@]}" ;;
    manifest)
        manifest=${manifest:-${MANIFEST}}
        [ -n "${manifest}" ] || { log "--corpus manifest needs --manifest FILE (or MANIFEST in db.sh)"; exit 1; }
        log "manifest corpus (${lang}): ${manifest}"
        "${python}" -m espnet_l2dual.bin.prepare_manifest --lang "${lang}" --manifest "${manifest}" --out data \
            "${split_opts[@]}" "${seed_opt[@]}" ;;
    *)
        log "unknown corpus '${corpus}' (expected mini, dual, l2arctic, speechocean762 or manifest)"
        exit 1 ;;
esac
