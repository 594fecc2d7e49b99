"""The run_all.sh projection: parse ESPnet's epoch lines, count the epochs still to run."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from espnet_l2dual.bin.project_wallclock import main
from espnet_l2dual.train.wallclock import measured_epochs, parse_timespan, project

LINE = ("[vm] 2026-12-02 14:10:28,459 (trainer:394) INFO: {e}epoch results: [train] iter_time=0.005, loss=1.0, "
        "train_time=0.452, time={train}, total_count=777, [valid] loss=2.0, time={valid}, total_count=84\n")


@pytest.mark.parametrize("text, seconds", [("5 minutes and 51.53 seconds", 351.53), ("12.03 seconds", 12.03),
                                           ("1 hour, 2 minutes and 3 seconds", 3723.0)])
def test_parse_timespan(text: str, seconds: float) -> None:
    assert parse_timespan(text) == pytest.approx(seconds)


def _recipe(tmp_path: Path) -> Path:
    r = tmp_path / "egs2" / "l2en" / "asr1"
    (r / "conf" / "tuning").mkdir(parents=True)
    for c in ("stl_surface", "mtl"):
        (r / "conf" / "tuning" / f"train_{c}_tiny.yaml").write_text(yaml.safe_dump({"max_epoch": 10}))
    log = r / "exp" / "asr_mtl_tiny" / "logs" / "train.log"
    log.parent.mkdir(parents=True)
    log.write_text(LINE.format(e=1, train="1 minute and 50 seconds", valid="10 seconds")
                   + LINE.format(e=2, train="2 minutes and 50 seconds", valid="10 seconds"))
    return r


def test_projection_counts_remaining_epochs_from_measured_ones(tmp_path: Path, capsys) -> None:
    r = _recipe(tmp_path)
    assert measured_epochs(r / "exp" / "asr_mtl_tiny" / "logs" / "train.log") == {1: 120.0, 2: 180.0}
    total, lines = project(r, ["stl_surface", "mtl"], "_tiny", [None])
    # mtl: 8 epochs left x 150 s; stl_surface: nothing of its own measured, 10 x 150 s (said to be a guess)
    assert total == pytest.approx(8 * 150 + 10 * 150)
    assert "a guess" in lines[0] and "8 of 10 epochs" in lines[1]
    # a resumed training: the first run's log rotated to train.1.log, epoch 3 in the new train.log
    logs = r / "exp" / "asr_mtl_tiny" / "logs"
    (logs / "train.log").rename(logs / "train.1.log")
    (logs / "train.log").write_text(LINE.format(e=3, train="2 minutes and 20 seconds", valid="10 seconds"))
    total, lines = project(r, ["mtl"], "_tiny", [None])
    assert total == pytest.approx(7 * 150) and "7 of 10 epochs" in lines[0]
    seeded, _ = project(r, ["mtl"], "_tiny", [1, 2])
    assert seeded == pytest.approx(2 * 10 * 150)  # new tags: every epoch still to run
    assert main(["--recipes", str(r), "--configs", "mtl", "--seeds", "1", "2"]) == 0
    assert "projected training wall-clock 0.8 h" in capsys.readouterr().err
    # two seeds side by side: half the wall-clock; more jobs than models do not help further
    assert main(["--recipes", str(r), "--configs", "mtl", "--seeds", "1", "2", "--config_jobs", "2"]) == 0
    assert "projected training wall-clock 0.4 h" in capsys.readouterr().err
    assert main(["--recipes", str(r), "--configs", "mtl", "--seeds", "1", "2", "--config_jobs", "3"]) == 0
    assert "projected training wall-clock 0.4 h" in capsys.readouterr().err


def test_nothing_measured_projects_unknown_not_zero(tmp_path: Path, capsys) -> None:
    r = tmp_path / "egs2" / "l2en" / "asr1"
    (r / "conf" / "tuning").mkdir(parents=True)
    (r / "conf" / "tuning" / "train_mtl_tiny.yaml").write_text(yaml.safe_dump({"max_epoch": 10}))
    total, lines = project(r, ["mtl"], "_tiny", [None])
    assert total is None and "no epoch measured" in lines[0]
    assert main(["--recipes", str(r), "--configs", "mtl"]) == 0
    err = capsys.readouterr().err
    assert "projected training wall-clock unknown (no epoch measured yet)" in err
    assert "0.0 h" not in err
    # one language measured, the other not: the wall-clock is still unknown
    measured = _recipe(tmp_path / "other")
    assert main(["--recipes", str(r), str(measured), "--configs", "mtl"]) == 0
    assert "projected training wall-clock unknown" in capsys.readouterr().err
