"""Results as FHIR Observations, both ways (docs/interoperability.md).

Export: one Observation per result row, category ``laboratory`` (``procedure`` for the QTc
of an ECG), coded with LOINC where the code was confirmed (lab_tests.yaml) and always with
the KratomWatch code ``result.<analyte>``. A measured value is a ``valueQuantity`` with its
UCUM unit and the upper limit of normal used as ``referenceRange.high``; a drug-screen item
is a ``valueCodeableConcept`` (positive or negative, KratomWatch codes with text; no SNOMED
code was confirmed), or ``dataAbsentReason`` ``not-performed`` when it was not tested. The
specimen is a contained Specimen.

Import: Observations carrying a KratomWatch result code, or the LOINC code of an analyte,
become results (checked as if typed in: unit, plausible range); other Observations are not
imported.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.utils.dateparse import parse_datetime

from kratomwatch.clinic.models import LabResult, PatientProfile, ResultKind, Specimen
from kratomwatch.domain.results import (
    NEGATIVE,
    NOT_TESTED,
    POSITIVE,
    ResultRejected,
    check_screen,
    check_value,
    load_lab_tests,
)

from . import codes as C

CS_RESULT = f"{C.BASE}/CodeSystem/result"
CS_SCREEN_OUTCOME = f"{C.BASE}/CodeSystem/screen-outcome"
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
_OUTCOME_TEXT = {POSITIVE: "Positive", NEGATIVE: "Negative"}
_SKIPPED_STATUS = {"entered-in-error", "cancelled", "registered", "preliminary"}


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value.normalize())


def _quantity(value: Decimal, ucum: str) -> dict[str, Any]:
    return {"value": _number(value), "unit": ucum, "system": C.UCUM, "code": ucum}


def result_observation(
    ref: Any, time: Any, meta: Any, patient: PatientProfile, row: LabResult
) -> dict[str, Any]:
    """The Observation of one result row (``ref``, ``time`` and ``meta`` are the
    exporter's helpers, so that references and times match the rest of the bundle)."""
    catalogue = load_lab_tests()
    analyte = catalogue.analytes.get(row.analyte)
    item = catalogue.screen_items.get(row.analyte)
    label = analyte.label if analyte else (item.label if item else row.analyte)
    codings = []
    if analyte is not None and analyte.loinc:
        codings.append(C.coding(C.LOINC, analyte.loinc, label))
    codings.append(C.coding(CS_RESULT, f"result.{row.analyte}", label))
    category = "procedure" if row.specimen == Specimen.ECG else "laboratory"
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(row.uuid),
        "meta": meta(row.modified),
        "status": "final",
        "category": [C.concept(None, C.coding(C.OBSERVATION_CATEGORY, category, category.title()))],
        "code": C.concept(label, *codings),
        "subject": ref("Patient", patient.uuid),
        "effectiveDateTime": time(row.taken_at),
        "issued": time(row.created),
    }
    if row.specimen != Specimen.ECG:
        resource["contained"] = [
            {
                "resourceType": "Specimen",
                "id": "specimen",
                "type": {"text": row.specimen},
            }
        ]
        resource["specimen"] = {"reference": "#specimen"}
    if row.kind == ResultKind.MEASUREMENT and row.value is not None and analyte is not None:
        resource["valueQuantity"] = _quantity(row.value, analyte.ucum)
        uln = row.upper_limit if row.upper_limit is not None else analyte.upper_limit_of_normal
        if uln is not None:
            resource["referenceRange"] = [{"high": _quantity(uln, analyte.ucum)}]
            if row.value > uln:
                resource["interpretation"] = [
                    C.concept("Above upper limit", C.coding(INTERPRETATION, "H", "High"))
                ]
    elif row.outcome in _OUTCOME_TEXT:
        text = _OUTCOME_TEXT[row.outcome]
        resource["valueCodeableConcept"] = C.concept(
            text, C.coding(CS_SCREEN_OUTCOME, row.outcome, text)
        )
    else:
        resource["dataAbsentReason"] = C.concept(
            "Not tested", C.coding(DATA_ABSENT, "not-performed", "Not Performed")
        )
    if row.note:
        resource["note"] = [{"text": row.note}]
    return resource


# --------------------------------------------------------------------------- import


def is_result(resource: Mapping[str, Any]) -> bool:
    """Whether an Observation is one of the results KratomWatch records."""
    return _analyte_of(resource) is not None


def _analyte_of(resource: Mapping[str, Any]) -> str | None:
    catalogue = load_lab_tests()
    by_loinc = {a.loinc: a.id for a in catalogue.analytes.values() if a.loinc}
    for c in (resource.get("code") or {}).get("coding") or []:
        if not isinstance(c, dict):
            continue
        code = str(c.get("code") or "")
        if c.get("system") == CS_RESULT and code.startswith("result."):
            name = code.removeprefix("result.")
            if name in catalogue.analytes or name in catalogue.screen_items:
                return name
        if c.get("system") == C.LOINC and code in by_loinc:
            return by_loinc[code]
    return None


def plan_result(
    resource: Mapping[str, Any], contained: Any, existing: set[tuple[str, str, str]]
) -> tuple[str, str, dict[str, Any]]:
    """(outcome, reason, the values to store) for an Observation that :func:`is_result`.

    ``existing`` holds (analyte, time, value) of the patient's results, so that a result
    imported twice is "present"; ``contained`` resolves the specimen reference."""
    analyte = _analyte_of(resource)
    assert analyte is not None
    status = str(resource.get("status") or "")
    if status in _SKIPPED_STATUS:
        return "skipped", f"status {status}: not a final result", {}
    when = resource.get("effectiveDateTime")
    taken = parse_datetime(when) if isinstance(when, str) else None
    if taken is None or taken.tzinfo is None:
        return "skipped", "no effectiveDateTime with a time zone", {}
    catalogue = load_lab_tests()
    values: dict[str, Any] = {"analyte": analyte, "taken_at": taken}
    try:
        if analyte in catalogue.analytes:
            quantity = resource.get("valueQuantity") or {}
            unit = quantity.get("code") or quantity.get("unit")
            high = ((resource.get("referenceRange") or [{}])[0].get("high") or {}).get("value")
            checked = check_value(analyte, quantity.get("value"), unit)
            uln = None
            if high is not None:
                uln = check_value(
                    analyte, quantity.get("value"), unit, upper_limit=high
                ).upper_limit
            default = catalogue.analytes[analyte].upper_limit_of_normal
            values |= {
                "kind": ResultKind.MEASUREMENT,
                "value": checked.value,
                "value_entered": checked.entered,
                "unit_entered": checked.entered_unit,
                "upper_limit": None if uln == default else uln,
                "specimen": "ecg" if analyte == "qtc" else "blood",
            }
            shown = f"{checked.value.quantize(Decimal('0.0001')).normalize():f}"
        else:
            outcome = NOT_TESTED
            for c in (resource.get("valueCodeableConcept") or {}).get("coding") or []:
                if isinstance(c, dict) and c.get("system") == CS_SCREEN_OUTCOME:
                    outcome = str(c.get("code"))
            if "valueCodeableConcept" in resource and outcome == NOT_TESTED:
                text = str((resource["valueCodeableConcept"] or {}).get("text") or "").lower()
                outcome = text if text in _OUTCOME_TEXT else "unreadable"
            check_screen(analyte, outcome)
            specimen = "urine"
            target = contained(resource, resource.get("specimen"))
            if target is not None:
                kind = str((target.get("type") or {}).get("text") or "")
                specimen = kind if kind in ("urine", "blood", "oral_fluid") else "urine"
            values |= {"kind": ResultKind.SCREEN, "outcome": outcome, "specimen": specimen}
            shown = outcome
    except ResultRejected as exc:
        return "skipped", "; ".join(m for _, m in exc.errors), {}
    key = (analyte, _iso(taken), shown)
    if key in existing:
        return "present", "", values
    existing.add(key)
    note = (resource.get("note") or [{}])[0].get("text")
    if isinstance(note, str):
        values["note"] = note[:500]
    return "add", "", values


def existing_results(patient: PatientProfile) -> set[tuple[str, str, str]]:
    found = set()
    for row in patient.results.all():
        shown = (
            f"{row.value.normalize():f}"
            if row.kind == ResultKind.MEASUREMENT and row.value is not None
            else row.outcome
        )
        found.add((row.analyte, _iso(row.taken_at), shown))
    return found


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()
