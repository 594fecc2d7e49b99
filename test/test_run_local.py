"""utils/run_local.sh: run.pl-style job arrays on the local machine."""

import subprocess
from pathlib import Path

import pytest

RUN_LOCAL = Path(__file__).resolve().parents[1] / "egs2" / "TEMPLATE" / "asr1" / "utils" / "run_local.sh"


def run_local(*args, cwd):
    return subprocess.run([str(RUN_LOCAL), *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_job_substitution_in_log_and_args(tmp_path):
    r = run_local("JOB=1:3", "exp/log/echo.JOB.log", "echo", "job=JOB", "out.JOB", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    for i in (1, 2, 3):
        log = (tmp_path / f"exp/log/echo.{i}.log").read_text()
        assert f"job={i} out.{i}" in log
        assert log.startswith(f"# echo job={i} out.{i}\n")
        assert "# Started at" in log
        assert "(code 0)" in log.splitlines()[-1]


def test_job_range_not_starting_at_one(tmp_path):
    r = run_local("JOB=3:5", "log/x.JOB.log", "echo", "JOB", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "log").iterdir()) == ["x.3.log", "x.4.log", "x.5.log"]


def test_quoted_command_with_pipe_and_redirection(tmp_path):
    r = run_local("JOB=1:2", "log/p.JOB.log", "echo hello JOB | tr a-z A-Z > out.JOB.txt", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out.2.txt").read_text() == "HELLO 2\n"


def test_escaped_pipe_and_quoted_words(tmp_path):
    (tmp_path / "two words.txt").write_text("x\ny\n")
    r = run_local("log/w.log", "cat", "two words.txt", "|", "wc", "-l", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    body = (tmp_path / "log/w.log").read_text().splitlines()
    assert "2" in [line.strip() for line in body]


def test_stderr_goes_to_log(tmp_path):
    run_local("log/e.log", "echo oops >&2", cwd=tmp_path)
    assert "oops" in (tmp_path / "log/e.log").read_text()


def test_single_job_without_range(tmp_path):
    r = run_local("--gpu", "1", "--mem", "4G", "--time", "1:00:00", "--num_threads", "2",
                  "a/b/one.log", "echo", "JOB", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    log = (tmp_path / "a/b/one.log").read_text()
    assert "\nJOB\n" in log  # no JOB= given: nothing to substitute
    assert "threads=2" in log


def test_failures_are_reported(tmp_path):
    r = run_local("JOB=1:4", "log/f.JOB.log", "test $((JOB % 2)) -eq 0", cwd=tmp_path)
    assert r.returncode != 0
    assert "2/4 jobs failed" in r.stderr
    assert "log/f.1.log" in r.stderr and "log/f.3.log" in r.stderr
    assert "log/f.2.log" not in r.stderr
    assert "(code 1)" in (tmp_path / "log/f.3.log").read_text()
    assert "(code 0)" in (tmp_path / "log/f.2.log").read_text()


def test_single_job_failure(tmp_path):
    r = run_local("log/s.log", "exit 3", cwd=tmp_path)
    assert r.returncode != 0
    assert "1/1 jobs failed, see: log/s.log" in r.stderr
    assert "(code 3)" in (tmp_path / "log/s.log").read_text()


@pytest.mark.parametrize("body, reason", [
    ("print('loading'); raise ValueError('data/x.tsv:3: bad column')", "ValueError: data/x.tsv:3: bad column"),
    ("import sys; print('step 1'); print('format_wav_scp: error: a.wav: missing', file=sys.stderr); sys.exit(1)",
     "format_wav_scp: error: a.wav: missing"),
    ("import sys; print('first'); print('the last words'); sys.exit(2)", "the last words"),
])
def test_console_names_the_reason_of_each_failed_job(tmp_path, body, reason):
    script = tmp_path / "job.py"
    script.write_text(body + "\n")
    r = run_local("JOB=1:2", "log/p.JOB.log", f"python3 {script}", cwd=tmp_path)
    assert r.returncode != 0
    for i in (1, 2):
        assert f"log/p.{i}.log: {reason}" in r.stderr


def _intervals(tmp_path, n):
    out = []
    for i in range(1, n + 1):
        start, end = (tmp_path / f"t.{i}").read_text().split()
        out.append((float(start), float(end)))
    return out


def _max_overlap(intervals):
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals], key=lambda x: (x[0], x[1]))
    level = peak = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    return peak


def test_at_most_max_jobs_run_at_once(tmp_path):
    cmd = "s=$(date +%s.%N); sleep 0.4; echo $s $(date +%s.%N) > t.JOB"
    r = run_local("--max_jobs_run", "2", "JOB=1:6", "log/t.JOB.log", cmd, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    intervals = _intervals(tmp_path, 6)
    assert _max_overlap(intervals) == 2  # parallel, but never more than 2 at once


def test_max_jobs_run_one_is_serial(tmp_path):
    cmd = "s=$(date +%s.%N); sleep 0.1; echo $s $(date +%s.%N) > t.JOB"
    r = run_local("--max-jobs-run=1", "JOB=1:3", "log/t.JOB.log", cmd, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert _max_overlap(_intervals(tmp_path, 3)) == 1


def test_bad_usage(tmp_path):
    assert run_local("--bogus", "1", "log/x.log", "true", cwd=tmp_path).returncode != 0
    r = run_local("JOB=1:2", "log/same.log", "true", cwd=tmp_path)
    assert r.returncode != 0 and "JOB" in r.stderr
    assert run_local("--max_jobs_run", "0", "log/x.log", "true", cwd=tmp_path).returncode != 0
    assert run_local("--help", cwd=tmp_path).returncode == 0
