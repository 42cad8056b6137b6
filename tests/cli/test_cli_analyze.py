"""`kratomwatch analyze DIARY.csv --json` and `kratomwatch nof1`: the documented contract."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from kratomwatch.cli import main

REQUIRED_KEYS = {"n_days", "effect_per_g", "prob_benefit", "plateau_g", "ar1", "notes"}


def write_diary(path: Path, n: int = 60, extra: bool = True, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    lines = ["date,pain,dose_g" + (",interference,side_effect" if extra else "")]
    for i in range(n):
        day = date(2026, 2, 1) + timedelta(days=i)
        dose = round(float(np.clip(4 + 1.5 * rng.standard_normal(), 0, None)), 1)
        pain = round(float(np.clip(6 - 0.5 * (dose - 4) + rng.normal(0, 0.8), 0, 10)), 1)
        row = f"{day.isoformat()},{pain},{dose}"
        if extra:
            row += f",{round(min(pain + 1, 10), 1)},{int(rng.random() < 0.1 * dose)}"
        lines.append(row)
    path.write_text("\n".join(lines) + "\n")
    return path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kratomwatch", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_analyze_json_from_a_clean_process(tmp_path: Path) -> None:
    out = run("analyze", str(write_diary(tmp_path / "d.csv")), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert REQUIRED_KEYS <= set(data)
    assert data["n_days"] == 59
    effect = data["effect_per_g"]
    assert set(effect) == {"mean", "ci90"} and effect["ci90"][0] < effect["mean"] < 0
    assert 0 <= data["prob_benefit"] <= 1
    assert data["plateau_g"] is None or isinstance(data["plateau_g"], float)
    assert set(data["ar1"]) == {"mean", "ci90"} and -1 < data["ar1"]["mean"] < 1
    notes = " ".join(data["notes"])
    assert "Association, not causation" in notes
    assert "n = 59 days (2026-02-02 to 2026-04-01)" in notes
    assert data["interference"]["n_days"] == 59 and REQUIRED_KEYS <= set(data["interference"])
    assert data["side_effects"]["n_days"] == 60
    assert len(data["side_effects"]["by_dose_third"]) == 3


def test_insufficient_data_exits_0_with_null_fields_and_the_minimum(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_diary(tmp_path / "short.csv", n=20, extra=False)
    assert main(["analyze", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["effect_per_g"] == {"mean": None, "ci90": None}
    assert data["prob_benefit"] is None and data["plateau_g"] is None and data["ar1"] is None
    assert data["n_days"] == 19 and data["interference"] is None and data["side_effects"] is None
    notes = " ".join(data["notes"])
    assert "Insufficient data" in notes and "at least 28" in notes
    assert "Association, not causation" in notes and "2026-02-02 to 2026-02-20" in notes


def test_an_empty_diary_is_insufficient(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("date,pain,dose_g\n")
    assert main(["analyze", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["n_days"] == 0 and data["effect_per_g"]["mean"] is None


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("date,dose_g\n2026-01-01,3\n", "missing required column 'pain'"),
        ("date,pain,dose_g\n2026-01-01,5,3\n2026-01-02,11,3\n", "row 2 (line 3), column 'pain'"),
        ("date,pain,dose_g\n2026-01-01,-1,3\n", "row 1 (line 2), column 'pain'"),
        ("date,pain,dose_g\n2026-01-01,5,-2\n", "row 1 (line 2), column 'dose_g': -2 is negative"),
        ("date,pain,dose_g\n2026-01-01,5,3\n01/02/2026,5,3\n", "row 2 (line 3), column 'date'"),
        ("date,pain,dose_g\n2026-02-30,5,3\n", "row 1 (line 2), column 'date'"),
        (
            "date,pain,dose_g\n2026-01-01,5,3\n2026-01-02,5,3\n2026-01-01,4,2\n",
            "row 3 (line 4), column 'date': 2026-01-01 is a duplicate of row 1",
        ),
        ("date,pain,dose_g\n2026-01-01,five,3\n", "column 'pain': 'five' is not a number"),
        ("date,pain,dose_g\n2026-01-01,5,nan\n", "column 'dose_g'"),
        ("date,pain,dose_g,side_effect\n2026-01-01,5,3,2\n", "column 'side_effect'"),
        ("date,pain,dose_g,interference\n2026-01-01,5,3,12\n", "column 'interference'"),
        ("", "empty file"),
    ],
)
def test_bad_input_exits_2_naming_row_and_column_with_nothing_on_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, expected: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    assert main(["analyze", str(path), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert expected in captured.err


def test_a_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(tmp_path / "nope.csv")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "cannot read" in captured.err


def test_blank_cells_mean_not_recorded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_diary(tmp_path / "d.csv", n=60, extra=False)
    lines = path.read_text().splitlines()
    lines[5] = lines[5].split(",")[0] + ",,"  # neither pain nor dose on day 5
    path.write_text("\n".join(lines) + "\n")
    assert main(["analyze", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_days"] == 59 - 2


def test_readable_output_has_the_labels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(write_diary(tmp_path / "d.csv"))]) == 0
    out = capsys.readouterr().out
    assert "Association, not causation" in out and "change per g" in out
    assert "Side effects by same-day dose" in out


def test_nof1_design_is_reproducible_and_analysable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "nof1", "design", "--regimen-a", "usual regimen", "--regimen-b", "alternative",
        "--period-days", "7", "--pairs", "3", "--washout-days", "1",
        "--start", "2026-12-07",
    ]  # fmt: skip
    assert main([*args, "--seed", "42", "--json"]) == 0
    first = capsys.readouterr().out
    assert main([*args, "--seed", "42", "--json"]) == 0
    assert capsys.readouterr().out == first
    schedule = json.loads(first)
    assert schedule["seed"] == 42 and len(schedule["order"]) == 3
    assert all(len(week) == 7 for week in schedule["calendar"])
    assert main(args) == 0
    assert "seed" in capsys.readouterr().out

    (tmp_path / "schedule.json").write_text(first)
    rng = np.random.default_rng(1)
    rows = ["date,pain,taken"]
    for period in schedule["periods"]:
        start = date.fromisoformat(period["start"])
        for k in range(period["days"]):
            shift = -2.0 if period["arm"] == "B" else 0.0
            pain = round(float(np.clip(6 + shift + rng.normal(0, 0.6), 0, 10)), 1)
            rows.append(f"{start + timedelta(days=k)},{pain},{period['arm'] or ''}")
    (tmp_path / "obs.csv").write_text("\n".join(rows) + "\n")
    assert (
        main(
            [
                "nof1",
                "analyse",
                str(tmp_path / "schedule.json"),
                str(tmp_path / "obs.csv"),
                "--carryover-days",
                "1",
                "--stopped-early",
                "--stop-reason",
                "planned review",
                "--json",
            ]  # fmt: skip
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["sufficient"] and result["difference_b_minus_a"]["mean"] < -1
    assert result["stopped_early"] is True and result["stop_reason"] == "planned review"
    assert result["adherence"]["proportion"] == 1.0
    assert result["excluded"] == {"washout": 5, "carryover": 6, "outside_schedule": 0}


def test_nof1_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["nof1", "design", "--regimen-a", "x", "--regimen-b", "y", "--period-days", "7"]
    assert main([*base, "--pairs", "0", "--start", "2026-12-07"]) == 2
    assert "pairs" in capsys.readouterr().err
    assert main([*base, "--pairs", "2", "--start", "07/12/2026"]) == 2
    assert "--start" in capsys.readouterr().err
    (tmp_path / "s.json").write_text('{"regimen_a": "x"}')
    (tmp_path / "o.csv").write_text("date,pain\n")
    assert main(["nof1", "analyse", str(tmp_path / "s.json"), str(tmp_path / "o.csv")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "not a valid schedule" in captured.err


def test_the_analysis_commands_do_not_load_django() -> None:
    code = (
        "import sys\n"
        "import kratomwatch.cli.cmd_analyze, kratomwatch.cli.cmd_nof1\n"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'django']\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
