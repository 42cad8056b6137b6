"""Whole check-ins through the API: the same action as the web check-in, idempotent, with a
red flag's urgent guidance in the reply and the care team alerted as from the web."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kratomwatch.clinic.models import (
    AuditEvent,
    CheckIn,
    DoseEntry,
    Finding,
    FindingAlert,
    QuestionnaireSchedule,
    SymptomReport,
)
from kratomwatch.domain.safety import load_knowledge
from tests.web.test_patient_checkin import checkin_data

from .conftest import Triangle

RATINGS = {
    "pain_now": 6,
    "pain_average": 5,
    "interference_activity": 4,
    "interference_enjoyment": 3,
    "sleep_quality": 7,
}


def url(t: Triangle) -> str:
    return f"/api/patients/{t.patient.uuid}/checkins"


def body(t: Triangle, **extra: Any) -> dict[str, Any]:
    sent: dict[str, Any] = {
        "ratings": RATINGS,
        "doses": [
            {
                "product": str(t.product.uuid),
                "amount": "2",
                "unit": "g",
                "taken_at": timezone.now().isoformat(),
            }
        ],
        "side_effects": {"nausea": 2},
        "red_flags": [],
        "note": "slept badly",
    }
    sent.update(extra)
    return sent


def rule_for(flag: str) -> Any:
    return next(
        r for r in load_knowledge().rules if r.kind == "symptom" and flag in r.trigger["symptoms"]
    )


def test_a_whole_checkin_is_saved_once(api_as: Callable[..., Any], tri: Triangle) -> None:
    api = api_as("patient")
    sent_body = body(tri)
    response = api.post(url(tri), sent_body, key="c1")
    assert response.status_code == 201, response.content
    sent = response.json()
    entry = CheckIn.objects.get(uuid=sent["uuid"])
    assert entry.patient == tri.patient and entry.note == "slept badly"
    assert [r["instrument_id"] for r in sent["responses"]] == ["kw-daily-pain"]
    assert sent["responses"][0]["answers"] == [6, 5, 4, 3, 7]
    assert [(d["amount"], d["unit"], d["source"]) for d in sent["doses"]] == [("2", "g", "api")]
    assert [(s["term"], s["severity"]) for s in sent["symptoms"]] == [("Nausea (feeling sick)", 2)]
    assert sent["urgent"] == []
    assert DoseEntry.objects.get(checkin=entry).leaf_equivalent_g is not None
    assert AuditEvent.objects.filter(action="checkin.create", object_uuid=entry.uuid).exists()
    # A retry with the same key answers with the same check-in and adds nothing.
    again = api.post(url(tri), sent_body, key="c1")
    assert again.status_code == 200 and again.json()["uuid"] == sent["uuid"]
    assert CheckIn.objects.filter(patient=tri.patient).count() == 2  # the fixture's and this
    assert DoseEntry.objects.filter(patient=tri.patient).count() == 1
    # The same key with another check-in is refused.
    other = api.post(url(tri), {**sent_body, "note": "another day"}, key="c1")
    assert other.status_code == 409
    # The check-in reads back whole, for the patient and their clinician.
    for who in ("patient", "clinician"):
        read = api_as(who, scope="read").get(f"{url(tri)}/{entry.uuid}")
        assert read.status_code == 200
        assert read.json()["doses"] == sent["doses"]
        assert read.json()["symptoms"] == sent["symptoms"]


def test_a_red_flag_returns_its_guidance_and_alerts_like_the_web(
    api_as: Callable[..., Any],
    tri: Triangle,
    client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    rule = rule_for("chest_pain")
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as("patient").post(url(tri), body(tri, red_flags=["chest_pain"]), key="rf")
    assert response.status_code == 201
    urgent = response.json()["urgent"]
    assert [u["title"] for u in urgent] == [rule.title]
    assert urgent[0]["message"] == rule.patient_message and urgent[0]["message"]
    report = SymptomReport.objects.get(patient=tri.patient, term__startswith="Chest pain")
    assert report.severity == 3 and report.checkin is not None and report.source == "api"
    by_api = Finding.objects.get(patient=tri.patient, category="red_flag", status="open")
    assert by_api.code == rule.id
    assert FindingAlert.objects.filter(finding=by_api).count() == 1  # Alice, on her channel
    # The web check-in of another patient, with the same red flag, does the same.
    client.force_login(tri.other_patient.user)
    with django_capture_on_commit_callbacks(execute=True):
        web = client.post(reverse("checkin"), checkin_data(tri, red_flags=["chest_pain"]))
    assert web.status_code == 302
    by_web = Finding.objects.get(patient=tri.other_patient, category="red_flag")
    assert (by_web.code, by_web.severity, by_web.title) == (
        by_api.code,
        by_api.severity,
        by_api.title,
    )
    assert FindingAlert.objects.filter(finding=by_web).count() == 1


def test_a_red_flag_gets_through_a_refused_checkin_and_is_added_once(
    api_as: Callable[..., Any], tri: Triangle, django_capture_on_commit_callbacks: Any
) -> None:
    api = api_as("patient")
    bad = body(tri, red_flags=["seizure"], ratings={"pain_now": 6})
    bad["doses"][0]["amount"] = "-1"
    with django_capture_on_commit_callbacks(execute=True):
        refused = api.post(url(tri), bad, key="half")
    assert refused.status_code == 422
    assert refused["Content-Type"] == "application/problem+json"
    problem = refused.json()
    assert [u["title"] for u in problem["urgent"]] == [rule_for("seizure").title]
    fields = {e["field"] for e in problem["errors"]}
    assert "doses.0.amount" in fields and "ratings.pain_average" in fields
    assert not CheckIn.objects.filter(patient=tri.patient, idempotency_key="api:half").exists()
    report = SymptomReport.objects.get(patient=tri.patient)
    assert report.checkin is None and report.severity == 3
    assert Finding.objects.filter(patient=tri.patient, category="red_flag").exists()
    # Sent again as it was, then corrected with the same key: the red flag is saved once.
    assert api.post(url(tri), bad, key="half").status_code == 422
    fixed = api.post(url(tri), body(tri, red_flags=["seizure"]), key="half")
    assert fixed.status_code == 201
    report = SymptomReport.objects.get(patient=tri.patient, severity=3)
    assert str(report.checkin.uuid) == fixed.json()["uuid"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"red_flags": ["nausea"]}, "red_flags.0"),  # not a red flag
        ({"red_flags": ["unheard_of"]}, "red_flags.0"),
        ({"side_effects": {"chest_pain": 2}}, "side_effects.0"),  # a red flag, not a side effect
        ({"side_effects": {"nausea": 7}}, "side_effects.nausea"),
        ({"ratings": {**RATINGS, "mood": 3}}, "ratings.mood"),
        ({"ratings": {**RATINGS, "pain_now": 11}}, "ratings.pain_now"),
        ({"withdrawal": {"sweating": 1}}, "withdrawal"),  # not asked of this patient
        ({"entered_at": "2020-01-01T08:00"}, "entered_at"),  # no time zone
        (
            {
                "doses": [
                    {
                        "product": "00000000-0000-4000-8000-000000000000",
                        "amount": "1",
                        "unit": "g",
                        "taken_at": "2026-01-01T08:00Z",
                    }
                ]
            },
            "doses.0.product",
        ),
    ],  # fmt: skip
)
def test_bad_input_is_a_specific_422_and_nothing_is_saved(
    api_as: Callable[..., Any], tri: Triangle, change: dict[str, Any], field: str
) -> None:
    response = api_as("patient").post(url(tri), body(tri, **change))
    assert response.status_code == 422, response.content
    problem = response.json()
    assert field in {e["field"] for e in problem["errors"]}, problem
    assert "urgent" not in problem
    assert CheckIn.objects.filter(patient=tri.patient).count() == 1  # the fixture's
    assert not DoseEntry.objects.exists() and not SymptomReport.objects.exists()


def test_the_withdrawal_checklist_is_asked_where_the_care_team_schedules_it_daily(
    api_as: Callable[..., Any], tri: Triangle
) -> None:
    QuestionnaireSchedule.objects.create(
        patient=tri.patient, instrument_id="kw-withdrawal", every_days=1, created_by=tri.clinician
    )
    missing = api_as("patient").post(url(tri), body(tri), key="w1")
    assert missing.status_code == 422
    assert any(e["field"].startswith("withdrawal.") for e in missing.json()["errors"])


@pytest.mark.parametrize(
    ("who", "scope", "status"),
    [
        ("clinician", "write", 403),
        ("colleague", "write", 404),
        ("outsider", "write", 404),
        ("admin", "write", 404),
        ("patient", "read", 403),
        ("anonymous", "write", 401),
    ],
)
def test_only_the_patient_sends_their_checkin(
    api_as: Callable[..., Any], tri: Triangle, who: str, scope: str, status: int
) -> None:
    response = api_as(who, scope=scope).post(url(tri), body(tri))
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert CheckIn.objects.filter(patient=tri.patient).count() == 1


@pytest.mark.parametrize("who", ["other_patient", "colleague", "outsider", "admin"])
def test_nobody_else_reads_a_checkin(api_as: Callable[..., Any], tri: Triangle, who: str) -> None:
    response = api_as(who, scope="read").get(f"{url(tri)}/{tri.checkin.uuid}")
    assert response.status_code == 404
    assert b"fixture" not in response.content


def test_an_unknown_checkin_is_404(api_as: Callable[..., Any], tri: Triangle) -> None:
    response = api_as("patient").get(f"{url(tri)}/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404


def test_a_checkin_needs_an_idempotency_key(api_as: Callable[..., Any], tri: Triangle) -> None:
    response = api_as("patient").post(url(tri), body(tri), key=None)
    assert response.status_code == 400
    assert CheckIn.objects.filter(patient=tri.patient).count() == 1


def test_a_red_flag_gets_through_a_key_reused_for_another_checkin(
    api_as: Callable[..., Any], tri: Triangle, django_capture_on_commit_callbacks: Any
) -> None:
    """A key already used for another check-in is refused (409), but the red flags of the
    refused body are saved, the care team alerted and the guidance shown, once."""
    api = api_as("patient")
    sent = body(tri)
    with django_capture_on_commit_callbacks(execute=True):
        first = api.post(url(tri), sent, key="used")
    assert first.status_code == 201
    other = body(tri, red_flags=["seizure"], note="another check-in")
    with django_capture_on_commit_callbacks(execute=True):
        refused = api.post(url(tri), other, key="used")
    assert refused.status_code == 409, refused.content
    problem = refused.json()
    assert problem["type"].endswith("idempotency-key-reused")
    assert [u["title"] for u in problem["urgent"]] == [rule_for("seizure").title]
    assert problem["urgent"][0]["message"]
    report = SymptomReport.objects.get(patient=tri.patient, severity=3)
    assert report.checkin is None and report.source == "api"
    finding = Finding.objects.get(patient=tri.patient, category="red_flag", status="open")
    assert FindingAlert.objects.filter(finding=finding).count() == 1
    assert AuditEvent.objects.filter(action="symptom.red_flag").count() == 1
    # The refused body sent again: refused again, its red flag not saved twice.
    again = api.post(url(tri), other, key="used")
    assert again.status_code == 409 and again.json()["urgent"] == problem["urgent"]
    assert SymptomReport.objects.filter(patient=tri.patient, severity=3).count() == 1
    assert (
        CheckIn.objects.filter(patient=tri.patient, idempotency_key__startswith="api:").count() == 1
    )
    # The check-in first saved under the key is untouched, and still answered.
    assert api.post(url(tri), sent, key="used").json()["uuid"] == first.json()["uuid"]
    # A reused key whose body has no red flag: a plain 409.
    plain = api.post(url(tri), body(tri, note="no flags"), key="used")
    assert plain.status_code == 409 and "urgent" not in plain.json()


def test_keys_of_76_characters_keep_every_part_of_a_checkin(
    api_as: Callable[..., Any], tri: Triangle
) -> None:
    """The longest key the API takes: the answers, both doses and both red flags are all
    saved, each under a key of its own that fits the column, and a retry adds nothing."""
    api = api_as("patient")
    long_key = "k" * 76
    dose = body(tri)["doses"][0]
    sent = body(tri, red_flags=["seizure", "chest_pain"], doses=[dose, {**dose, "amount": "1"}])
    response = api.post(url(tri), sent, key=long_key)
    assert response.status_code == 201, response.content
    reply = response.json()
    assert len(reply["doses"]) == 2 and len(reply["responses"]) == 1
    flags = SymptomReport.objects.filter(patient=tri.patient, severity=3)
    assert sorted(r.term.split()[0] for r in flags) == ["Chest", "Seizure"]
    assert len({r.idempotency_key for r in flags}) == 2
    keys = [
        *(r.idempotency_key for r in flags),
        *DoseEntry.objects.filter(checkin__isnull=False).values_list("idempotency_key", flat=True),
        *tri.patient.responses.filter(checkin__isnull=False).values_list(
            "idempotency_key", flat=True
        ),
    ]
    assert len(keys) == 5 and len(set(keys)) == 5 and all(len(k) <= 80 for k in keys)
    assert api.post(url(tri), sent, key=long_key).status_code == 200
    assert DoseEntry.objects.filter(patient=tri.patient).count() == 2
    assert SymptomReport.objects.filter(patient=tri.patient, severity=3).count() == 2


def test_red_flags_saved_ahead_under_a_long_key_join_the_corrected_checkin(
    api_as: Callable[..., Any], tri: Triangle
) -> None:
    api = api_as("patient")
    long_key = "r" * 76
    bad = body(tri, red_flags=["seizure", "jaundice"], ratings={"pain_now": 6})
    assert api.post(url(tri), bad, key=long_key).status_code == 422
    assert SymptomReport.objects.filter(patient=tri.patient, checkin=None).count() == 2
    fixed = api.post(url(tri), body(tri, red_flags=["seizure", "jaundice"]), key=long_key)
    assert fixed.status_code == 201, fixed.content
    flags = SymptomReport.objects.filter(patient=tri.patient, severity=3)
    assert flags.count() == 2
    assert {str(r.checkin.uuid) for r in flags} == {fixed.json()["uuid"]}  # type: ignore[union-attr]


def test_a_retry_gets_the_stored_reply_after_its_product_is_archived(
    api_as: Callable[..., Any], tri: Triangle
) -> None:
    api = api_as("patient")
    sent = body(tri)
    first = api.post(url(tri), sent, key="before-archive")
    assert first.status_code == 201
    tri.product.archived = True
    tri.product.save()
    again = api.post(url(tri), sent, key="before-archive")
    assert again.status_code == 200, again.content
    assert again.json()["uuid"] == first.json()["uuid"]
    assert (
        CheckIn.objects.filter(patient=tri.patient, idempotency_key__startswith="api:").count() == 1
    )
    # A new check-in naming the archived product is still refused.
    assert api.post(url(tri), sent, key="after-archive").status_code == 422
