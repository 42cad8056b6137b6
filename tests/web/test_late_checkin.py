"""A check-in entered on a phone with no connection and sent later: saved with the moment it
was entered, once however often it is sent, screened like any other; refused with reasons
(in JSON, for the phone's queue) when it cannot be saved, its red flags getting through."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kratomwatch.clinic.models import CheckIn, DoseEntry, Finding, SymptomReport
from kratomwatch.domain.safety import load_knowledge

from .conftest import Triangle
from .test_patient_checkin import RATINGS, checkin_data

RED_FLAG = next(s.id for s in load_knowledge().symptoms.values() if s.red_flag)
RED_FLAG_RULES = [
    r.id
    for r in load_knowledge().rules
    if r.kind == "symptom" and RED_FLAG in r.trigger.get("symptoms", ())
]
JSON = {"HTTP_ACCEPT": "application/json"}


def late(tri: Triangle, entered: Any, doses: list[tuple[str, str]] = (), **extra: Any) -> dict:  # type: ignore[assignment]
    rows = [
        {"took": "on", "product": str(tri.product.uuid), "amount": amount, "unit": "g", "at": at}
        for amount, at in doses
    ]
    return checkin_data(tri, rows, entered_at=entered.isoformat(), **extra)


def test_a_late_check_in_keeps_the_day_and_times_it_was_entered(
    client: Client, tri: Triangle, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(tri.patient.user)
    entered = (timezone.localtime() - timedelta(days=2)).replace(
        hour=21, minute=40, second=5, microsecond=0
    )
    data = late(tri, entered, [("2", "08:15"), ("1.5", "20:30")], red_flags=[RED_FLAG])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("checkin"), data, **JSON)
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["saved"] is True and answer["new"] is True
    checkin = CheckIn.objects.get(patient=tri.patient, idempotency_key=data["idempotency_key"])
    assert answer["url"] == reverse("checkin_done", kwargs={"checkin_uuid": checkin.uuid})
    assert checkin.day == entered.date()
    assert checkin.submitted_at == entered
    assert checkin.received_at is not None and checkin.received_at > entered + timedelta(days=1)
    times = sorted(
        timezone.localtime(d.taken_at) for d in DoseEntry.objects.filter(checkin=checkin)
    )
    assert [(t.date(), t.hour, t.minute) for t in times] == [
        (entered.date(), 8, 15),
        (entered.date(), 20, 30),
    ]
    assert {r.taken_at for r in checkin.responses.all()} == {entered}
    flag = SymptomReport.objects.get(patient=tri.patient, checkin=checkin)
    assert flag.reported_at == entered
    # Screened like any other: the red flag is a finding the clinician sees.
    assert Finding.objects.filter(patient=tri.patient, code__in=RED_FLAG_RULES).exists()


def test_sent_again_it_is_saved_once_even_if_it_would_no_longer_pass(
    client: Client, tri: Triangle
) -> None:
    client.force_login(tri.patient.user)
    entered = timezone.localtime() - timedelta(hours=3)
    data = late(tri, entered, [("2", entered.strftime("%H:%M"))])
    first = client.post(reverse("checkin"), data, **JSON).json()
    # The product is archived before the phone hears back and sends again.
    tri.product.archived = True
    tri.product.save()
    again = client.post(reverse("checkin"), data, **JSON)
    assert again.status_code == 200
    assert again.json() == {**first, "new": False}
    assert (
        CheckIn.objects.filter(patient=tri.patient, idempotency_key=data["idempotency_key"]).count()
        == 1
    )
    assert DoseEntry.objects.filter(checkin__idempotency_key=data["idempotency_key"]).count() == 1


def test_a_dose_after_the_moment_of_entry_is_refused(client: Client, tri: Triangle) -> None:
    client.force_login(tri.patient.user)
    entered = (timezone.localtime() - timedelta(days=1)).replace(hour=9, minute=0)
    data = late(tri, entered, [("2", "18:00")])
    response = client.post(reverse("checkin"), data, **JSON)
    assert response.status_code == 400
    answer = response.json()
    assert answer["saved"] is False
    assert any("future" in e or "later" in e for e in answer["errors"]), answer
    assert not CheckIn.objects.filter(idempotency_key=data["idempotency_key"]).exists()


@pytest.mark.parametrize(
    ("entered", "words"),
    [
        (lambda now: now + timedelta(hours=2), "later than now"),
        (lambda now: now - timedelta(days=31), "more than 30 days ago"),
        (lambda now: "yesterday evening", "is not a date and time"),
        (lambda now: now.replace(tzinfo=None), "no time zone"),
        (lambda now: "0001-01-01T00:00:00+14:00", "is not a date and time"),
        (lambda now: "9999-12-31T23:59:59-14:00", "is not a date and time"),
    ],
)
def test_an_unusable_entry_time_is_refused_with_its_reason(
    client: Client, tri: Triangle, entered: Any, words: str
) -> None:
    client.force_login(tri.patient.user)
    value = entered(timezone.localtime())
    data = checkin_data(tri, [], entered_at=value if isinstance(value, str) else value.isoformat())
    response = client.post(reverse("checkin"), data, **JSON)
    assert response.status_code == 400
    assert any(words in e for e in response.json()["errors"]), response.json()
    assert not CheckIn.objects.filter(idempotency_key=data["idempotency_key"]).exists()


def test_a_refused_entry_still_sends_its_red_flag(
    client: Client, tri: Triangle, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(tri.patient.user)
    entered = timezone.localtime() - timedelta(hours=1)
    data = late(tri, entered, red_flags=[RED_FLAG])
    for key in RATINGS:
        data.pop(key)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("checkin"), data, **JSON)
    assert response.status_code == 400
    answer = response.json()
    assert answer["red_flags_sent"] == [load_knowledge().symptoms[RED_FLAG].label]
    assert answer["errors"]
    report = SymptomReport.objects.get(patient=tri.patient, term=answer["red_flags_sent"][0])
    assert report.reported_at == entered
    assert Finding.objects.filter(patient=tri.patient, code__in=RED_FLAG_RULES).exists()
    # Corrected and sent again with the same key: the red flag joins it, once.
    data.update(RATINGS)
    assert client.post(reverse("checkin"), data, **JSON).status_code == 200
    assert SymptomReport.objects.filter(patient=tri.patient, term=report.term).count() == 1


def test_the_page_gives_the_phone_its_checks(client: Client, tri: Triangle) -> None:
    client.force_login(tri.patient.user)
    html = client.get(reverse("checkin")).content.decode()
    assert 'id="entry-checks"' in html and 'id="kw-texts"' in html
    assert 'name="entered_at"' in html and "data-offline-queue" in html
    assert f'"{tri.product.uuid}"' in html


def test_without_json_a_late_check_in_answers_with_its_page(client: Client, tri: Triangle) -> None:
    client.force_login(tri.patient.user)
    entered = timezone.localtime() - timedelta(hours=2)
    response = client.post(reverse("checkin"), late(tri, entered))
    assert response.status_code == 302
    stored = CheckIn.objects.get(
        patient=tri.patient, idempotency_key=response.wsgi_request.POST["idempotency_key"]
    )
    assert stored.submitted_at == entered


def test_a_red_flag_that_arrives_after_it_was_acknowledged_opens_it_again(
    client: Client, tri: Triangle, django_capture_on_commit_callbacks: Any
) -> None:
    from kratomwatch.clinic.models import FindingAlert

    client.force_login(tri.patient.user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("checkin"), checkin_data(tri, red_flags=[RED_FLAG]))
    finding = Finding.objects.get(patient=tri.patient, code__in=RED_FLAG_RULES)
    alerts_before = FindingAlert.objects.filter(finding=finding).count()
    acknowledged = timezone.now()
    Finding.objects.filter(pk=finding.pk).update(
        status="acknowledged", acknowledged_at=acknowledged, acknowledged_by=tri.clinician
    )
    # The same symptom, entered on the phone before the clinician acknowledged it, arrives
    # afterwards: news to the clinician, so the finding opens again and the team is told.
    entered = acknowledged - timedelta(minutes=30)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("checkin"), late(tri, entered, red_flags=[RED_FLAG]), **JSON)
    assert response.status_code == 200
    finding.refresh_from_db()
    assert finding.status == "open"
    assert FindingAlert.objects.filter(finding=finding).count() == alerts_before + 1
    # Screened again with nothing new: it stays as it is, and nobody is told twice.
    Finding.objects.filter(pk=finding.pk).update(
        status="acknowledged", acknowledged_at=timezone.now()
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("checkin"), checkin_data(tri))
    finding.refresh_from_db()
    assert finding.status == "acknowledged"


def test_a_check_in_kept_by_another_patient_on_a_shared_phone_is_not_taken(
    client: Client, tri: Triangle
) -> None:
    client.force_login(tri.patient.user)
    data = late(tri, timezone.localtime() - timedelta(hours=1))
    data["owner"] = str(tri.other_patient.user.uuid)
    response = client.post(reverse("checkin"), data, **JSON)
    assert response.status_code == 409
    assert response.json() == {"saved": False, "owner": False}
    assert not CheckIn.objects.filter(idempotency_key=data["idempotency_key"]).exists()
    data["owner"] = str(tri.patient.user.uuid)
    assert client.post(reverse("checkin"), data, **JSON).status_code == 200


def test_a_patient_with_no_products_can_check_in(client: Client, tri: Triangle) -> None:
    tri.patient.products.update(archived=True)
    client.force_login(tri.patient.user)
    page = client.get(reverse("checkin")).content.decode()
    assert 'name="dose-TOTAL_FORMS"' in page
    data = checkin_data(tri, [])
    assert client.post(reverse("checkin"), data).status_code == 302
    assert CheckIn.objects.filter(idempotency_key=data["idempotency_key"]).exists()
