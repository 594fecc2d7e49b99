#!/usr/bin/env bash
# The one set-up: tools/venv with the tested default ESPnet stack (or, with --espnet, the
# newest tested stack in its own venv), this package (editable), and the Debian tools the
# recipes call (espeak-ng, sclite, sox). Idempotent: a second run checks a stamp and the
# binaries and returns in seconds.
set -euo pipefail

log() { echo "$(date '+%Y-%m-%dT%H:%M:%S') (install.sh) $*" >&2; }

help_message="Usage: tools/install.sh [--espnet 202511|202611] [--python python3.11] [--force]
  --espnet V   the ESPnet stack (default: \${L2DUAL_ESPNET}, else 202511):
                 202511  torch 2.9.1, torchaudio 2.9.1, transformers 4.57.3 in tools/venv
                 202611  torch 2.14.1, torchaudio 2.11.1, transformers 5.25.0 in
                         tools/venv-espnet202611 (select it with L2DUAL_ESPNET=202611, see
                         tools/python.sh). ESPnet 202611 declares Python >= 3.12; on 3.11 its
                         dependencies are installed first, then the espnet wheel with
                         --no-deps --ignore-requires-python (its wheels import on 3.11).
  --python PY  the interpreter that creates the venv (default python3.11); afterwards every
               script runs the venv's python, \${python} of tools/python.sh
  Installs the stack and friends, plus espnet_l2dual in editable mode; installs Debian
  espeak-ng sctk sox as root (otherwise prints the apt-get line), and the optional chromium,
  slurm-wlm and munge (their tests are skipped without them). Safe to re-run."

base_python=python3.11  # --python: creates the venv; ${python} is the venv's (tools/python.sh)
espnet_version="${L2DUAL_ESPNET:-202511}"  # --espnet: which tested stack (default: as tools/python.sh)
force=false
while [ $# -gt 0 ]; do
    case "$1" in
        --python) base_python="$2"; shift 2 ;;
        --espnet) espnet_version="$2"; shift 2 ;;
        --force) force=true; shift ;;
        -h|--help) echo "${help_message}"; exit 0 ;;
        *) echo "install.sh: unknown option $1" >&2; echo "${help_message}" >&2; exit 1 ;;
    esac
done

tools_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root_dir="$(dirname "${tools_dir}")"

# Tested stacks: torch and torchaudio must be a matching pair (espnet2 imports torchaudio).
common=(
    "sentencepiece"
    "kaldiio"
    "jiwer"
    "python-Levenshtein"
    "jamo"
    "soundfile"
    "scipy"
    "editdistance"
    "matplotlib"
    "tensorboard"
    "jinja2"
    "markdown"
    "pytest"
    "pytest-xdist"
)
case "${espnet_version}" in
    202511)
        venv="${tools_dir}/venv"
        stack=("torch==2.9.1" "torchaudio==2.9.1" "transformers==4.57.3")  # 4.57 pairs with torch 2.9
        # espnet's own dependencies come with it (pip resolves them)
        espnet_deps=()
        ;;
    202611)
        venv="${tools_dir}/venv-espnet${espnet_version}"
        stack=("torch==2.14.1" "torchaudio==2.11.1" "transformers==5.25.0")
        # espnet 202611's core requirements (its wheel metadata) without espnet-model-zoo (only
        # for hub downloads; on Python 3.11 it pulls in espnet 202205), plus what its ASR and
        # training code imports from the asr/train extras
        espnet_deps=(
            "setuptools>=77.0.3,<82" "configargparse>=1.2.1" "packaging" "typeguard"
            "humanfriendly" "numpy>=2.0.0" "PyYAML>=5.1.2" "omniio>=0.1.2" "filelock"
            "sentencepiece==0.2.1" "librosa>=0.10.2" "torch-complex" "einops" "tqdm>=4.64"
            "hydra-core>=1.3,<1.4" "omegaconf>=2.3,<2.4" "huggingface-hub"
            "opt-einsum" "h5py" "nltk>=3.4.5"
        )
        ;;
    *) log "unknown --espnet ${espnet_version}: the tested stacks are 202511 and 202611"; exit 1 ;;
esac
requirements=("${stack[@]}" "${espnet_deps[@]}" "${common[@]}")
stamp_key="$(printf '%s\n' "espnet==${espnet_version}" "${requirements[@]}" "$(cat "${root_dir}/setup.py")" | sha1sum | cut -c1-16)"
stamp="${venv}/.l2dual-installed-${stamp_key}"

# --- Debian packages --------------------------------------------------------------
debian_packages=(espeak-ng sctk sox)
missing=()
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
{ command -v sclite || command -v sctk; } >/dev/null 2>&1 || missing+=(sctk)
command -v sox >/dev/null 2>&1 || missing+=(sox)
# optional: chromium loads the HTML report in its browser test; slurm-wlm and munge run the
# Slurm launcher's tests on a private cluster (test_slurm.py). Each test is skipped without them.
optional=()
command -v chromium >/dev/null 2>&1 || optional+=(chromium)
{ command -v slurmctld && command -v slurmd && command -v sbatch; } >/dev/null 2>&1 || optional+=(slurm-wlm)
{ command -v munged || [ -x /usr/sbin/munged ]; } >/dev/null 2>&1 || optional+=(munge)
if [ $((${#missing[@]} + ${#optional[@]})) -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq
        if [ ${#missing[@]} -gt 0 ]; then
            log "installing Debian packages: ${missing[*]}"
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
        fi
        if [ ${#optional[@]} -gt 0 ]; then
            log "installing optional Debian packages: ${optional[*]}"
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${optional[@]}" >/dev/null \
                || log "WARNING: could not install ${optional[*]}; the tests that need them will be skipped"
        fi
    else
        [ ${#missing[@]} -eq 0 ] || log "WARNING: missing ${missing[*]}; run as root: apt-get update && apt-get install -y ${debian_packages[*]}"
        [ ${#optional[@]} -eq 0 ] || log "note: no ${optional[*]} (optional: the browser and Slurm tests); as root: apt-get install -y ${optional[*]}"
    fi
fi

# --- Python venv ------------------------------------------------------------------
if [ -f "${stamp}" ] && ! ${force}; then
    log "${venv#"${root_dir}/"} is up to date (${stamp##*/}); nothing to do"
    exit 0
fi
if [ ! -x "${venv}/bin/python" ]; then
    log "creating ${venv} with ${base_python}"
    "${base_python}" -m venv "${venv}"
fi
# the venv's python, whatever the caller exported (the subshell keeps PYTHONPATH as it is, so
# the import check below tests the editable install)
# shellcheck disable=SC1091
python=$(python=""; L2DUAL_ESPNET="${espnet_version}"; L2DUAL_INSTALLING=1; . "${tools_dir}/python.sh"; echo "${python}")
log "installing pinned Python packages (first run downloads several GB of torch wheels)"
# The venv keeps the pip that ships with Python 3.11: newer pips refuse espnet's dependency
# ci_sdr (its metadata declares a git URL in an extra) and the install fails.
pip_log="${venv}/pip-install.log"
pip_install() {
    if ! "${python}" -m pip install -q "$@" >"${pip_log}" 2>&1; then
        grep -v 'is ignored' "${pip_log}" | tail -n 30 >&2
        log "pip install $* failed (full log: ${pip_log})"
        exit 1
    fi
}
if "${python}" -c 'import sys; sys.exit(sys.version_info < (3, 12))' || [ "${espnet_version}" = 202511 ]; then
    pip_install "${requirements[@]}" "espnet==${espnet_version}"
else
    # ESPnet >= 202609 declares Python >= 3.12; its wheel imports on 3.11: dependencies first,
    # then the wheel alone
    pip_install "${requirements[@]}"
    pip_install --no-deps --ignore-requires-python "espnet==${espnet_version}"
fi
pip_install --no-deps -e "${root_dir}"
# Fail loudly if the pins did not hold (pip output is filtered above).
want=$(printf '%s\n' "${stack[@]}" "espnet==${espnet_version}" | grep -E '^(torch|torchaudio|espnet)==' | tr '\n' ' ')
L2DUAL_WANT="${want}" "${python}" - <<'PY'
import importlib.metadata as md
import os
want = dict(p.split("==") for p in os.environ["L2DUAL_WANT"].split())
got = {k: md.version(k).split("+")[0] for k in want}
bad = {k: (got[k], v) for k, v in want.items() if got[k] != v}
if bad:
    raise SystemExit(f"install.sh: version pins not met (got, want): {bad}")
import espnet_l2dual  # noqa: F401  the package itself must import
PY
rm -f "${venv}"/.l2dual-installed-*
touch "${stamp}"
if [ "${espnet_version}" = 202511 ]; then
    log "done: source tools/activate_python.sh to use the environment"
else
    log "done: export L2DUAL_ESPNET=${espnet_version}, then source tools/activate_python.sh"
fi
