"""Results as FHIR Observations: export validated with the R4B models, and a round trip."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from kratomwatch.clinic.actions.results import do_record_results
from kratomwatch.clinic.models import AuditEvent, Clinic, LabResult, PatientProfile
from kratomwatch.domain.results import check_batch
from kratomwatch.interop.fhir_export import patient_bundle
from kratomwatch.interop.fhir_import import do_import_fhir, plan_import

from .conftest import patient

UCUM = "http://unitsofmeasure.org"
TAKEN = datetime(2026, 11, 18, 8, 30, tzinfo=UTC)


def record(p: PatientProfile) -> None:
    """These results only: the demo's own (some stories have results) are taken away first."""
    LabResult.objects.filter(patient=p).delete()
    batch = check_batch(
        taken_at=TAKEN,
        values={
            "alt": {"value": "310", "unit": "U/L", "upper_limit": "40"},
            "alp": {"value": "120", "unit": "U/L"},
            "bilirubin": {"value": "34.2", "unit": "µmol/L"},
            "qtc": {"value": "478", "unit": "ms"},
        },
        screens={"benzodiazepines": "positive", "fentanyl": "negative", "cocaine": "not_tested"},
        specimen="urine",
        now=datetime(2026, 11, 20, tzinfo=UTC),
        note="fasting",
    )
    do_record_results(patient=p, user=None, batch=batch)


def observations(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {}
    for entry in bundle["entry"]:
        r = entry["resource"]
        if r["resourceType"] == "Observation":
            for c in r["code"].get("coding", []):
                if c["code"].startswith("result."):
                    found[c["code"].removeprefix("result.")] = r
    return found


def test_results_export_as_valid_observations(clinic: Clinic) -> None:
    source = patient(clinic, 3)
    record(source)
    bundle = json.loads(json.dumps(patient_bundle(source)))
    Bundle.model_validate(bundle)
    obs = observations(bundle)
    assert set(obs) == {"alt", "alp", "bilirubin", "qtc", "benzodiazepines", "fentanyl", "cocaine"}
    alt = obs["alt"]
    assert alt["category"][0]["coding"][0]["code"] == "laboratory"
    assert {"system": "http://loinc.org", "code": "1742-6"}.items() <= alt["code"]["coding"][
        0
    ].items()
    assert alt["valueQuantity"] == {
        "value": 310, "unit": "U/L", "system": "http://unitsofmeasure.org", "code": "U/L"
    }  # fmt: skip
    assert alt["referenceRange"][0]["high"]["value"] == 40
    assert alt["interpretation"][0]["coding"][0]["code"] == "H"
    assert obs["bilirubin"]["valueQuantity"]["value"] == 2
    assert obs["bilirubin"]["valueQuantity"]["code"] == "mg/dL"
    assert obs["qtc"]["category"][0]["coding"][0]["code"] == "procedure"
    assert obs["qtc"]["code"]["coding"][0]["code"] == "8636-3"
    benzo = obs["benzodiazepines"]
    assert benzo["valueCodeableConcept"]["text"] == "Positive"
    assert benzo["contained"][0]["type"]["text"] == "urine"
    assert all(c["system"] != "http://loinc.org" for c in benzo["code"]["coding"])
    assert obs["cocaine"]["dataAbsentReason"]["coding"][0]["code"] == "not-performed"
    assert alt["note"] == [{"text": "fasting"}]


def test_results_round_trip_and_a_second_import_adds_nothing(clinic: Clinic) -> None:
    source, target = patient(clinic, 3), patient(clinic, 1)
    record(source)
    LabResult.objects.filter(patient=target).delete()
    bundle = json.loads(json.dumps(patient_bundle(source)))
    dry = plan_import(target, bundle, override_patient_check=True)
    assert len([i for i in dry.by_outcome("add") if i.kind == "result"]) == 7
    assert not target.results.exists()

    do_import_fhir(target, bundle, override_patient_check=True)
    key = ("analyte", "kind", "taken_at", "value", "unit", "upper_limit", "outcome", "specimen")
    assert sorted(target.results.values_list(*key)) == sorted(source.results.values_list(*key))
    assert set(target.results.values_list("source", flat=True)) == {"import"}
    assert AuditEvent.objects.filter(patient=target, action="result.import").count() == 7

    again = plan_import(target, bundle, override_patient_check=True)
    assert not [i for i in again.by_outcome("add") if i.kind == "result"]
    assert len([i for i in again.by_outcome("present") if i.kind == "result"]) == 7


def _ehr_observation(value: Any, unit: str, code: str = "1742-6") -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}],  # noqa: E501
        "code": {"coding": [{"system": "http://loinc.org", "code": code}], "text": "ALT"},
        "subject": {"reference": "Patient/ehr-1"},
        "effectiveDateTime": "2026-11-18T08:30:00+01:00",
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
    }  # fmt: skip


def test_an_ehr_lab_result_is_checked_like_one_typed_in(clinic: Clinic) -> None:
    target = patient(clinic, 1)
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": _ehr_observation(88, "U/L")},
            {"resource": _ehr_observation(88, "ukat/L")},
            {"resource": _ehr_observation(5, "g/L", code="2345-7")},  # glucose: not ours
        ],
    }
    report = do_import_fhir(target, bundle, override_patient_check=True)
    results = [i for i in report.items if i.kind == "result"]
    assert [i.outcome for i in results] == ["add", "skipped"]
    assert "no unit is assumed" in results[1].reason
    assert report.ignored == {"Observation": 1}
    row = LabResult.objects.get(patient=target)
    assert row.value == Decimal("88") and row.unit == "U/L"
    assert row.taken_at == datetime(2026, 11, 18, 7, 30, tzinfo=UTC)
