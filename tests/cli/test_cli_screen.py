"""`kratomwatch screen SNAPSHOT.json --json`: the documented contract, from a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kratomwatch.cli import main

RECENT = (datetime.now(UTC) - timedelta(hours=3)).isoformat()

SNAPSHOT = {
    "medications": ["Xanax 0.5 mg", {"name": "oxycodone", "dose": "10 mg PRN"}, "zzqxium"],
    "conditions": ["pregnancy", "G40.909", "not-a-condition"],
    "symptoms": ["yellow eyes", "wobbly knees"],
    "products": [
        {"name": "Red Bali", "form": "leaf_powder", "mitragynine_mg_per_g": 15},
        {"name": "7-OH tabs", "form": "seven_oh", "hydroxymitragynine_mg_per_unit": 15},
    ],
    "doses": [
        {"taken_at": RECENT, "amount": "5", "unit": "g", "product": "Red Bali"},
        {"taken_at": RECENT, "amount": 1, "unit": "tablet", "product": "7-OH tabs"},
    ],
    "responses": [
        {"instrument": "phq9", "answers": [0, 0, 0, 0, 0, 0, 0, 0, 1], "taken_at": RECENT}
    ],
    "plan": {"max_single_dose_g": 4},
}


def run(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kratomwatch", "screen", str(path), *extra],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_screens_a_snapshot_from_a_clean_process(tmp_path: Path) -> None:
    path = tmp_path / "snap.json"
    path.write_text(json.dumps(SNAPSHOT))
    out = run(path, "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert set(result) == {"findings", "not_recognized", "knowledge_version"}
    codes = {f["code"] for f in result["findings"]}
    assert {
        "interaction.benzodiazepine",
        "interaction.opioid_agonist",
        "plan.single_dose_exceeded",
    } <= codes
    categories = {f["category"] for f in result["findings"]}
    assert {"condition", "product", "red_flag", "interaction", "plan"} <= categories
    for finding in result["findings"]:
        assert set(finding) >= {
            "code",
            "severity",
            "category",
            "title",
            "rationale",
            "management",
            "patient_message",
            "references",
            "triggers",
        }
        for ref in finding["references"]:
            if ref["id"] == "clinician-plan":  # plan deviations cite the clinician's own plan
                assert finding["category"] == "plan"
                continue
            assert ref["pmid"] or ref["doi"] or ref["url"], finding["code"]
    benzo = next(f for f in result["findings"] if f["code"] == "interaction.benzodiazepine")
    assert benzo["triggers"][0]["name"] == "Xanax 0.5 mg"
    unknown = result["not_recognized"]
    assert [n["text"] for n in unknown["medications"]] == ["zzqxium"]
    assert [n["text"] for n in unknown["conditions"]] == ["not-a-condition"]
    assert [n["text"] for n in unknown["symptoms"]] == ["wobbly knees"]


def test_an_empty_snapshot_gives_no_findings(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "empty.json"
    path.write_text("{}")
    assert main(["screen", str(path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["findings"] == [] and result["knowledge_version"]


def test_invalid_snapshots_exit_non_zero_with_field_messages(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps(
            {
                "medications": [42],
                "doses": [
                    {"taken_at": "2026-11-01T08:00", "amount": "0", "unit": "kg", "product": "nope"}
                ],
            }
        )
    )
    out = run(path, "--json")
    assert out.returncode == 2 and out.stdout == ""
    for text in (
        "medications[0]",
        "doses[0].taken_at",
        "has no UTC offset",
        "doses[0].product",
        "doses[0].amount",
    ):
        assert text in out.stderr, text


def test_unreadable_input_is_reported(tmp_path: Path) -> None:
    out = run(tmp_path / "missing.json")
    assert out.returncode == 2 and "cannot read" in out.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    out = run(broken)
    assert out.returncode == 2 and "not valid JSON" in out.stderr


def test_the_table_output_names_findings(tmp_path: Path) -> None:
    path = tmp_path / "snap.json"
    path.write_text(json.dumps({"medications": ["Xanax"]}))
    out = run(path)
    assert out.returncode == 0 and "benzodiazepine" in out.stdout
