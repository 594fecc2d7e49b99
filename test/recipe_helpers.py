"""Scratch recipe directories for tests that run ./run.sh (never the repo's own data/ exp/)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "egs2" / "TEMPLATE" / "asr1"
TEMPLATE_LINKS = ("l2dual.sh", "utils", "scripts", "pyscripts", "path.sh", "cmd.sh", "db.sh")
# The tiny trained recipe several modules start from (conftest.py's session fixture ``tiny_recipe``):
# l2en, 16 training utterances, the shrunk MTL config, stages 1-11 (seconds of training, not accuracy).
TINY_DATA_OPTS = "--num_train 16 --num_dev 4 --num_test 4 --eval_speakers 2 --eval_utts_per_speaker 2"
TINY_CONFIG = "conf/train_mtl_test.yaml"
TINY_TAG = "asr_mtl_test"
TINY_COMMON = ["--nj", "1", "--inference_nj", "1", "--local_data_opts", TINY_DATA_OPTS, "--train_config", TINY_CONFIG,
               "--beam_size", "2"]


def template_beside(recipe: Path) -> Path:
    """``<recipe>/../../TEMPLATE/asr1`` in the scratch tree: conf/ copied, the rest symlinked.

    A recipe's ``conf/tuning/*.yaml`` are relative symlinks into TEMPLATE (and ``base:``
    paths lead there): they must resolve inside the scratch tree, to a copy, so a test that
    edits a config never edits the repo's shared one.
    """
    dst = recipe.parents[1] / "TEMPLATE" / "asr1"
    if dst.exists():
        return dst
    dst.mkdir(parents=True)
    for entry in sorted(TEMPLATE.iterdir()):
        if entry.name == "conf":
            shutil.copytree(entry, dst / "conf", symlinks=True)
        else:
            (dst / entry.name).symlink_to(entry)
    return dst


def make_recipe(tmp: Path, lang_dir: str) -> Path:
    """Copy a recipe's run.sh, conf/ and local/ under ``tmp``; symlink the TEMPLATE parts.

    conf/ keeps its symlinks; they resolve in ``tmp/egs2/TEMPLATE`` (``template_beside``).
    """
    src = ROOT / "egs2" / lang_dir / "asr1"
    dst = tmp / "egs2" / lang_dir / "asr1"
    dst.mkdir(parents=True)
    shutil.copy2(src / "run.sh", dst / "run.sh")
    shutil.copytree(src / "conf", dst / "conf", symlinks=True)
    shutil.copytree(src / "local", dst / "local", symlinks=True)
    for name in TEMPLATE_LINKS:
        (dst / name).symlink_to(TEMPLATE / name)
    template_beside(dst)
    return dst


def repo_tree(tmp: Path) -> Path:
    """``tmp`` laid out like the repository root for run_all.sh: its copy, the venv and the package linked.

    Recipes go under ``tmp/egs2`` (``make_recipe(tmp, ...)``); setup.py is linked so tools/install.sh
    finds its stamp and installs nothing.
    """
    (tmp / "tools").symlink_to(ROOT / "tools")
    (tmp / "espnet_l2dual").symlink_to(ROOT / "espnet_l2dual")  # run_all.sh's own package
    (tmp / "setup.py").symlink_to(ROOT / "setup.py")
    shutil.copy2(ROOT / "run_all.sh", tmp / "run_all.sh")
    return tmp


def clone_recipe(base: Path, tmp_path: Path) -> Path:
    """A copy of a scratch l2en recipe whose absolute paths (audio, records) point into the copy."""
    dst = tmp_path / "egs2" / "l2en" / "asr1"
    shutil.copytree(base, dst, symlinks=True)
    template_beside(dst)  # conf/tuning links into TEMPLATE
    old, new = str(base), str(dst)
    for p in dst.rglob("*"):
        if p.is_file() and not p.is_symlink() and p.suffix not in (".wav", ".pth", ".npz", ".png", ".zip"):
            try:
                text = p.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
            if old in text:
                st = p.stat()
                p.write_text(text.replace(old, new), encoding="utf-8")
                os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    return dst


def run_recipe(cmd: list, cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    """Run a recipe command in its own process group; on timeout kill the whole group.

    subprocess's own timeout only kills the direct child (run.sh), which would leave the
    trainer and decoders it started running after the test has failed.
    """
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(f"{' '.join(cmd)} timed out after {timeout} s\n{err[-3000:]}") from None
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def write_tiny_config(recipe: Path, name: str = "train_mtl_test.yaml", tasks=("surface", "meaning"),
                      max_epoch: int = 1) -> Path:
    """The recipe's tiny MTL config shrunk to seconds per epoch (for pipeline tests, not accuracy)."""
    import yaml

    from espnet_l2dual.utils.config_file import load_config

    conf = load_config(recipe / "conf/tuning/train_mtl_tiny.yaml")
    conf.update(max_epoch=max_epoch, batch_bins=4000000, keep_nbest_models=1, use_tensorboard=False,
                num_att_plot=0)
    conf["encoder_conf"].update(output_size=32, attention_heads=2, linear_units=64, num_blocks=1,
                                cnn_module_kernel=3)
    for o in ("surface", "meaning"):
        conf[f"{o}_decoder_conf"].update(attention_heads=2, linear_units=64, num_blocks=1)
    conf["model_conf"]["tasks"] = list(tasks)
    out = recipe / "conf" / name
    out.write_text(yaml.safe_dump(conf))
    return out
