#!/usr/bin/env bash
# The synthetic `mini` corpus as data/{train,dev,test,eval}: generated (or finished, if a run was
# killed) under --corpus_dir, then its data-dir files copied; the audio stays in corpus_dir/wav.
# test is the tuning set; eval (new sentences, unseen voices) is for final numbers.
# Called by local/data.sh of each recipe; only --lang differs between recipes.
set -euo pipefail

log() { echo "$(date '+%Y-%m-%dT%H:%M:%S') (mini_data.sh) $*" >&2; }

lang=
corpus_dir=data/local/mini
data_dir=data
nj=$(nproc)
seed=""                   # these: empty = make_mini_corpus's default
num_train=""
num_dev=""
num_test=""
error_scale=""
eval_speakers=""
eval_utts_per_speaker=""
twins=false
train_twins=false
help_message="Usage: $0 --lang ko|en [options]
  --lang LANG          ko or en (required)
  --corpus_dir DIR     where the corpus and its audio are made (default ${corpus_dir})
  --data_dir DIR       where train/dev/test/eval data dirs go (default ${data_dir})
  --nj N               parallel synthesis jobs (default: nproc = ${nj})
  --seed S             random seed (default: make_mini_corpus's, see its --help); a new seed needs a new
                       --corpus_dir
  --num_train N --num_dev N --num_test N   utterances per set (default: make_mini_corpus's, see its --help);
                       test is the tuning set
  --eval_speakers N --eval_utts_per_speaker N   the held-out eval set: N speakers with voices no other set
                       has, N utterances each, sentences no other set holds (default: make_mini_corpus's,
                       see its --help)
  --error_scale F      every learner error rate times F (0: none; default: make_mini_corpus's, see its --help);
                       same sentences and voices; a new scale needs a new --corpus_dir (the controlled-divergence
                       grid)
  --twins true|false   also make data/eval_twins (default ${twins}): each eval utterance with learner errors,
                       its canonical twin (same sentence and voice, no learner error) and one twin per
                       error; utt2twin maps each to its original. The recipe decodes and scores it with the test
                       sets, and stage 10 reports how each model treats its errors (error following)
  --train_twins true|false   also make data/train_twins (default ${train_twins}): the same twins of the train
                       utterances, training pairs for task_projection: twin_subspace (eval is never used)"

. utils/parse_options.sh
# ${python}: tools/venv's python and this checkout's package (tools/python.sh)
# shellcheck disable=SC1091
. "$(dirname "$(readlink -f "$0")")/../../../../tools/python.sh"
[ $# -eq 0 ] || { echo "${help_message}" >&2; exit 1; }
[ -n "${lang}" ] || { log "--lang is required"; echo "${help_message}" >&2; exit 1; }

corpus_opts=()  # only what was given: the defaults live in make_mini_corpus (espnet_l2dual.corpus.mini)
for name in seed num_train num_dev num_test error_scale eval_speakers eval_utts_per_speaker; do
    if [ -n "${!name}" ]; then corpus_opts+=("--${name}" "${!name}"); fi
done
sets=(train dev test eval)
case "${twins}" in
    true) corpus_opts+=(--twins); sets+=(eval_twins) ;;
    false) ;;
    *) log "--twins must be true or false, got '${twins}'"; exit 1 ;;
esac
case "${train_twins}" in
    true) corpus_opts+=(--train_twins); sets+=(train_twins) ;;
    false) ;;
    *) log "--train_twins must be true or false, got '${train_twins}'"; exit 1 ;;
esac
log "making the ${lang} mini corpus in ${corpus_dir} (seed ${seed:-default}, error scale ${error_scale:-default}, ${num_train:-default}/${num_dev:-default}/${num_test:-default} utterances, eval ${eval_speakers:-default} speakers x ${eval_utts_per_speaker:-default}, twins ${twins}, nj ${nj})"
"${python}" -m espnet_l2dual.bin.make_mini_corpus --lang "${lang}" --out "${corpus_dir}" --nj "${nj}" "${corpus_opts[@]}"

for dset in "${sets[@]}"; do
    mkdir -p "${data_dir}"
    tmp=$(mktemp -d "${data_dir}/.${dset}.XXXXXX.tmp")  # a name of its own: concurrent runs never share it
    cp "${corpus_dir}/${dset}"/* "${tmp}/"
    rm -rf "${data_dir:?}/${dset}"
    mv "${tmp}" "${data_dir}/${dset}"
    log "${data_dir}/${dset}: $(wc -l < "${data_dir}/${dset}/wav.scp") utterances"
done
