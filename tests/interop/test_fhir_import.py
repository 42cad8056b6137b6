"""FHIR import: dry run, all-or-nothing apply, round trip from our own export."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from kratomwatch.clinic.models import AuditEvent, Clinic, MedicationStatement, PatientCondition
from kratomwatch.interop import codes
from kratomwatch.interop.fhir_export import patient_bundle
from kratomwatch.interop.fhir_import import (
    BundleError,
    do_import_fhir,
    load_bundle_file,
    plan_import,
)

from .conftest import patient


def ehr_bundle() -> dict[str, Any]:
    """A bundle as an EHR might send it: RxNorm-style displays, ICD-10-CM, references."""
    subject = {"reference": "Patient/ehr-1"}
    entries: list[dict[str, Any]] = [
        {
            "resourceType": "MedicationStatement",
            "status": "active",
            "subject": subject,
            "medicationCodeableConcept": {"text": "Sertraline 50 mg tablet"},
            "dosage": [{"text": "50 mg once daily"}],
            "effectivePeriod": {"start": "2024-03-01"},
        },
        {
            "resourceType": "MedicationStatement",
            "status": "active",
            "subject": subject,
            "medicationReference": {"reference": "#med1"},
            "contained": [
                {
                    "resourceType": "Medication",
                    "id": "med1",
                    "code": {"coding": [{"system": "x", "code": "1", "display": "Tramadol 50mg"}]},
                }
            ],
        },
        {
            "resourceType": "MedicationStatement",
            "status": "active",
            "subject": subject,
            "medicationReference": {"reference": "Medication/m2"},
        },
        {"resourceType": "Medication", "id": "m2", "code": {"text": "Zanax 1 mg"}},
        {
            "resourceType": "MedicationStatement",
            "status": "stopped",
            "subject": subject,
            "medicationCodeableConcept": {"text": "Codeine"},
        },
        {
            "resourceType": "Condition",
            "subject": subject,
            "code": {
                "coding": [
                    {"system": codes.ICD10CM, "code": "K70.30", "display": "Alcoholic cirrhosis"}
                ]
            },
        },
        {"resourceType": "Condition", "subject": subject, "code": {"text": "nerve pain"}},
        {"resourceType": "Condition", "subject": subject, "code": {"text": "fibromyalgai"}},
        {
            "resourceType": "Condition",
            "subject": subject,
            "clinicalStatus": {
                "coding": [{"system": codes.CONDITION_CLINICAL, "code": "resolved"}]
            },
            "code": {"text": "Major depressive disorder"},
        },
    ]
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r} for r in entries],
    }


def test_dry_run_reports_and_writes_nothing(clinic: Clinic) -> None:
    p1 = patient(clinic, 1)
    before = (MedicationStatement.objects.count(), PatientCondition.objects.count())
    report = plan_import(p1, ehr_bundle())
    rows = {(i.kind, i.text): i for i in report.items}
    sertraline = rows[("medication", "Sertraline 50 mg tablet")]
    assert (sertraline.outcome, sertraline.code) == ("add", "sertraline")
    assert rows[("medication", "Tramadol 50mg")].code == "tramadol"
    zanax = rows[("medication", "Zanax 1 mg")]
    assert zanax.outcome == "add" and zanax.code == "alprazolam"  # a listed misspelling
    assert rows[("medication", "Codeine")].outcome == "skipped"
    assert rows[("condition", "Alcoholic cirrhosis")].code == "liver_disease"
    assert rows[("condition", "nerve pain")].code == "neuropathic_pain"
    typo = rows[("condition", "fibromyalgai")]
    assert typo.outcome == "not_recognized" and typo.suggestions == ("Fibromyalgia",)
    assert rows[("condition", "Major depressive disorder")].outcome == "skipped"
    assert report.ignored == {"Medication": 1}
    assert not report.applied
    assert (MedicationStatement.objects.count(), PatientCondition.objects.count()) == before


def test_round_trip_between_patients(clinic: Clinic) -> None:
    source, target = patient(clinic, 3), patient(clinic, 1)
    bundle = json.loads(json.dumps(patient_bundle(source)))

    dry = plan_import(target, bundle)
    added = {(i.kind, i.code) for i in dry.by_outcome("add")}
    assert added == {
        ("medication", "alprazolam"),
        ("medication", "oxycodone"),
        ("condition", "neuropathic_pain"),
        ("condition", "sud_history"),
    }
    kratom = dry.by_outcome("skipped")
    assert len(kratom) == 1 and "kratom product" in kratom[0].reason
    assert not target.medications.exists()

    applied = do_import_fhir(target, bundle)
    assert applied.applied and len(applied.by_outcome("add")) == 4
    assert set(target.medications.values_list("ingredient", flat=True)) == {
        "alprazolam",
        "oxycodone",
    }
    assert {"neuropathic_pain", "sud_history"} <= set(
        target.conditions.values_list("code", flat=True)
    )
    assert target.medications.get(ingredient="oxycodone").dose_text == "10 mg as needed"
    assert AuditEvent.objects.filter(patient=target, action="medication.import").count() == 2
    assert AuditEvent.objects.filter(patient=target, action="fhir.import").count() == 1

    again = do_import_fhir(target, bundle)
    assert again.by_outcome("add") == []
    assert len(again.by_outcome("present")) == 4
    assert target.medications.count() == 2


def test_an_inactive_condition_is_reactivated(clinic: Clinic) -> None:
    p1 = patient(clinic, 1)
    PatientCondition.objects.create(patient=p1, code="liver_disease", active=False)
    report = do_import_fhir(p1, ehr_bundle())
    liver = next(i for i in report.items if i.code == "liver_disease")
    assert liver.outcome == "add" and liver.reactivate
    assert p1.conditions.get(code="liver_disease").active


def expect_problems(p: Any, data: Any, *fragments: str) -> None:
    before = (MedicationStatement.objects.count(), AuditEvent.objects.count())
    with pytest.raises(BundleError) as caught:
        do_import_fhir(p, data)
    for fragment in fragments:
        assert fragment in str(caught.value)
    assert (MedicationStatement.objects.count(), AuditEvent.objects.count()) == before


def test_invalid_bundles_are_refused_with_what_is_wrong(clinic: Clinic) -> None:
    p1 = patient(clinic, 1)
    broken = ehr_bundle()
    del broken["entry"][0]["resource"]["status"]
    broken["entry"][5]["resource"]["onsetDateTime"] = "last spring"
    expect_problems(
        p1,
        broken,
        "entry[0].resource.status (MedicationStatement)",
        "entry[5].resource.onsetDateTime (Condition)",
    )
    unknown = ehr_bundle()
    unknown["entry"][3]["resource"]["resourceType"] = "Medicine"
    expect_problems(p1, unknown, "entry[3].resource: unknown resourceType 'Medicine'")
    expect_problems(p1, {"resourceType": "Patient"}, "expected resourceType 'Bundle'")
    expect_problems(p1, [], "expected a JSON object")
    two = ehr_bundle()
    two["entry"][0]["resource"]["subject"] = {"reference": "Patient/someone-else"}
    expect_problems(p1, two, "2 different subjects")
    status = ehr_bundle()
    status["type"] = "bag"
    status["entry"][1]["resource"]["status"] = "actve"
    expect_problems(
        p1,
        status,
        "type: 'bag' is not one of",
        "entry[1].resource.status (MedicationStatement): 'actve' is not one of active,",
    )
    extra = copy.deepcopy(ehr_bundle())
    extra["entry"][6]["resource"]["colour"] = "red"
    expect_problems(p1, extra, "entry[6].resource.colour (Condition)")


def test_files_that_are_not_json_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    path.write_text("{not json")
    with pytest.raises(BundleError, match="is not valid JSON"):
        load_bundle_file(path)
    with pytest.raises(BundleError, match="cannot read"):
        load_bundle_file(tmp_path / "missing.json")
