"""Symptoms through the API: a red flag goes through the web check-in's action, its urgent
guidance in the reply and the care team alerted; any other symptom is saved on its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kratomwatch.clinic.models import AuditEvent, Finding, FindingAlert, SymptomReport
from kratomwatch.domain.safety import load_knowledge

from .conftest import Triangle

RED_FLAGS = [s.id for s in load_knowledge().symptoms.values() if s.red_flag]


def url(t: Triangle) -> str:
    return f"/api/patients/{t.patient.uuid}/symptoms"


def test_a_side_effect_is_saved_once(api_as: Callable[..., Any], tri: Triangle) -> None:
    api = api_as("patient")
    response = api.post(url(tri), {"symptom": "constipation", "severity": 2}, key="s1")
    assert response.status_code == 201, response.content
    reply = response.json()
    assert reply["red_flag"] is False and reply["urgent"] == []
    assert (reply["symptom"]["term"], reply["symptom"]["severity"]) == ("Constipation", 2)
    report = SymptomReport.objects.get(patient=tri.patient)
    assert report.source == "api" and report.checkin is None
    assert AuditEvent.objects.filter(action="symptom.create", object_uuid=report.uuid).exists()
    again = api.post(url(tri), {"symptom": "constipation", "severity": 2}, key="s1")
    assert again.status_code == 200 and again.json() == {**reply}
    assert SymptomReport.objects.count() == 1
    listed = api_as("clinician", scope="read").get(url(tri)).json()["items"]
    assert [s["term"] for s in listed] == ["Constipation"]


@pytest.mark.parametrize("flag", RED_FLAGS)
def test_a_red_flag_returns_its_guidance_and_alerts_the_care_team(
    api_as: Callable[..., Any], tri: Triangle, flag: str, django_capture_on_commit_callbacks: Any
) -> None:
    rule = next(
        r for r in load_knowledge().rules if r.kind == "symptom" and flag in r.trigger["symptoms"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as("patient").post(url(tri), {"symptom": flag}, key="rf")
    assert response.status_code == 201, response.content
    reply = response.json()
    assert reply["red_flag"] is True and reply["symptom"]["severity"] == 3
    assert rule.title in [u["title"] for u in reply["urgent"]]
    assert all(u["message"] for u in reply["urgent"])
    finding = Finding.objects.get(patient=tri.patient, code=rule.id, status="open")
    assert FindingAlert.objects.filter(finding=finding, clinician=tri.clinician).exists()
    assert AuditEvent.objects.filter(action="symptom.red_flag", patient=tri.patient).count() == 1


def test_a_red_flag_sent_again_is_saved_once(api_as: Callable[..., Any], tri: Triangle) -> None:
    api = api_as("patient")
    first = api.post(url(tri), {"symptom": "chest_pain"}, key="rf")
    again = api.post(url(tri), {"symptom": "chest_pain"}, key="rf")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["urgent"] == first.json()["urgent"]  # the guidance, every time
    assert SymptomReport.objects.count() == 1


@pytest.mark.parametrize(
    ("sent", "field"),
    [
        ({"symptom": "hiccups", "severity": 1}, "symptom"),
        ({"symptom": "nausea"}, "severity"),
        ({"symptom": "nausea", "severity": 4}, "severity"),
        ({"symptom": "nausea", "severity": 0}, "severity"),
        ({"severity": 1}, "symptom"),
    ],
)
def test_bad_symptoms_are_refused(
    api_as: Callable[..., Any], tri: Triangle, sent: dict[str, Any], field: str
) -> None:
    response = api_as("patient").post(url(tri), sent)
    assert response.status_code == 422
    assert field in {e["field"] for e in response.json()["errors"]}
    assert not SymptomReport.objects.exists()


@pytest.mark.parametrize(
    ("who", "scope", "status"),
    [
        ("clinician", "write", 403),
        ("outsider", "write", 404),
        ("admin", "write", 404),
        ("other_patient", "write", 404),
        ("patient", "read", 403),
        ("anonymous", "write", 401),
    ],
)
def test_only_the_patient_reports(
    api_as: Callable[..., Any], tri: Triangle, who: str, scope: str, status: int
) -> None:
    response = api_as(who, scope=scope).post(url(tri), {"symptom": "chest_pain"})
    assert response.status_code == status
    assert not SymptomReport.objects.exists()


def test_the_symptom_terms_are_listed(api_as: Callable[..., Any], tri: Triangle) -> None:
    terms = api_as("patient", scope="read").get("/api/symptom-terms").json()
    assert {t["id"] for t in terms if t["red_flag"]} == set(RED_FLAGS)
    assert {"id": "nausea", "label": "Nausea (feeling sick)", "red_flag": False} in terms


def test_a_red_flag_gets_through_a_key_reused_for_another_symptom(
    api_as: Callable[..., Any], tri: Triangle, django_capture_on_commit_callbacks: Any
) -> None:
    api = api_as("patient")
    with django_capture_on_commit_callbacks(execute=True):
        first = api.post(url(tri), {"symptom": "nausea", "severity": 1}, key="used")
    assert first.status_code == 201
    rule = next(
        r
        for r in load_knowledge().rules
        if r.kind == "symptom" and "seizure" in r.trigger["symptoms"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        refused = api.post(url(tri), {"symptom": "seizure"}, key="used")
    assert refused.status_code == 409, refused.content
    assert rule.title in [u["title"] for u in refused.json()["urgent"]]
    saved = SymptomReport.objects.get(patient=tri.patient, severity=3)
    assert saved.term.startswith("Seizure") and saved.source == "api"
    finding = Finding.objects.get(patient=tri.patient, code=rule.id, status="open")
    assert FindingAlert.objects.filter(finding=finding, clinician=tri.clinician).exists()
    # Sent again: refused again with the guidance, saved once.
    again = api.post(url(tri), {"symptom": "seizure"}, key="used")
    assert again.status_code == 409 and again.json()["urgent"] == refused.json()["urgent"]
    assert SymptomReport.objects.filter(patient=tri.patient).count() == 2
    # Another side effect under the used key: a plain 409, nothing saved.
    plain = api.post(url(tri), {"symptom": "nausea", "severity": 3}, key="used")
    assert plain.status_code == 409 and "urgent" not in plain.json()
    assert SymptomReport.objects.filter(patient=tri.patient).count() == 2
