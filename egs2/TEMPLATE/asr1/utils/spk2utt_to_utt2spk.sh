#!/usr/bin/env bash
# spk2utt -> utt2spk: spk2utt_to_utt2spk.sh [spk2utt] > utt2spk (stdin by default)
# Thin wrapper: the logic (and --help) is in python -m espnet_l2dual.data.spk_maps.
set -euo pipefail
# ${python} and the package of this checkout (tools/python.sh), from any directory.
# shellcheck disable=SC1091
. "$(dirname "$(readlink -f "$0")")/../../../../tools/python.sh"
exec "${python}" -m espnet_l2dual.data.spk_maps spk2utt_to_utt2spk "$@"
