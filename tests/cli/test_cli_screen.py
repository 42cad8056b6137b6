"""`kratomwatch screen SNAPSHOT.json --json`: the documented contract, from a real process."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kratomwatch.cli import main
from kratomwatch.domain.products import ProductForm

RECENT = (datetime.now(UTC) - timedelta(hours=3)).isoformat()

SNAPSHOT = {
    "medications": [
        "Xanax 0.5 mg",
        {"name": "oxycodone", "dose": "10 mg PRN"},
        "zzqxium",
        "nortriptyline 25 mg at night",
    ],
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

#: The documented top-level keys of `kratomwatch screen --json` (docs/screening.md).
RESULT_KEYS = {
    "findings",
    "not_recognized",
    "recognized_without_concern",
    "applied_locally",
    "notes",
    "knowledge_version",
    "knowledge_released",
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
    assert set(result) == RESULT_KEYS
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
    # Nothing to act on now: a note beside the medication, not a finding.
    assert "interaction.cyp2d6_substrate_nti" not in codes
    notes = {n["code"]: n for n in result["notes"]}
    note = notes["interaction.cyp2d6_substrate_nti"]
    assert note["triggers"][0]["name"] == "nortriptyline 25 mg at night"
    assert set(codes).isdisjoint(notes)
    for note in notes.values():
        assert "severity" not in note
        assert all(ref["pmid"] or ref["doi"] or ref["url"] for ref in note["references"])
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


# ------------------------------------------------------- bad input never ends in a traceback


def product_dose(form: str, amount: str, unit: str, **dose: object) -> dict[str, object]:
    """A snapshot of one product of ``form`` and one dose of it, taken three hours ago."""
    return {
        "products": [{"name": "P", "form": form}],
        "doses": [{"taken_at": RECENT, "amount": amount, "unit": unit, "product": "P", **dose}],
    }


def app_check(form: str, amount: str, unit: str) -> list[str]:
    """The messages the app's own dose check gives for the same entry."""
    from kratomwatch.domain.doses import DoseRejected, check_dose
    from kratomwatch.domain.products import ProductForm, ProductSpec

    try:
        checked = check_dose(
            amount=amount,
            unit=unit,
            taken_at=RECENT,
            product=ProductSpec(form=ProductForm(form)),
            now=datetime.now(UTC),
        )
    except DoseRejected as exc:
        return [e.message for e in exc.errors]
    return [c.message for c in checked.needs_confirmation()]


def test_a_unit_that_does_not_fit_the_product_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "tea.json"
    path.write_text(json.dumps(product_dose("tea_liquid", "2", "g")))
    out = run(path, "--json")
    assert out.returncode == 2 and out.stdout == ""
    assert "Traceback" not in out.stderr
    assert "doses[0].unit: Unit g cannot be used for tea or liquid: use ml" in out.stderr


def test_a_file_that_is_not_utf8_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes('{"medications": ["Café"]}'.encode("latin-1"))
    out = run(path)
    assert out.returncode == 2 and out.stdout == ""
    assert "Traceback" not in out.stderr
    assert f"{path} is not UTF-8 text" in out.stderr
    piped = subprocess.run(
        [sys.executable, "-m", "kratomwatch", "screen", "-"],
        input='{"medications": ["Café"]}'.encode("latin-1"),
        capture_output=True,
        timeout=120,
    )
    assert piped.returncode == 2 and b"- is not UTF-8 text" in piped.stderr
    assert b"Traceback" not in piped.stderr
    bom = tmp_path / "bom.json"  # a byte order mark is still UTF-8
    bom.write_bytes(json.dumps({"medications": ["Xanax"]}).encode("utf-8-sig"))
    assert run(bom, "--json").returncode == 0


def test_a_500_g_dose_is_refused_as_the_app_refuses_it(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text(json.dumps(product_dose("leaf_powder", "500", "g")))
    out = run(path, "--json")
    assert out.returncode == 2 and out.stdout == ""
    [message] = app_check("leaf_powder", "500", "g")
    assert f"doses[0].amount: {message}" in out.stderr


def test_an_unusual_dose_needs_the_confirmation_the_app_asks_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "high.json"
    path.write_text(json.dumps(product_dose("leaf_powder", "20", "g")))
    assert main(["screen", str(path), "--json"]) == 2
    err = capsys.readouterr().err
    [message] = app_check("leaf_powder", "20", "g")
    assert message in err and "'leaf_equivalent_g_high'" in err
    path.write_text(
        json.dumps(product_dose("leaf_powder", "20", "g", confirm=["leaf_equivalent_g_high"]))
    )
    assert main(["screen", str(path), "--json"]) == 0
    # Screened: the product in use is reported (its strength unknown, as a note).
    notes = json.loads(capsys.readouterr().out)["notes"]
    assert [n["code"] for n in notes] == ["product.potency_unknown"]


def test_product_details_the_app_refuses_are_refused(tmp_path: Path) -> None:
    snapshot = {"products": [{"name": "P", "form": "capsule", "unit_material_mg": 0}]}
    path = tmp_path / "product.json"
    path.write_text(json.dumps(snapshot))
    out = run(path)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "products[0]: unit_material_mg must be greater than 0" in out.stderr


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**60), max_value=10**60)
    | st.sampled_from([10**4000, -(10**4000)])
    | st.floats()
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
NUMBER = (
    st.decimals(allow_nan=True, allow_infinity=True).map(str)
    | st.floats()
    | st.integers(min_value=-(10**60), max_value=10**60)
    | st.sampled_from(["1e400", "1E+999999999", "0.0001", "2,5", "", " 3 ", "-0", "1" * 300])
)
TIME = st.datetimes(timezones=st.sampled_from([UTC, None])).map(
    lambda d: d.isoformat()
) | st.sampled_from([RECENT, "2026-11-01T08:00", "9999-12-31T23:59:59+23:59", "yesterday"])
POTENCY = ("mitragynine_mg_per_g", "unit_material_mg", "hydroxymitragynine_mg_per_unit")
PRODUCT = st.fixed_dictionaries(
    {"name": st.sampled_from(["P", "Q"]) | JSON},
    optional={
        "form": st.sampled_from([f.value for f in ProductForm]) | JSON,
        **{key: NUMBER | JSON for key in (*POTENCY, "leaf_g_per_ml")},
    },
)
DOSE = st.fixed_dictionaries(
    {},
    optional={
        "taken_at": TIME | JSON,
        "amount": NUMBER | JSON,
        "unit": st.sampled_from(["g", "mg", "capsule", "tablet", "ml", "kg", "Grams"]) | JSON,
        "product": st.sampled_from(["P", "Q"]) | JSON,
        "confirm": st.lists(st.sampled_from(["amount_high", "leaf_equivalent_g_high"])) | JSON,
    },
)
RESPONSE = st.fixed_dictionaries(
    {},
    optional={
        "instrument": st.sampled_from(["phq9", "kw-daily-pain", "nope"]) | JSON,
        "answers": st.lists(st.integers(-2, 30) | JSON, max_size=12) | JSON,
        "taken_at": TIME | JSON,
    },
)
PLAN_FIELDS = [
    "max_single_dose_g",
    "max_daily_dose_g",
    "max_doses_per_day",
    "min_hours_between",
    "max_weekly_increase_pct",
    "version",
]
SNAPSHOT_PARTS = st.fixed_dictionaries(
    {},
    optional={
        "medications": st.lists(st.text() | JSON, max_size=4) | JSON,
        "conditions": st.lists(st.text() | JSON, max_size=4) | JSON,
        "symptoms": st.lists(st.text() | JSON, max_size=4) | JSON,
        "products": st.lists(PRODUCT | JSON, max_size=3) | JSON,
        "doses": st.lists(DOSE | JSON, max_size=4) | JSON,
        "responses": st.lists(RESPONSE | JSON, max_size=3) | JSON,
        "plan": st.dictionaries(st.sampled_from(PLAN_FIELDS), NUMBER | JSON) | JSON,
        "year_of_birth": st.integers(1800, 2100) | JSON,
    },
)


def screen_bytes(path: Path, content: bytes) -> tuple[int, str, str]:
    path.write_bytes(content)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["screen", str(path), "--json"])
    return code, out.getvalue(), err.getvalue()


@settings(max_examples=300, deadline=None)
@given(snapshot=SNAPSHOT_PARTS | JSON)
def test_any_json_gives_a_result_or_a_message(snapshot: object) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        content = json.dumps(snapshot, allow_nan=True).encode()
        code, out, err = screen_bytes(Path(tmp) / "snap.json", content)
    if code == 0:
        assert set(json.loads(out)) == RESULT_KEYS
    else:
        assert code == 2 and out == "" and err.startswith("kratomwatch: error: ")


@settings(max_examples=150, deadline=None)
@given(content=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_file_gives_a_result_or_a_message(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        code, out, err = screen_bytes(Path(tmp) / "snap.json", content)
    assert code in (0, 2)
    assert code == 0 or err.startswith("kratomwatch: error: ")


@pytest.mark.parametrize(
    "content",
    [
        b"[" * 100_000,
        b'{"year_of_birth": ' + b"9" * 5000 + b"}",
        b'{"doses": [{"amount": NaN, "unit": "g", "product": "P"}]}',
        b"\xff\xfe{}",
        b"",
    ],
)
def test_pathological_files_give_a_message(tmp_path: Path, content: bytes) -> None:
    code, out, err = screen_bytes(tmp_path / "snap.json", content)
    assert code == 2 and out == "" and err.startswith("kratomwatch: error: ")


def test_a_misspelt_field_is_refused_not_screened_as_nothing(tmp_path: Path) -> None:
    path = tmp_path / "snap.json"
    path.write_text('{"medicaton": ["Xanax 1 mg"]}', encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "kratomwatch", "screen", str(path), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "medicaton" in result.stderr and "'medications'" in result.stderr
    assert "Traceback" not in result.stderr
