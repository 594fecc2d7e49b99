#!/usr/bin/env bash
# Stage 1 of this recipe: data/{train,dev,test} (mini: and eval) from --corpus mini|dual|l2arctic|speechocean762|manifest (default mini).
# The adapters are shared by all recipes: scripts/corpus_data.sh --help lists their options.
set -euo pipefail
exec scripts/corpus_data.sh --lang en "$@"
