"""Check-ins, questionnaire responses, symptoms and plans through the API."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from kratomwatch.clinic.models import (
    EntrySource,
    Plan,
    PlanKind,
    QuestionnaireResponse,
    SymptomReport,
)

from .conftest import Triangle

WHO = ["patient", "other_patient", "clinician", "colleague", "outsider", "admin"]
LISTS = ["checkins", "responses", "symptoms", "plans"]


@pytest.mark.parametrize("kind", LISTS)
@pytest.mark.parametrize("who", WHO)
def test_only_the_patient_and_their_clinician_read_the_record(
    api_as: Callable[..., Any], tri: Triangle, kind: str, who: str
) -> None:
    SymptomReport.objects.create(
        patient=tri.patient, term="Nausea (feeling sick)", severity=1, reported_at=timezone.now()
    )
    Plan.objects.create(
        patient=tri.patient,
        version=1,
        kind=PlanKind.TAPER,
        author=tri.clinician,
        reason="intake",
        max_daily_dose_g=Decimal("8"),
        details={"steps": [{"start": "2027-01-04", "daily_g": "7"}]},
    )
    response = api_as(who, scope="read").get(f"/api/patients/{tri.patient.uuid}/{kind}")
    if who in ("patient", "clinician"):
        assert response.status_code == 200
        assert response.json()["items"], kind
    else:
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"


def test_plan_versions_are_listed_with_their_steps(
    api_as: Callable[..., Any], tri: Triangle
) -> None:
    Plan.objects.create(
        patient=tri.patient,
        version=1,
        kind=PlanKind.TAPER,
        author=tri.clinician,
        reason="intake",
        max_daily_dose_g=Decimal("8.0"),
        details={"steps": [{"start": "2027-01-04", "daily_g": "7"}]},
    )
    item = api_as("patient").get(f"/api/patients/{tri.patient.uuid}/plans").json()["items"][0]
    assert item["max_daily_dose_g"] == "8" and item["steps"][0]["daily_g"] == "7"
    assert item["approved_at"]  # when its limits started to apply


def test_a_patient_records_a_questionnaire_once(api_as: Callable[..., Any], tri: Triangle) -> None:
    api = api_as("patient")
    url = f"/api/patients/{tri.patient.uuid}/responses"
    body = {"instrument_id": "gad2", "answers": [2, 1]}
    first = api.post(url, body, key="q-1")
    assert first.status_code == 201
    assert first.json()["total"] == "3" and first.json()["band"]
    stored = QuestionnaireResponse.objects.get(uuid=first.json()["uuid"])
    assert stored.source == EntrySource.API
    again = api.post(url, body, key="q-1")
    assert again.status_code == 200 and again.json()["uuid"] == first.json()["uuid"]
    assert api.post(url, {"instrument_id": "gad2", "answers": [0, 0]}, key="q-1").status_code == 409
    assert (
        QuestionnaireResponse.objects.filter(patient=tri.patient, instrument_id="gad2").count() == 2
    )  # + fixture


@pytest.mark.parametrize(
    "body, field",
    [
        ({"instrument_id": "nope", "answers": [1]}, "instrument_id"),
        ({"instrument_id": "gad2", "answers": [1]}, "answers"),
        ({"instrument_id": "gad2", "answers": [9, 1]}, "answers."),
    ],
)
def test_bad_answers_are_refused_with_field_errors(
    api_as: Callable[..., Any], tri: Triangle, body: dict[str, Any], field: str
) -> None:
    response = api_as("patient").post(
        f"/api/patients/{tri.patient.uuid}/responses", body, key="bad"
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert any(e["field"].startswith(field) for e in response.json()["errors"])


@pytest.mark.parametrize("who", ["clinician", "other_patient"])
def test_others_cannot_record_answers(api_as: Callable[..., Any], tri: Triangle, who: str) -> None:
    response = api_as(who).post(
        f"/api/patients/{tri.patient.uuid}/responses",
        {"instrument_id": "gad2", "answers": [0, 0]},
        key="x",
    )
    assert response.status_code == (403 if who == "clinician" else 404)


def test_a_read_token_cannot_record(api_as: Callable[..., Any], tri: Triangle) -> None:
    response = api_as("patient", scope="read").post(
        f"/api/patients/{tri.patient.uuid}/responses",
        {"instrument_id": "gad2", "answers": [0, 0]},
        key="r",
    )
    assert response.status_code == 403


def test_a_crisis_answer_in_unfinished_answers_is_saved_with_its_guidance(
    api_as: Callable[..., Any], tri: Triangle
) -> None:
    api = api_as("patient")
    url = f"/api/patients/{tri.patient.uuid}/responses"
    answers: list[int | None] = [None] * 10
    answers[8] = 2  # PHQ-9 item 9, the rest not answered yet
    for _ in range(2):  # sent again, as an app retrying would
        response = api.post(url, {"instrument_id": "phq9", "answers": answers}, key="crisis")
        assert response.status_code == 422
        body = response.json()
        assert body["urgent"] and "988" in body["urgent"][0]["message"]
    report = SymptomReport.objects.get(patient=tri.patient)
    assert report.severity == 3 and report.term.startswith("Thoughts of suicide")
    assert report.source == EntrySource.API
    assert not QuestionnaireResponse.objects.filter(patient=tri.patient, instrument_id="phq9")
    answers = [0] * 9 + [None]
    answers[8] = 2
    assert (
        api.post(url, {"instrument_id": "phq9", "answers": answers}, key="crisis").status_code
        == 201
    )
    assert SymptomReport.objects.filter(patient=tri.patient).count() == 1


def test_unfinished_answers_without_a_crisis_answer_save_nothing(
    api_as: Callable[..., Any], tri: Triangle
) -> None:
    response = api_as("patient").post(
        f"/api/patients/{tri.patient.uuid}/responses",
        {"instrument_id": "phq9", "answers": [None] * 8 + [0, None]},
        key="calm",
    )
    assert response.status_code == 422 and "urgent" not in response.json()
    assert not SymptomReport.objects.filter(patient=tri.patient).exists()


def test_a_crisis_answer_gets_through_a_key_reused_for_other_answers(
    api_as: Callable[..., Any], tri: Triangle
) -> None:
    api = api_as("patient")
    url = f"/api/patients/{tri.patient.uuid}/responses"
    assert (
        api.post(
            url, {"instrument_id": "phq9", "answers": [0] * 9 + [None]}, key="used"
        ).status_code
        == 201
    )
    crisis = [0] * 8 + [2, None]
    for _ in range(2):  # sent again, as an app retrying would
        response = api.post(url, {"instrument_id": "phq9", "answers": crisis}, key="used")
        assert response.status_code == 409
        assert "988" in response.json()["urgent"][0]["message"]
    report = SymptomReport.objects.get(patient=tri.patient)
    assert report.severity == 3 and report.term.startswith("Thoughts of suicide")
    assert (
        QuestionnaireResponse.objects.filter(patient=tri.patient, instrument_id="phq9").count() == 1
    )
