"""The daily check-in: all or nothing, idempotent, keeps input, tells about red flags."""

from __future__ import annotations

import uuid
from datetime import time, timedelta
from decimal import Decimal
from typing import Any

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kratomwatch.clinic.models import (
    CheckIn,
    DoseEntry,
    QuestionnaireResponse,
    QuestionnaireSchedule,
    SymptomReport,
)

from .conftest import Triangle

RATINGS = {
    "r-pain_now": "6",
    "r-pain_average": "5",
    "r-interference_activity": "4",
    "r-interference_enjoyment": "3",
    "r-sleep_quality": "7",
}


def checkin_data(
    tri: Triangle, doses: list[dict[str, str]] | None = None, **extra: Any
) -> dict[str, Any]:
    doses = doses if doses is not None else []
    data: dict[str, Any] = {
        "idempotency_key": uuid.uuid4().hex,
        **RATINGS,
        "dose-TOTAL_FORMS": str(len(doses)),
        "dose-INITIAL_FORMS": "0",
        "dose-MIN_NUM_FORMS": "0",
        "dose-MAX_NUM_FORMS": "12",
    }
    for i, row in enumerate(doses):
        for key, value in row.items():
            data[f"dose-{i}-{key}"] = value
    data.update(extra)
    return data


def earlier(hour: int, minute: int = 0) -> str:
    """A time of day today that is not in the future, whenever the test runs."""
    now = timezone.localtime().time().replace(second=0, microsecond=0)
    return min(time(hour, minute), now).strftime("%H:%M")


def dose(tri: Triangle, amount: str = "2", at: str = "", took: bool = True) -> dict[str, str]:
    at = at or earlier(8)
    row = {"product": str(tri.product.uuid), "amount": amount, "unit": "g", "at": at}
    if took:
        row["took"] = "on"
    return row


def post(client: Client, data: dict[str, Any]) -> Any:
    return client.post(reverse("checkin"), data)


def test_the_page_offers_ratings_and_last_times_doses(client: Client, tri: Triangle) -> None:
    yesterday = timezone.localtime() - timedelta(days=1)
    for hour in (8, 14):
        DoseEntry.objects.create(
            patient=tri.patient,
            product=tri.product,
            amount=Decimal("2.5"),
            unit="g",
            idempotency_key=f"y{hour}",
            taken_at=yesterday.replace(hour=hour, minute=0),
        )
    client.force_login(tri.patient.user)
    response = client.get(reverse("checkin"))
    html = response.content.decode()
    assert html.count('class="item') == 5
    assert html.count("data-yesterday") == 2
    assert 'value="2.5"' in html and "Repeat last time" in html


def test_a_full_check_in_is_stored_together(client: Client, tri: Triangle) -> None:
    client.force_login(tri.patient.user)
    data = checkin_data(
        tri,
        [
            dose(tri, "2", earlier(8, 0)),
            dose(tri, "1.5", earlier(13, 30)),
            dose(tri, "9", earlier(20, 0), took=False),
        ],
        side_effects=["constipation"],
        severity_constipation="2",
        note="ok day",
    )
    response = post(client, data)
    assert response.status_code == 302
    entry = CheckIn.objects.get(patient=tri.patient, idempotency_key=data["idempotency_key"])
    assert response["Location"] == reverse("checkin_done", kwargs={"checkin_uuid": entry.uuid})
    assert sorted(d.amount for d in entry.doses.all()) == [Decimal("1.5"), Decimal("2")]
    daily = QuestionnaireResponse.objects.get(checkin=entry)
    assert daily.instrument_id == "kw-daily-pain" and daily.answers == [6, 5, 4, 3, 7]
    assert daily.scores["subscales"]["pain"] == 5.5
    assert [(s.term, s.severity) for s in entry.symptoms.all()] == [("Constipation", 2)]
    assert entry.note == "ok day"


def test_a_double_submit_stores_one_check_in(client: Client, tri: Triangle) -> None:
    client.force_login(tri.patient.user)
    data = checkin_data(tri, [dose(tri)])
    first, second = post(client, data), post(client, data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert (
        CheckIn.objects.filter(patient=tri.patient).exclude(idempotency_key="fixture").count() == 1
    )
    assert DoseEntry.objects.filter(patient=tri.patient).count() == 1


def test_a_missing_rating_keeps_everything_typed(client: Client, tri: Triangle) -> None:
    client.force_login(tri.patient.user)
    typed_at = earlier(9, 15)
    data = checkin_data(tri, [dose(tri, "3.25", typed_at)], note="knee bad")
    del data["r-sleep_quality"]
    response = post(client, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose one answer" in html and "not saved yet" in html
    assert 'value="3.25"' in html and "knee bad" in html and f'value="{typed_at}"' in html
    assert (
        'value="6" checked' in html
        or 'checked value="6"' in html
        or 'value="6"\n' in html
        or "checked" in html
    )
    assert not CheckIn.objects.exclude(idempotency_key="fixture").exists()
    assert not DoseEntry.objects.exists()


def test_one_bad_dose_saves_nothing(client: Client, tri: Triangle) -> None:
    client.force_login(tri.patient.user)
    response = post(client, checkin_data(tri, [dose(tri, "2"), dose(tri, "-1", earlier(12, 0))]))
    assert response.status_code == 400
    assert "amount" in response.content.decode().lower()
    assert not DoseEntry.objects.exists()
    assert not QuestionnaireResponse.objects.filter(
        patient=tri.patient, instrument_id="kw-daily-pain"
    ).exists()


def test_a_suspicious_dose_asks_for_confirmation(client: Client, tri: Triangle) -> None:
    client.force_login(tri.patient.user)
    data = checkin_data(tri, [{**dose(tri), "amount": "15", "unit": "mg"}])
    response = post(client, data)
    assert response.status_code == 400 and "Please confirm" in response.content.decode()
    codes = [code for code, _ in response.context["rows"].forms[0].pending]
    data["dose-0-confirm"] = codes
    assert post(client, data).status_code == 302
    assert DoseEntry.objects.get().unit == "mg"


def test_a_red_flag_shows_urgent_guidance_right_away(
    client: Client, tri: Triangle, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(tri.patient.user)
    with django_capture_on_commit_callbacks(execute=True):  # the request's commit
        response = client.post(reverse("checkin"), checkin_data(tri, red_flags=["seizure"]))
    html = client.get(response["Location"]).content.decode()
    assert 'class="alert urgent" role="alert"' in html
    assert "emergency" in html.lower()
    assert SymptomReport.objects.get(patient=tri.patient).severity == 3


def test_the_withdrawal_checklist_joins_the_check_in_when_scheduled(
    client: Client, tri: Triangle
) -> None:
    QuestionnaireSchedule.objects.create(
        patient=tri.patient, instrument_id="kw-withdrawal", every_days=1, created_by=tri.clinician
    )
    client.force_login(tri.patient.user)
    html = client.get(reverse("checkin")).content.decode()
    assert "not a validated scale" in html
    data = checkin_data(tri)
    response = post(client, data)
    assert response.status_code == 400  # the checklist must be answered too
    items = response.context["extras"][0].instrument.items
    data.update({f"x0-{item.id}": "1" for item in items})
    assert post(client, data).status_code == 302
    withdrawal = QuestionnaireResponse.objects.get(instrument_id="kw-withdrawal")
    assert withdrawal.total == len(items)


def test_a_scheduled_phq9_with_item_9_shows_crisis_resources(
    client: Client, tri: Triangle, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(tri.patient.user)
    home = client.get(reverse("patient_home")).content.decode()
    assert reverse("questionnaire", kwargs={"instrument_id": "phq9"}) in home
    from kratomwatch.domain.questionnaires import get_instrument

    items = get_instrument("phq9").items
    data = {item.id: "0" for item in items if item.required}
    data[items[8].id] = "1"
    data["idempotency_key"] = uuid.uuid4().hex
    url = reverse("questionnaire", kwargs={"instrument_id": "phq9"})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert "988" in html and 'role="alert"' in html
    client.post(url, data)
    assert QuestionnaireResponse.objects.filter(instrument_id="phq9").count() == 1
    home = client.get(reverse("patient_home")).content.decode()
    assert reverse("questionnaire", kwargs={"instrument_id": "phq9"}) not in home  # done


def test_an_unscheduled_questionnaire_is_404(client: Client, tri: Triangle) -> None:
    client.force_login(tri.patient.user)
    assert client.get(reverse("questionnaire", kwargs={"instrument_id": "gad7"})).status_code == 404
