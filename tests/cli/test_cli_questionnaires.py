"""The `instruments` and `score` commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import kratomwatch
from kratomwatch.cli import main
from kratomwatch.domain.questionnaires import ENV_VAR, clear_cache

SRC = Path(kratomwatch.__file__).resolve().parents[1]

CLINIC = """
schema_version: 1
id: clinic-scale
version: "3"
title: Clinic scale
description: Test copy of a clinic's licensed scale.
completed_by: clinician
recall_period: Today
wording: original
validated: true
validation_note: Validated by its developers.
licence: {status: Licensed to the clinic, redistributable: false}
references: [{citation: Developer 2020, url: "https://example.org/scale"}]
items:
  - {id: a, text: A, range: {min: 0, max: 5}}
  - {id: b, text: B, range: {min: 0, max: 5}}
scoring:
  method: sum
  missing: {policy: require_all, note: All items required.}
"""


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    clear_cache()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_instruments_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "instruments", "--json")
    assert code == 0 and err == ""
    rows = json.loads(out)
    by_id = {row["id"]: row for row in rows}
    assert {"phq9", "cows", "kw-daily-pain", "acr2016-fm"} <= set(by_id)
    for row in rows:
        assert {"id", "version", "title", "items", "range", "licence"} <= set(row)
        assert row["licence"]
    assert by_id["phq9"]["items"] == 10
    assert by_id["phq9"]["range"] == [0, 27]
    assert by_id["cows"]["range"] == [0, 48]
    assert by_id["kw-daily-pain"]["range"] == [0.0, 10.0]
    assert by_id["acr2016-fm"]["range"] == [0, 31]


def test_instruments_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "instruments")
    assert code == 0
    assert "phq9" in out and "kw-use-criteria" in out and "permissive" in out


def test_score_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "score", "phq9", "--answers", "1,2,0,1,3,0,1,0,1", "--json")
    assert (code, err) == (0, "")
    assert json.loads(out) == {
        "instrument": "phq9",
        "version": "1.0",
        "total": 9,
        "subscales": {},
        "band": "mild",
        "flags": ["suicidal_ideation"],
    }


def test_score_json_with_subscales(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "score", "kw-daily-pain", "--answers", "6, 7, 5, 4, 3", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["total"] == 6.5
    assert data["subscales"] == {"pain": 6.5, "interference": 4.5, "sleep": 3}
    assert data["band"] is None


def test_score_trailing_optional_answer(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "score", "phq9", "--answers", "0,0,0,0,0,0,0,0,0,", "--json")
    assert code == 0
    assert json.loads(out)["total"] == 0


def test_score_human_output_shows_safety_flag(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "score", "phq9", "--answers", "0,0,0,0,0,0,0,0,2")
    assert code == 0
    assert "SAFETY FLAG" in out and "total: 2" in out


def test_context_flag(capsys: pytest.CaptureFixture[str]) -> None:
    answers = "1,1,0,0,0,0,0,0,0,1,1"
    code, out, _ = run(capsys, "score", "kw-use-criteria", "--answers", answers, "--json")
    assert (code, json.loads(out)["total"], json.loads(out)["band"]) == (0, 4, "moderate")
    code, out, _ = run(
        capsys,
        "score",
        "kw-use-criteria",
        "--answers",
        answers,
        "--context",
        "under_medical_supervision",
        "--json",
    )
    assert (code, json.loads(out)["total"], json.loads(out)["band"]) == (0, 2, "mild")
    code, out, _ = run(
        capsys,
        "score",
        "kw-use-criteria",
        "--answers",
        answers,
        "--context",
        "under_medical_supervision=false",
        "--json",
    )
    assert json.loads(out)["total"] == 4


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["score", "bpi", "--answers", "1,2"], "unknown instrument 'bpi'"),
        (
            ["score", "phq9", "--answers", "1,,2,0,0,0,0,0,0"],
            "feeling_down: required item is missing",
        ),
        (["score", "phq9", "--answers", "1,2,3"], "expected 9-10 answers, got 3"),
        (["score", "phq9", "--answers", "1,x,0,0,0,0,0,0,0"], "feeling_down: must be an integer"),
        (["score", "phq9", "--answers", "1,1.5,0,0,0,0,0,0,0"], "feeling_down: must be an integer"),
        (["score", "phq9", "--answers", "1,4,0,0,0,0,0,0,0"], "feeling_down: 4 is not an allowed"),
        (["score", "cows", "--answers", "3,0,0,0,0,0,0,0,0,0,0"], "resting_pulse"),
        (["score", "kw-daily-pain", "--answers", "11,0,0,0,0"], "pain_now: 11 is out of range"),
        (
            ["score", "kw-use-criteria", "--answers", "0,0,0,0,0,0,0,0,0,0,0", "--context", "x"],
            "unknown context flag 'x'",
        ),
    ],
)
def test_invalid_calls_exit_2_with_message_on_stderr_only(
    capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str
) -> None:
    code, out, err = run(capsys, *argv, "--json")
    assert code == 2
    assert out == ""
    assert fragment in err


def test_clinic_instruments_dir(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "clinic-scale.yaml").write_text(CLINIC, encoding="utf-8")
    code, out, _ = run(
        capsys,
        "score",
        "clinic-scale",
        "--answers",
        "2,5",
        "--instruments-dir",
        str(tmp_path),
        "--json",
    )
    assert code == 0 and json.loads(out)["total"] == 7
    code, out, _ = run(capsys, "instruments", "--json", "--instruments-dir", str(tmp_path))
    assert "clinic-scale" in {row["id"] for row in json.loads(out)}


def test_broken_clinic_file_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("id: [", encoding="utf-8")
    code, out, err = run(capsys, "instruments", "--instruments-dir", str(tmp_path))
    assert (code, out) == (2, "")
    assert "broken.yaml" in err


def _env() -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH", "")) if p)
    return dict(os.environ, PYTHONPATH=path)


def test_score_via_python_dash_m() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "kratomwatch",
            "score",
            "gad7",
            "--answers",
            "2,2,1,1,0,3,1",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert (data["instrument"], data["total"], data["band"]) == ("gad7", 10, "moderate")


def test_invalid_call_via_python_dash_m() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kratomwatch", "score", "gad7", "--answers", "9", "--json"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert "expected" in done.stderr


def test_commands_do_not_import_django() -> None:
    code = (
        "import argparse, sys\n"
        "from kratomwatch.cli import cmd_instruments, cmd_score\n"
        "parser = argparse.ArgumentParser()\n"
        "sub = parser.add_subparsers()\n"
        "cmd_instruments.register(sub); cmd_score.register(sub)\n"
        "calls = (['instruments', '--json'], ['instruments', 'fhir'],\n"
        "         ['score', 'phq9', '--answers', '0,0,0,0,0,0,0,0,0'])\n"
        "for argv in calls:\n"
        "    args = parser.parse_args(argv)\n"
        "    assert args.func(args) == 0\n"
        "sys.exit(any(m == 'django' or m.startswith('django.') for m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_instruments_fhir_writes_valid_questionnaires(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from fhir.resources.R4B.bundle import Bundle
    from fhir.resources.R4B.questionnaire import Questionnaire

    code, out, _ = run(capsys, "instruments", "fhir")
    assert code == 0
    bundle = json.loads(out)
    Bundle.model_validate(bundle)
    shipped = {e["resource"]["url"].rsplit("/", 1)[-1] for e in bundle["entry"]}
    assert all(e["fullUrl"] == f"urn:uuid:{e['resource']['id']}" for e in bundle["entry"])
    assert {"phq9", "gad7", "cows", "acr2016-fm", "kw-daily-pain"} <= shipped

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "clinic-scale.yaml").write_text(CLINIC, encoding="utf-8")
    out_dir = tmp_path / "out"
    argv = ("instruments", "fhir", "--out", str(out_dir), "--instruments-dir", str(tmp_path / "in"))
    code, out, _ = run(capsys, *argv)
    assert code == 0 and "Questionnaires written" in out
    lines = (out_dir / "Questionnaire.ndjson").read_text(encoding="utf-8").splitlines()
    resources = {json.loads(line)["url"].rsplit("/", 1)[-1]: json.loads(line) for line in lines}
    assert set(resources) == shipped | {"clinic-scale"}
    for resource in resources.values():
        Questionnaire.model_validate(resource)
    Bundle.model_validate(json.loads((out_dir / "questionnaires.json").read_text("utf-8")))
    # A licence that forbids redistribution: the notice is there, the wording is not.
    clinic = resources["clinic-scale"]
    assert clinic["copyright"] == "Licensed to the clinic"
    assert all("wording not redistributable" in i["text"] for i in clinic["item"])


def test_instruments_dir_before_fhir_is_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "clinic-scale.yaml").write_text(CLINIC, encoding="utf-8")
    code, out, _ = run(capsys, "instruments", "--instruments-dir", str(tmp_path), "fhir")
    assert code == 0
    urls = {e["resource"]["url"].rsplit("/", 1)[-1] for e in json.loads(out)["entry"]}
    assert "clinic-scale" in urls


def test_instruments_fhir_to_a_place_it_cannot_write_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("", encoding="utf-8")
    code, out, err = run(capsys, "instruments", "fhir", "--out", str(tmp_path / "file" / "d"))
    assert code == 2 and out == "" and "cannot write" in err
