"""A red flag or a crisis answer always gets through: saved on its own and its urgent
guidance shown at once, whatever else is wrong with the form; the form, once corrected,
adds it once."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kratomwatch.clinic.models import (
    AuditEvent,
    CheckIn,
    Finding,
    QuestionnaireResponse,
    SymptomReport,
)
from kratomwatch.domain.questionnaires import get_instrument
from kratomwatch.domain.safety import load_knowledge

from .conftest import Triangle
from .test_patient_checkin import checkin_data, dose

RED_FLAGS = [s.id for s in load_knowledge().symptoms.values() if s.red_flag]


def only(data: dict[str, Any], *keep: str) -> dict[str, Any]:
    """The check-in with every rating left out (as a patient in a hurry sends it)."""
    return {k: v for k, v in data.items() if not k.startswith("r-") or k in keep}


@pytest.mark.parametrize("flag", RED_FLAGS)
def test_a_red_flag_alone_is_saved_with_its_guidance(
    client: Client, tri: Triangle, flag: str, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(tri.patient.user)
    data = only(checkin_data(tri, red_flags=[flag]))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("checkin"), data)
    assert response.status_code == 400  # the ratings are still missing
    html = response.content.decode()
    rule = next(
        r for r in load_knowledge().rules if r.kind == "symptom" and flag in r.trigger["symptoms"]
    )
    assert rule.title in html and 'class="alert urgent" role="alert"' in html
    assert html.index(rule.title) < html.index("Choose one answer")  # guidance comes first
    report = SymptomReport.objects.get(patient=tri.patient)
    assert report.term == load_knowledge().symptoms[flag].label and report.severity == 3
    assert report.checkin is None
    # The screening ran on the red flag's own commit: the clinician sees it now.
    assert Finding.objects.filter(patient=tri.patient, code=rule.id, status="open").exists()
    assert AuditEvent.objects.filter(action="symptom.red_flag", patient=tri.patient).count() == 1


def test_the_red_flag_survives_a_bad_dose_and_other_errors(client: Client, tri: Triangle) -> None:
    client.force_login(tri.patient.user)
    data = checkin_data(
        tri, [dose(tri, "lots")], red_flags=["breathing_difficulty", "not-a-symptom"]
    )
    del data["r-pain_now"]
    response = client.post(reverse("checkin"), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Call emergency" in html and "Sent to your care team now" in html
    assert SymptomReport.objects.filter(patient=tri.patient).count() == 1
    assert not CheckIn.objects.filter(patient=tri.patient, idempotency_key=data["idempotency_key"])
    # Everything typed is still there, the red flag still ticked.
    assert 'value="lots"' in html
    assert re.search(r'value="breathing_difficulty"[^>]*checked', html)


def test_sending_again_then_completing_adds_the_red_flag_once(
    client: Client, tri: Triangle
) -> None:
    client.force_login(tri.patient.user)
    data = checkin_data(tri, [dose(tri, "2")], red_flags=["chest_pain"], note="scared")
    incomplete = only(data)
    assert client.post(reverse("checkin"), incomplete).status_code == 400
    assert client.post(reverse("checkin"), incomplete).status_code == 400  # a double tap
    assert SymptomReport.objects.filter(patient=tri.patient).count() == 1
    response = client.post(reverse("checkin"), data)
    assert response.status_code == 302
    entry = CheckIn.objects.get(patient=tri.patient, idempotency_key=data["idempotency_key"])
    reports = SymptomReport.objects.filter(patient=tri.patient)
    assert [(r.term, r.checkin_id) for r in reports] == [("Chest pain or tightness", entry.pk)]
    assert entry.doses.count() == 1 and entry.note == "scared"
    done = client.get(response["Location"]).content.decode()
    assert "Chest pain reported" in done and 'role="alert"' in done


def test_a_red_flag_without_a_usable_key_is_saved_once_per_page(
    client: Client, tri: Triangle
) -> None:
    client.force_login(tri.patient.user)
    data = only(checkin_data(tri, red_flags=["seizure"]))
    data["idempotency_key"] = ""
    response = client.post(reverse("checkin"), data)
    assert response.status_code == 400
    key = response.context["form"]["idempotency_key"].value()
    assert key and f'value="{key}"' in response.content.decode()
    data["idempotency_key"] = key
    client.post(reverse("checkin"), data)
    assert SymptomReport.objects.filter(patient=tri.patient).count() == 1


def phq9_url() -> str:
    return reverse("questionnaire", kwargs={"instrument_id": "phq9"})


def test_a_phq9_crisis_answer_alone_gets_through(
    client: Client, tri: Triangle, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(tri.patient.user)
    key = uuid.uuid4().hex
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(phq9_url(), {"self_harm_thoughts": "2", "idempotency_key": key})
    assert response.status_code == 400
    html = response.content.decode()
    assert "988" in html and 'class="alert urgent" role="alert"' in html
    assert html.index("988") < html.index("Choose one answer")
    assert SymptomReport.objects.get(patient=tri.patient).term == (
        load_knowledge().symptoms["suicidal_thoughts"].label
    )
    assert Finding.objects.filter(
        patient=tri.patient, code="red_flag.suicidal_thoughts", status="open"
    ).exists()
    assert not QuestionnaireResponse.objects.filter(patient=tri.patient, instrument_id="phq9")
    # The rest, answered later with the same page, is saved; the crisis answer once.
    full = {item.id: "0" for item in get_instrument("phq9").items if item.required}
    full.update(self_harm_thoughts="2", idempotency_key=key)
    assert client.post(phq9_url(), full).status_code == 302
    assert SymptomReport.objects.filter(patient=tri.patient).count() == 1
    assert (
        QuestionnaireResponse.objects.filter(patient=tri.patient, instrument_id="phq9").count() == 1
    )


@pytest.mark.parametrize("answer", ["0", "", "7", "x"])
def test_no_crisis_answer_saves_nothing_ahead(client: Client, tri: Triangle, answer: str) -> None:
    client.force_login(tri.patient.user)
    response = client.post(phq9_url(), {"self_harm_thoughts": answer, "idempotency_key": "k1"})
    assert response.status_code == 400
    assert "988" not in response.content.decode()
    assert not SymptomReport.objects.filter(patient=tri.patient).exists()


def test_a_checkin_with_the_longest_form_key_keeps_both_red_flags_and_its_dose(
    client: Client, tri: Triangle
) -> None:
    """The form's key may be 80 characters: every record saved with the check-in still gets
    a key of its own that fits."""
    client.force_login(tri.patient.user)
    data = checkin_data(tri, [dose(tri)], red_flags=["seizure", "chest_pain"])
    data["idempotency_key"] = "w" * 80
    response = client.post(reverse("checkin"), data)
    assert response.status_code == 302, response.content.decode()[:500]
    checkin = CheckIn.objects.get(patient=tri.patient, idempotency_key="w" * 80)
    flags = SymptomReport.objects.filter(checkin=checkin, severity=3)
    assert sorted(r.term.split()[0] for r in flags) == ["Chest", "Seizure"]
    assert checkin.doses.count() == 1 and checkin.responses.count() == 1
    assert client.post(reverse("checkin"), data).status_code == 302  # sent again: no more
    assert SymptomReport.objects.filter(patient=tri.patient, severity=3).count() == 2
