"""split_scp, spk_maps, filter_scp: the Python logic and the utils/*.sh wrappers."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from espnet_l2dual.data.filter_scp import filter_lines
from espnet_l2dual.data.spk_maps import spk2utt_to_utt2spk, utt2spk_to_spk2utt
from espnet_l2dual.data.split_scp import group_cuts, part_sizes, split_lines, split_scp
from espnet_l2dual.errors import DataError

UTILS = Path(__file__).resolve().parents[1] / "egs2" / "TEMPLATE" / "asr1" / "utils"


def sh(name, *args, stdin=None, cwd="/"):  # away from the repo: the wrapper must find the package
    env = dict(os.environ, python=sys.executable)
    return subprocess.run([str(UTILS / name), *map(str, args)], input=stdin, capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=30)


def write(path, lines):
    path.write_text("".join(line + "\n" for line in lines))
    return path


@pytest.fixture
def scp(tmp_path):
    # speakers a (3 utts), b (1), c (4), d (2)
    utts = [("a", 3), ("b", 1), ("c", 4), ("d", 2)]
    rows = [f"{spk}-{i} /wav/{spk}-{i}.wav" for spk, n in utts for i in range(n)]
    write(tmp_path / "wav.scp", rows)
    write(tmp_path / "utt2spk", [f"{r.split()[0]} {r[0]}" for r in rows])
    return tmp_path


def test_part_sizes():
    assert part_sizes(10, 3) == [4, 3, 3]
    assert part_sizes(3, 3) == [1, 1, 1]


def test_split_by_utterance_is_contiguous_and_balanced(scp):
    parts = split_lines(scp / "wav.scp", 3)
    assert [len(p) for p in parts] == [4, 3, 3]
    assert sum(parts, []) == (scp / "wav.scp").read_text().splitlines()


def test_split_by_speaker_keeps_speakers_whole(scp):
    parts = split_lines(scp / "wav.scp", 2, utt2spk=scp / "utt2spk")
    speakers = [{line[0] for line in part} for part in parts]
    assert speakers == [{"a", "b"}, {"c", "d"}]
    assert sum(parts, []) == (scp / "wav.scp").read_text().splitlines()
    parts = split_lines(scp / "wav.scp", 4, utt2spk=scp / "utt2spk")
    assert [{line[0] for line in p} for p in parts] == [{"a"}, {"b"}, {"c"}, {"d"}]


def test_group_cuts_balance():
    assert group_cuts([1] * 10, 3) == [0, 3, 7]
    assert group_cuts([5, 1, 1, 1, 1, 1], 2) == [0, 1]
    assert group_cuts([1, 1, 1, 9], 2) == [0, 3]


def test_too_many_parts(scp):
    with pytest.raises(DataError, match="cannot split 10 utterances into 11 parts"):
        split_lines(scp / "wav.scp", 11)
    with pytest.raises(DataError, match="cannot split 4 speakers into 5 parts"):
        split_lines(scp / "wav.scp", 5, utt2spk=scp / "utt2spk")


def test_speaker_not_contiguous(tmp_path):
    write(tmp_path / "s.scp", ["u1 x", "u2 x", "u3 x"])
    write(tmp_path / "utt2spk", ["u1 A", "u2 B", "u3 A"])
    with pytest.raises(DataError, match=r"s\.scp:3: .*speaker 'A' are not contiguous"):
        split_lines(tmp_path / "s.scp", 2, utt2spk=tmp_path / "utt2spk")


def test_utterance_without_speaker(tmp_path):
    write(tmp_path / "s.scp", ["u1 x", "u2 x"])
    write(tmp_path / "utt2spk", ["u1 A"])
    with pytest.raises(DataError, match=r"s\.scp:2: utterance 'u2'"):
        split_lines(tmp_path / "s.scp", 1, utt2spk=tmp_path / "utt2spk")


def test_split_scp_writes_files(scp):
    outs = [scp / f"split/wav.{i}.scp" for i in (1, 2)]
    split_scp(scp / "wav.scp", outs)
    assert outs[0].read_text().count("\n") == 5 and outs[1].read_text().count("\n") == 5


def test_split_scp_wrapper(scp):
    r = sh("split_scp.sh", "--utt2spk", scp / "utt2spk", scp / "wav.scp", scp / "o.1", scp / "o.2", scp / "o.3")
    assert r.returncode == 0, r.stderr
    got = [(scp / f"o.{i}").read_text() for i in (1, 2, 3)]
    assert "".join(got) == (scp / "wav.scp").read_text()
    assert all(got)
    r = sh("split_scp.sh", scp / "wav.scp", *[scp / f"p.{i}" for i in range(11)])
    assert r.returncode == 1 and "cannot split" in r.stderr


def test_spk_maps_round_trip(tmp_path):
    write(tmp_path / "utt2spk", ["a1 A", "a2 A", "b1 B", "c1 A"])
    assert utt2spk_to_spk2utt(str(tmp_path / "utt2spk")) == [("A", ["a1", "a2", "c1"]), ("B", ["b1"])]
    write(tmp_path / "spk2utt", ["B b1", "A a1 a2 c1"])
    assert spk2utt_to_utt2spk(str(tmp_path / "spk2utt")) == [("a1", "A"), ("a2", "A"), ("b1", "B"), ("c1", "A")]


def test_spk_maps_errors(tmp_path):
    write(tmp_path / "utt2spk", ["a1 A", "a1 B"])
    with pytest.raises(DataError, match="utt2spk:2: duplicate utterance 'a1'"):
        utt2spk_to_spk2utt(str(tmp_path / "utt2spk"))
    write(tmp_path / "spk2utt", ["A a1", "B a1"])
    with pytest.raises(DataError, match="spk2utt:2: .*'a1' already belongs"):
        spk2utt_to_utt2spk(str(tmp_path / "spk2utt"))


def test_spk_map_wrappers_stdin_and_file(tmp_path):
    r = sh("utt2spk_to_spk2utt.sh", stdin="a1 A\na2 A\nb1 B\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "A a1 a2\nB b1\n"
    write(tmp_path / "spk2utt", ["A a1 a2", "B b1"])
    r = sh("spk2utt_to_utt2spk.sh", tmp_path / "spk2utt")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "a1 A\na2 A\nb1 B\n"


def test_filter_scp(tmp_path):
    write(tmp_path / "ids", ["c", "a extra fields"])
    write(tmp_path / "in.scp", ["a 1", "b 2", "c 3 3", "d 4"])
    assert list(filter_lines(tmp_path / "ids", tmp_path / "in.scp")) == ["a 1", "c 3 3"]
    assert list(filter_lines(tmp_path / "ids", tmp_path / "in.scp", exclude=True)) == ["b 2", "d 4"]


def test_filter_scp_wrapper(tmp_path):
    write(tmp_path / "ids", ["d", "b"])
    write(tmp_path / "in.scp", ["a 1", "b 2", "c 3", "d 4"])
    r = sh("filter_scp.sh", tmp_path / "ids", tmp_path / "in.scp")
    assert (r.returncode, r.stdout) == (0, "b 2\nd 4\n"), r.stderr
    r = sh("filter_scp.sh", "--exclude", tmp_path / "ids", tmp_path / "in.scp")
    assert r.stdout == "a 1\nc 3\n"
    r = sh("filter_scp.sh", tmp_path / "ids", stdin="b x\nz y\n")
    assert r.stdout == "b x\n"
