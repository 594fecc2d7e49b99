"""The manifest adapter: TSV -> data dirs, split column or seeded speaker split, errors at file:line;
and stage 1 of the recipe (run.sh -> local/data.sh --corpus manifest)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from recipe_helpers import make_recipe

from corpus_fixtures import write_pcm, write_wav
from espnet_l2dual.bin.prepare_manifest import main
from espnet_l2dual.corpus.manifest_dirs import prepare_manifest
from espnet_l2dual.data.validate import validate_data_dir
from espnet_l2dual.errors import DataError
from espnet_l2dual.utils.fileio import read_table

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "egs2" / "TEMPLATE" / "asr1"
HEADER = "utt_id\twav\tspeaker\tsurface\tmeaning"


def make_manifest(tmp_path: Path, split: bool = False, header: bool = True) -> Path:
    rows = [HEADER + ("\tsplit" if split else "")] if header else []
    sets = {"s1": "train", "s2": "train", "s3": "dev", "s4": "test"}
    for spk, name in sets.items():
        for k in range(2):
            wav = f"audio/{spk}_{k}.wav"
            write_wav(tmp_path / wav, 0.5)
            row = f"{spk}-{k}\t{wav}\t{spk}\tD IH S, IH Z!\tthis is"
            rows.append(row + (f"\t{name}" if split else ""))
    write_pcm(tmp_path / "audio" / "s1_9.pcm", 0.25)
    rows.append("s1-9\t" + str(tmp_path / "audio" / "s1_9.pcm") + "\ts1\tDH AH\tthe" + ("\ttrain" if split else ""))
    path = tmp_path / "corpus.tsv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_split_column(tmp_path: Path, capsys) -> None:
    tsv = make_manifest(tmp_path, split=True)
    out = tmp_path / "data"
    assert main(["--lang", "en", "--manifest", str(tsv), "--out", str(out)]) == 0
    for name, spks in (("train", {"s1", "s2"}), ("dev", {"s3"}), ("test", {"s4"})):
        validate_data_dir(out / name)
        assert set(read_table(out / name / "utt2spk").values()) == spks
    assert read_table(out / "train" / "text_surface")["s1-0"] == "D IH S IH Z"
    assert read_table(out / "train" / "text_meaning")["s1-0"] == "THIS IS"
    assert read_table(out / "train" / "wav.scp")["s1-0"] == str((tmp_path / "audio" / "s1_0.wav").resolve())
    assert read_table(out / "train" / "wav.scp")["s1-9"].startswith("sox -t raw -r 16000 ")
    assert read_table(out / "dev" / "utt2lang") == {"s3-0": "en", "s3-1": "en"}
    printed = capsys.readouterr().out
    assert "train" in printed and "0.001" in printed  # 8 x 0.5 s + 0.25 s = 0.00118 h


def test_seeded_speaker_disjoint_split(tmp_path: Path) -> None:
    tsv = make_manifest(tmp_path, header=False)
    out = tmp_path / "data"
    prepare_manifest("en", tsv, out, num_dev=1, num_test=2, seed=5)
    spks = {n: set(read_table(out / n / "utt2spk").values()) for n in ("train", "dev", "test")}
    assert [len(s) for s in spks.values()] == [1, 1, 2]
    assert set.union(*spks.values()) == {"s1", "s2", "s3", "s4"}
    with pytest.raises(ValueError, match="cannot make"):
        prepare_manifest("en", tsv, out, num_dev=2, num_test=2)


@pytest.mark.parametrize(
    "row, reason",
    [
        ("x-1\taudio/s1_0.wav\ts1\tA", "expected 5 tab-separated columns as the header names"),
        ("x-1\taudio/s1_0.wav\t\tA\tB", "empty speaker"),
        ("s2-1\taudio/s1_0.wav\ts2\tA\tB", "duplicate utt_id 's2-1' (first on line 5)"),
        ("x-1\taudio/nope.wav\ts1\tA\tB", "missing audio"),
        ("x-1\taudio/s1_0.wav\ts1\t!!\tB", "surface is empty"),
        ("x 1\taudio/s1_0.wav\ts1\tA\tB", "contains whitespace"),
    ],
)
def test_bad_rows(tmp_path: Path, row: str, reason: str) -> None:
    tsv = make_manifest(tmp_path)
    n = len(tsv.read_text().splitlines())
    tsv.write_text(tsv.read_text() + row + "\n")
    with pytest.raises(DataError) as e:
        prepare_manifest("en", tsv, tmp_path / "data")
    assert str(e.value).startswith(f"{tsv}:{n + 1}") and reason in e.value.reason


def test_bad_split_value_and_mixed_widths(tmp_path: Path, capsys) -> None:
    tsv = make_manifest(tmp_path, split=True)
    lines = tsv.read_text().splitlines()
    tsv.write_text("\n".join(lines + ["x-1\taudio/s1_0.wav\ts1\tA\tB\tvalid"]) + "\n")
    assert main(["--lang", "en", "--manifest", str(tsv), "--out", str(tmp_path / "data")]) == 1
    assert f"{tsv}:{len(lines) + 1}:6: split 'valid'" in capsys.readouterr().err
    tsv.write_text("\n".join(lines + ["x-1\taudio/s1_0.wav\ts1\tA\tB"]) + "\n")
    with pytest.raises(DataError, match=r"expected 6 tab-separated columns as the header names .*, got 5"):
        prepare_manifest("en", tsv, tmp_path / "data")
    assert not (tmp_path / "data").exists()


def test_run_sh_stage_1_with_manifest(tmp_path: Path) -> None:
    tsv = make_manifest(tmp_path / "corpus", split=True)
    recipe = make_recipe(tmp_path, "l2ko")
    cmd = ["./run.sh", "--stage", "1", "--stop_stage", "1", "--corpus", "manifest",
           "--local_data_opts", f"--manifest {tsv}"]
    proc = subprocess.run(cmd, cwd=recipe, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "total" in proc.stdout
    for name in ("train", "dev", "test"):
        validate_data_dir(recipe / "data" / name)
    assert set(read_table(recipe / "data" / "dev" / "utt2lang").values()) == {"ko"}

    bad = subprocess.run(["local/data.sh", "--corpus", "l2arctic"], cwd=recipe, capture_output=True, text=True)
    assert bad.returncode == 1 and "English corpus" in bad.stderr
    missing = subprocess.run(["local/data.sh", "--corpus", "manifest"], cwd=recipe, capture_output=True, text=True,
                             env={"PATH": "/usr/bin:/bin", "MANIFEST": ""})
    assert missing.returncode == 1 and "needs --manifest" in missing.stderr


def test_canonical_column_by_header_or_position(tmp_path: Path) -> None:
    tsv = make_manifest(tmp_path, split=True)
    lines = tsv.read_text().splitlines()
    # by position: split then canonical (no header)
    body = [f"{x}\tD IH S" for x in lines[1:]]
    tsv.write_text("\n".join(body) + "\n")
    prepare_manifest("en", tsv, tmp_path / "data")
    assert set(read_table(tmp_path / "data" / "train" / "text_canonical").values()) == {"D IH S"}
    # by header: canonical without split, in another order
    rows = [x.split("\t") for x in lines[1:]]
    tsv.write_text("utt_id\tcanonical\twav\tspeaker\tsurface\tmeaning\n" + "".join(
        f"{r[0]}\tDH IH S\t{r[1]}\t{r[2]}\t{r[3]}\t{r[4]}\n" for r in rows))
    prepare_manifest("en", tsv, tmp_path / "data2", num_dev=1, num_test=1)
    assert set(read_table(tmp_path / "data2" / "dev" / "text_canonical").values()) == {"DH IH S"}
    tsv.write_text("utt_id\twav\tspeaker\tsurface\tmeaning\tphones\n" + lines[1] + "\n")
    with pytest.raises(DataError, match=r":1: header columns must be .*unknown: phones"):
        prepare_manifest("en", tsv, tmp_path / "data3")
