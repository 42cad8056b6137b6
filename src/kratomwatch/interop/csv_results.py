"""Results in the CSV export (``results.csv``) and in the clinic import.

One row per result: a measured value in its analyte's unit (with the value and unit as
entered beside it), or a drug-screen item's outcome. Units are always in a column of their
own; an import reads a value only with the analyte's own unit, and checks it as if typed in.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from kratomwatch.clinic.models import (
    EntrySource,
    LabResult,
    PatientProfile,
    ResultKind,
    ScreenOutcome,
    Specimen,
)
from kratomwatch.domain.results import ResultRejected, check_value, load_lab_tests
from kratomwatch.domain.text import text_problem

RESULT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("patient_id", "patient's public id"),
    ("result_id", "result's public id"),
    ("batch_id", "shared by the results entered together"),
    ("taken_at", "when the sample was taken (ISO 8601 with UTC offset)"),
    ("kind", "measurement or screen"),
    ("analyte", "test id, e.g. alt, bilirubin, qtc, benzodiazepines (lab_tests.yaml)"),
    ("label", "test name"),
    ("value", "measured value in unit (empty for a screen)"),
    ("unit", "unit of value and upper_limit, e.g. U/L, mg/dL, ms"),
    ("value_entered", "value as entered, in unit_entered"),
    ("unit_entered", "unit as entered, e.g. µmol/L"),
    ("upper_limit", "the laboratory's upper limit of normal in unit (empty: the default)"),
    ("outcome", "screen: positive, negative or not_tested"),
    ("specimen", "blood, urine, oral_fluid or ecg"),
    ("source", "web, api, import or seed"),
    ("note", "the clinician's note"),
    ("recorded_at", "when it was stored (ISO 8601 with UTC offset)"),
)


def _num(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"


def result_rows(patient: PatientProfile, time: Any, text: Any) -> list[list[str]]:
    """``results.csv`` rows of one patient (``time`` and ``text`` are the export's own
    formatters)."""
    catalogue = load_lab_tests()
    rows = []
    for r in patient.results.order_by("taken_at", "analyte", "pk"):
        info = catalogue.analytes.get(r.analyte) or catalogue.screen_items.get(r.analyte)
        rows.append(
            [
                str(patient.uuid),
                str(r.uuid),
                str(r.batch),
                time(r.taken_at),
                r.kind,
                r.analyte,
                text(info.label if info else r.analyte),
                _num(r.value),
                r.unit,
                _num(r.value_entered),
                r.unit_entered,
                _num(r.upper_limit),
                r.outcome,
                r.specimen,
                r.source,
                text(r.note),
                time(r.created),
            ]
        )
    return rows


def check_results(t: Any, patients: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of ``results.csv`` checked (problems noted on ``t``), as LabResult fields."""
    catalogue = load_lab_tests()
    kinds = {k.value for k in ResultKind}
    outcomes = {o.value for o in ScreenOutcome}
    specimens = {s.value for s in Specimen}
    sources = {s.value for s in EntrySource}
    seen: set[str] = set()
    planned = []
    for n, row in t.rows:
        patient = t.ref(n, row, "patient_id", {k: k for k in patients})
        t.new_id(n, row, "result_id", seen)
        kind = t.choice(n, row, "kind", kinds)
        analyte = t.raw(row, "analyte").strip()
        fields: dict[str, Any] = {
            "patient": patient,
            "batch": t.raw(row, "batch_id").strip(),
            "kind": kind,
            "analyte": analyte,
            "taken_at": t.time(n, row, "taken_at"),
            "specimen": t.choice(n, row, "specimen", specimens),
            "source": t.choice(n, row, "source", sources),
            "note": t.text(n, row, "note", 500),
        }
        if text_problem(fields["note"]):
            t.problem(n, "note", str(text_problem(fields["note"])))
        if kind == ResultKind.MEASUREMENT:
            info = catalogue.analytes.get(analyte)
            if info is None:
                t.problem(n, "analyte", f"{analyte!r} is not a test that can be recorded")
                continue
            unit = t.raw(row, "unit").strip()
            try:
                checked = check_value(
                    analyte, t.raw(row, "value"), unit, upper_limit=t.raw(row, "upper_limit")
                )
            except ResultRejected as exc:
                for field, message in exc.errors:
                    t.problem(n, field if field != "upper_limit" else "upper_limit", message)
                continue
            if unit != info.unit:
                t.problem(n, "unit", f"must be {info.unit}, the unit values are exported in")
            entered_unit = t.raw(row, "unit_entered").strip() or unit
            if entered_unit not in info.units:
                t.problem(n, "unit_entered", f"{entered_unit!r} is not a unit of {info.label}")
            entered = t.decimal(n, row, "value_entered", (12, 4)) or checked.value
            fields |= {
                "value": checked.value,
                "unit": info.unit,
                "value_entered": entered,
                "unit_entered": entered_unit,
                "upper_limit": checked.upper_limit,
            }
        elif kind == ResultKind.SCREEN:
            if analyte not in catalogue.screen_items:
                t.problem(n, "analyte", f"{analyte!r} is not a drug-screen item")
            fields["outcome"] = t.choice(n, row, "outcome", outcomes)
        planned.append(fields)
    return planned


def write_results(planned: list[dict[str, Any]], patients: dict[str, PatientProfile]) -> int:
    """Store checked rows; rows that shared a batch in the export share a new one."""
    batches: dict[tuple[str, str], uuid.UUID] = {}
    rows = []
    for fields in planned:
        pid = fields["patient"]
        batch = batches.setdefault((pid, fields["batch"]), uuid.uuid4())
        rows.append(LabResult(**(fields | {"patient": patients[pid], "batch": batch})))
    LabResult.objects.bulk_create(rows, batch_size=500)
    return len(rows)
