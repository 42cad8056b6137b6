"""GET /api/patients/{uuid}/notes: what the screening shows beside a medication or product."""

from __future__ import annotations

from collections.abc import Callable

from kratomwatch.clinic.actions.screening import do_screen_patient
from kratomwatch.clinic.models import MedicationStatement

from .conftest import Api, Triangle


def test_clinicians_read_notes_that_are_not_findings(
    api_as: Callable[..., Api], tri: Triangle
) -> None:
    MedicationStatement.objects.create(patient=tri.patient, name_entered="Imodium 2 mg prn")
    do_screen_patient(tri.patient.pk)
    clinician = api_as("clinician")
    answer = clinician.get(f"/api/patients/{tri.patient.uuid}/notes")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["knowledge_version"]
    (note,) = [n for n in body["items"] if n["code"] == "interaction.loperamide"]
    assert note["about"] == [{"type": "medication", "name": "Imodium 2 mg prn", "dose": None}]
    assert note["references"] and all(r.get("citation") for r in note["references"])
    findings = clinician.get(f"/api/patients/{tri.patient.uuid}/findings").json()["items"]
    assert "interaction.loperamide" not in {f["code"] for f in findings}


def test_patients_and_strangers_get_404(api_as: Callable[..., Api], tri: Triangle) -> None:
    for who in ("patient", "outsider"):
        answer = api_as(who).get(f"/api/patients/{tri.patient.uuid}/notes")
        assert answer.status_code == 404, who
