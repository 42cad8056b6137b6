"""FHIR import: dry run, all-or-nothing apply, round trip from our own export."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from kratomwatch.clinic.models import (
    AuditEvent,
    Clinic,
    MedicationStatement,
    PatientCondition,
    PatientProfile,
)
from kratomwatch.interop import codes
from kratomwatch.interop.fhir_export import patient_bundle
from kratomwatch.interop.fhir_import import (
    BundleError,
    PatientMismatchError,
    do_import_fhir,
    load_bundle_file,
    plan_import,
)

from .conftest import patient


def ehr_patient(p: PatientProfile, **changes: Any) -> dict[str, Any]:
    """``p`` as an EHR records them: its own record number, family and given names, and a
    full birth date (KratomWatch keeps the year only)."""
    first, _, last = p.display_name.rpartition(" ")
    return {
        "resourceType": "Patient",
        "id": "ehr-1",
        "identifier": [{"system": "urn:oid:2.16.840.1.113883.19.5", "value": "MRN-0042"}],
        "name": [{"use": "official", "family": last.upper(), "given": [first, "A."]}],
        "birthDate": f"{p.year_of_birth}-05-17",
        **changes,
    }


def ehr_bundle(p: PatientProfile | None = None, **changes: Any) -> dict[str, Any]:
    """A bundle as an EHR might send it: RxNorm-style displays, ICD-10-CM, references; with
    ``p``, it holds their Patient resource (changed by ``changes``)."""
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
    if p is not None:
        entries.append(ehr_patient(p, **changes))
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r} for r in entries],
    }


def test_dry_run_reports_and_writes_nothing(clinic: Clinic) -> None:
    p1 = patient(clinic, 1)
    before = (MedicationStatement.objects.count(), PatientCondition.objects.count())
    report = plan_import(p1, ehr_bundle(p1))
    assert report.patient_check.ok
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
    source.results.all().delete()  # results travel too: tests/interop/test_fhir_results.py
    source.responses.all().delete()  # and responses: tests/interop/test_fhir_questionnaires.py
    bundle = json.loads(json.dumps(patient_bundle(source)))

    dry = plan_import(target, bundle, override_patient_check=True)
    assert dry.patient_check.overridden
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

    applied = do_import_fhir(target, bundle, override_patient_check=True)
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

    again = do_import_fhir(target, bundle, override_patient_check=True)
    assert again.by_outcome("add") == []
    assert len(again.by_outcome("present")) == 4
    assert target.medications.count() == 2


def test_an_inactive_condition_is_reactivated(clinic: Clinic) -> None:
    p1 = patient(clinic, 1)
    PatientCondition.objects.create(patient=p1, code="liver_disease", active=False)
    report = do_import_fhir(p1, ehr_bundle(p1))
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


# ------------------------------------------------------------------ whose bundle is it


def expect_refused(p: PatientProfile, bundle: dict[str, Any], *fragments: str) -> None:
    """Refused with ``fragments`` in the message and nothing written; the dry run says so."""
    report = plan_import(p, bundle)
    assert not report.patient_check.ok and not report.patient_check.overridden
    before = (MedicationStatement.objects.count(), AuditEvent.objects.count())
    with pytest.raises(PatientMismatchError) as caught:
        do_import_fhir(p, bundle)
    for fragment in (*fragments, "--override-patient-check"):
        assert fragment in str(caught.value)
    assert (MedicationStatement.objects.count(), AuditEvent.objects.count()) == before


def test_a_bundle_of_another_patient_is_refused_unless_overridden(clinic: Clinic) -> None:
    p1, p3 = patient(clinic, 1), patient(clinic, 3)
    assert p1.display_name != p3.display_name and p1.year_of_birth != p3.year_of_birth
    bundle = ehr_bundle(p3)
    expect_refused(p1, bundle, "is not this patient", f"{p1.display_name!r} here", "born")

    report = do_import_fhir(p1, bundle, override_patient_check=True)
    assert report.applied and report.patient_check.overridden
    assert p1.medications.filter(ingredient="sertraline").exists()
    assert AuditEvent.objects.filter(
        patient=p1, action="fhir.import.patient_check_overridden"
    ).exists()


def test_each_of_name_birth_year_and_identifier_must_match(clinic: Clinic) -> None:
    p1, p3 = patient(clinic, 1), patient(clinic, 3)
    expect_refused(p1, ehr_bundle(p1, birthDate="1901-02-03"), "born 1901 in the bundle")
    other_name = [{"text": p3.display_name}]
    expect_refused(p1, ehr_bundle(p1, name=other_name), f"name {p3.display_name!r}")
    ours = {"system": codes.SID_PATIENT, "value": str(p3.uuid)}
    expect_refused(p1, ehr_bundle(p1, identifier=[ours]), f"KratomWatch id {p3.uuid}")
    # Our own export of a patient names them by id, name and year of birth.
    expect_refused(p1, json.loads(json.dumps(patient_bundle(p3))), "KratomWatch id")
    own = plan_import(p1, json.loads(json.dumps(patient_bundle(p1)))).patient_check
    assert own.ok and own.matched == ("KratomWatch id", "name", "year of birth")


def test_the_same_name_written_differently_matches(clinic: Clinic) -> None:
    p1 = patient(clinic, 1)
    first, _, last = p1.display_name.rpartition(" ")
    for name in (
        {"text": f"{last}, {first}"},
        {"text": f"  {first.upper()}   {last.lower()} "},
        {"family": last, "given": [first, "Maria"], "prefix": ["Dr."]},
    ):
        check = plan_import(p1, ehr_bundle(p1, name=[name])).patient_check
        assert check.ok and "name" in check.matched, name
    accented = {"text": f"{first} {last}".replace("e", "\u00e9").replace("a", "\u00e1")}
    assert plan_import(p1, ehr_bundle(p1, name=[accented])).patient_check.ok


def test_a_bundle_that_does_not_say_whose_it_is_is_refused(clinic: Clinic) -> None:
    p1 = patient(clinic, 1)
    expect_refused(p1, ehr_bundle(), "cannot be checked", "(Patient/ehr-1) is not in it")
    nameless = ehr_bundle(p1, name=None)
    del nameless["entry"][-1]["resource"]["name"]
    expect_refused(p1, nameless, "neither a name nor a KratomWatch id")
    by_identifier = ehr_bundle()
    for entry in by_identifier["entry"]:
        if "subject" in entry["resource"]:
            entry["resource"]["subject"] = {
                "identifier": {"system": codes.SID_PATIENT, "value": str(p1.uuid)}
            }
    check = plan_import(p1, by_identifier).patient_check
    assert check.ok and check.matched == ("KratomWatch id",)
    assert do_import_fhir(p1, ehr_bundle(), override_patient_check=True).applied


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x85", "\ud800"])
def test_text_that_cannot_be_stored_is_refused_with_its_place(clinic: Clinic, char: str) -> None:
    p1 = patient(clinic, 1)
    bundle = ehr_bundle()
    bundle["entry"][0]["resource"]["note"] = [{"text": f"take with food{char}"}]
    expect_problems(p1, bundle, "entry[0].resource.note[0].text")
