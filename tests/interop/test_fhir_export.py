"""FHIR export: every resource validates against the R4B models, ids and references hold."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from kratomwatch.clinic.actions.findings import do_acknowledge_finding, do_resolve_finding
from kratomwatch.clinic.models import (
    AuditEvent,
    Clinic,
    PatientCondition,
    PatientProfile,
    Plan,
    Product,
    QuestionnaireResponse,
    Role,
    User,
)
from kratomwatch.domain.questionnaires import Licence, get_instrument, score
from kratomwatch.interop import codes
from kratomwatch.interop.fhir_export import (
    NDJSON_TYPES,
    export_clinic_ndjson,
    observation_id,
    patient_bundle,
    questionnaire_resource,
)

from .conftest import patient

ALL_TYPES = {
    "Patient",
    "Condition",
    "MedicationStatement",
    "Observation",
    "Questionnaire",
    "QuestionnaireResponse",
    "DetectedIssue",
    "CarePlan",
    "Provenance",
}


def enrich(clinic: Clinic) -> None:
    """Add what the seed lacks: a PHQ-9, a revised plan, handled findings, odd text."""
    p1 = patient(clinic, 1)
    clinician = User.objects.get(clinic=clinic, role=Role.CLINICIAN, username="dr.lee")
    phq9 = get_instrument("phq9")
    answers = [1, 2, 0, 1, 3, 0, 1, 0, 1]
    result = score(phq9, answers).to_dict()
    QuestionnaireResponse.objects.create(
        patient=p1,
        instrument_id="phq9",
        instrument_version=phq9.version,
        answers=answers,
        total=Decimal(result["total"]),
        scores={k: result[k] for k in ("subscales", "band", "flags")},
        taken_at=timezone.now(),
        completed_by=p1.user,
        idempotency_key="test-phq9",
    )
    Plan.objects.filter(patient=p1).update(active=False)
    Plan.objects.create(
        patient=p1,
        version=2,
        kind="taper",
        author=clinician,
        reason="Agreed taper",
        max_daily_dose_g=Decimal("4.5"),
        details={"steps": [{"week": 1, "max_daily_dose_g": "4.5"}]},
    )
    PatientCondition.objects.get_or_create(patient=p1, code="fibromyalgia")
    findings = list(p1.findings.order_by("pk"))
    do_acknowledge_finding(findings[0], clinician, "Discussed at visit")
    if len(findings) > 1:
        do_resolve_finding(findings[1], clinician, "No longer relevant")


def resources_of(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [entry["resource"] for entry in bundle["entry"]]


def test_every_exported_resource_validates_against_r4b(clinic: Clinic) -> None:
    enrich(clinic)
    seen: Counter[str] = Counter()
    for profile in PatientProfile.objects.filter(clinic=clinic):
        bundle = json.loads(json.dumps(patient_bundle(profile)))  # as written to a file
        assert bundle["type"] == "collection"
        Bundle.model_validate(bundle)
        for resource in resources_of(bundle):
            model = get_fhir_model_class(resource["resourceType"])
            assert model.model_validate(resource).id == resource["id"]
            seen[resource["resourceType"]] += 1
    assert set(seen) == ALL_TYPES


def test_ids_are_public_uuids_and_every_reference_resolves(clinic: Clinic) -> None:
    p3 = patient(clinic, 3)
    bundle = patient_bundle(p3)
    full_urls = {entry["fullUrl"] for entry in bundle["entry"]}
    by_type: dict[str, set[str]] = {}
    for resource in resources_of(bundle):
        by_type.setdefault(resource["resourceType"], set()).add(resource["id"])
    assert by_type["Patient"] == {str(p3.uuid)}
    assert by_type["Condition"] == {str(c.uuid) for c in p3.conditions.all()}
    assert by_type["MedicationStatement"] == {str(m.uuid) for m in p3.medications.all()} | {
        str(p.uuid) for p in p3.products.all()
    }
    assert by_type["QuestionnaireResponse"] == {str(r.uuid) for r in p3.responses.all()}
    assert by_type["Observation"] == {observation_id(r.uuid) for r in p3.responses.all()} | {
        str(r.uuid) for r in p3.results.all()
    }
    assert by_type["DetectedIssue"] == {str(f.uuid) for f in p3.findings.all()}

    def references(node: Any) -> list[str]:
        if isinstance(node, dict):
            # A Reference has a string "reference"; DetectedIssue.reference is a plain URI.
            is_ref = isinstance(node.get("reference"), str) and "resourceType" not in node
            found = [node["reference"]] if is_ref else []
            return found + [r for v in node.values() for r in references(v)]
        if isinstance(node, list):
            return [r for v in node for r in references(v)]
        return []

    refs = references(bundle["entry"])
    contained = {r for r in refs if r.startswith("#")}  # within the resource (a Specimen)
    assert contained <= {"#specimen"}
    refs = [r for r in refs if r not in contained]
    assert refs and all(r.startswith("urn:uuid:") for r in refs)
    assert set(refs) <= full_urls
    provenance = [r for r in resources_of(bundle) if r["resourceType"] == "Provenance"]
    assert len(provenance) == 1
    targets = {t["reference"] for t in provenance[0]["target"]}
    assert targets == full_urls - {f"urn:uuid:{provenance[0]['id']}"}


def test_patient_carries_only_what_is_stored(clinic: Clinic) -> None:
    p1 = patient(clinic, 1)
    resource = next(r for r in resources_of(patient_bundle(p1)) if r["resourceType"] == "Patient")
    assert resource["name"] == [{"text": p1.display_name}]
    assert resource["birthDate"] == str(p1.year_of_birth)
    assert resource["gender"] == p1.sex
    assert set(resource) <= {
        "resourceType",
        "id",
        "meta",
        "identifier",
        "active",
        "name",
        "gender",
        "birthDate",
        "managingOrganization",
    }


def test_codes_loinc_only_where_verified_and_icd10_only_where_exact(clinic: Clinic) -> None:
    enrich(clinic)
    resources = resources_of(patient_bundle(patient(clinic, 1)))
    observations = [r for r in resources if r["resourceType"] == "Observation"]
    loinc = [c for o in observations for c in o["code"]["coding"] if c["system"] == codes.LOINC]
    assert [c["code"] for c in loinc] == ["44261-6"]
    daily = [o for o in observations if o["code"]["coding"][0]["code"] == "kw-daily-pain.total"]
    assert daily and all(len(o["code"]["coding"]) == 1 for o in daily)
    assert daily[0]["code"]["coding"][0]["system"] == codes.CS_OBSERVATION
    assert daily[0]["valueQuantity"]["code"] == "{score}"
    conditions = {
        r["code"]["coding"][0]["code"]: r["code"]["coding"]
        for r in resources
        if r["resourceType"] == "Condition"
    }
    assert conditions["fibromyalgia"][1] == {
        "system": codes.ICD10CM,
        "code": "M79.7",
        "display": "Fibromyalgia",
    }
    assert all(c[0]["system"] == codes.CS_CONDITION for c in conditions.values())
    assert len(conditions["low_back_pain"]) == 1


def test_findings_plans_and_products_are_mapped(clinic: Clinic) -> None:
    enrich(clinic)
    p1 = patient(clinic, 1)
    resources = resources_of(patient_bundle(p1))
    issues = {r["id"]: r for r in resources if r["resourceType"] == "DetectedIssue"}
    acknowledged = p1.findings.get(status="acknowledged")
    issue = issues[str(acknowledged.uuid)]
    assert issue["severity"] == acknowledged.severity
    assert issue["detail"] == acknowledged.rationale
    assert issue["code"]["coding"][0] == {
        "system": codes.CS_FINDING,
        "code": acknowledged.code,
        "display": acknowledged.title,
    }
    assert issue["mitigation"][0]["action"]["text"] == "Discussed at visit"
    assert issue["mitigation"][0]["author"]["display"] == "Mina Lee"
    urls = [r["url"] for r in acknowledged.references if r.get("url")]
    evidence_urls = [
        d["identifier"]["value"] for e in issue["evidence"] for d in e.get("detail", [])
    ]
    assert evidence_urls == urls
    plans = sorted(
        (r for r in resources if r["resourceType"] == "CarePlan"), key=lambda r: r["title"]
    )
    assert [p["status"] for p in plans] == ["revoked", "active"]
    assert plans[1]["replaces"][0]["reference"] == f"urn:uuid:{plans[0]['id']}"
    assert "Maximum daily dose: 4.5 g" in plans[1]["description"]
    product = Product.objects.get(patient=p1)
    statement = next(r for r in resources if r["id"] == str(product.uuid))
    assert statement["medicationCodeableConcept"]["coding"][0]["system"] == codes.CS_KRATOM_PRODUCT
    assert statement["dosage"][0]["doseAndRate"][0]["doseQuantity"]["unit"] == "g"
    assert f"{p1.doses.count()} doses" in statement["dosage"][0]["text"]


def test_wording_that_may_not_be_redistributed_is_left_out() -> None:
    phq9 = get_instrument("phq9")
    closed = dataclasses.replace(phq9, licence=Licence(status="Licensed", redistributable=False))
    open_items = questionnaire_resource(phq9)["item"]
    closed_items = questionnaire_resource(closed)["item"]
    assert open_items[0]["text"] == phq9.items[0].text
    assert phq9.items[0].text not in json.dumps(closed_items)
    assert all("display" not in o["valueCoding"] for o in closed_items[0]["answerOption"])
    get_fhir_model_class("Questionnaire").model_validate(questionnaire_resource(closed))


def test_clinic_ndjson_files_validate_and_reference_each_other(
    clinic: Clinic, tmp_path: Path
) -> None:
    counts = export_clinic_ndjson(clinic, tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert {o["type"]: o["count"] for o in manifest["output"]} == counts
    ids: set[str] = set()
    references: list[str] = []
    for name in NDJSON_TYPES:
        lines = (tmp_path / f"{name}.ndjson").read_text().splitlines()
        assert len(lines) == counts[name]
        model = get_fhir_model_class(name)
        for line in lines:
            resource = json.loads(line)
            model.model_validate(resource)
            ids.add(f"{name}/{resource['id']}")
            references += [
                r["reference"]
                for key in ("subject", "patient", "derivedFrom", "target", "replaces")
                for r in (
                    resource[key] if isinstance(resource.get(key), list) else [resource.get(key)]
                )
                if isinstance(r, dict) and "reference" in r
            ]
    assert counts["Patient"] == 6 and counts["Provenance"] == 6
    assert counts["Questionnaire"] == len(
        set(
            QuestionnaireResponse.objects.filter(patient__clinic=clinic).values_list(
                "instrument_id", flat=True
            )
        )
    )
    assert references and set(references) <= ids
    assert AuditEvent.objects.filter(action="fhir.export").count() == 6
