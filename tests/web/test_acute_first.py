"""Acute first: a red flag reported since the clinician last looked comes before long-standing
findings of the same severity, marked new, with its reason in words; ages count from the
cause (the report), not from when the finding was stored."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kratomwatch.clinic.actions.screening import do_screen_patient
from kratomwatch.clinic.models import (
    CareTeamMembership,
    Finding,
    SymptomReport,
)

from .conftest import Triangle, make_patient


def report(patient: Any, term: str, hours_ago: float, capture: Any) -> None:
    with capture(execute=True):  # the screening that follows a commit
        SymptomReport.objects.create(
            patient=patient,
            term=term,
            severity=3,
            reported_at=timezone.now() - timedelta(hours=hours_ago),
        )


def panel_order(client: Client) -> list[str]:
    return [r.patient.display_name for r in client.get(reverse("patient_list")).context["rows"]]


def test_a_new_red_flag_ranks_first_marked_new_with_its_reason(
    client: Client, tri: Triangle, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    Finding.objects.filter(patient=tri.patient).delete()  # the fixture's finding
    calm = make_patient("olive", tri.clinic, tri.clinician)
    acute = make_patient("nora", tri.clinic, tri.clinician)
    client.force_login(tri.clinician)
    report(calm, "chest pain", 100, capture)  # long-standing, and already looked at
    client.get(reverse("patient_detail", kwargs={"patient_uuid": calm.uuid}))
    report(acute, "difficulty breathing", 1, capture)
    red = Finding.objects.get(patient=acute, category="red_flag")
    assert red.severity == Finding.objects.get(patient=calm, category="red_flag").severity

    response = client.get(reverse("patient_list"))
    rows = response.context["rows"]
    assert [r.patient.display_name for r in rows][:2] == ["Nora", "Olive"]
    assert rows[0].is_new and not rows[1].is_new
    when = timezone.localtime(red.last_caused_at)
    day = "today" if when.date() == timezone.localdate() else "yesterday"  # run after midnight
    clock = when.strftime("%H:%M")
    assert rows[0].reason == f"difficulty breathing or slow, shallow breathing, {day} {clock}"
    html = response.content.decode()
    assert f"difficulty breathing or slow, shallow breathing, {day} {clock}" in html
    assert '<span class="badge new">new</span>' in html

    findings = client.get(reverse("findings_inbox")).context["groups"]["high"]
    assert findings[0] == red and findings[0].is_new
    assert not any(f.is_new for f in findings[1:])

    # Opening the record is looking: the red flag is no longer new, the older one leads.
    client.get(reverse("patient_detail", kwargs={"patient_uuid": acute.uuid}))
    assert panel_order(client)[:2] == ["Olive", "Nora"]
    assert not client.get(reverse("findings_inbox")).context["groups"]["high"][1].is_new

    # A new report after the clinician looked makes it new again.
    report(acute, "difficulty breathing", 0, capture)
    assert panel_order(client)[:2] == ["Nora", "Olive"]


def test_new_is_per_clinician_and_acknowledging_ends_it_until_it_happens_again(
    client: Client, tri: Triangle, django_capture_on_commit_callbacks: Any
) -> None:
    report(tri.patient, "had a fit", 2, django_capture_on_commit_callbacks)
    red = Finding.objects.get(patient=tri.patient, category="red_flag")
    CareTeamMembership.objects.create(patient=tri.patient, clinician=tri.colleague)
    client.force_login(tri.colleague)
    client.get(reverse("patient_detail", kwargs={"patient_uuid": tri.patient.uuid}))
    client.force_login(tri.clinician)  # the colleague looked; this clinician has not
    [row] = [
        r for r in client.get(reverse("patient_list")).context["rows"] if r.patient == tri.patient
    ]
    day = (
        "today"
        if timezone.localtime(red.last_caused_at).date() == timezone.localdate()
        else "yesterday"
    )
    assert row.is_new and row.reason.startswith(f"seizure or fit, {day} ")
    client.post(
        reverse(
            "finding_action", kwargs={"patient_uuid": tri.patient.uuid, "finding_uuid": red.uuid}
        ),
        {"action": "acknowledge", "reason": "Called the patient"},
    )
    [row] = [
        r for r in client.get(reverse("patient_list")).context["rows"] if r.patient == tri.patient
    ]
    assert not row.is_new
    do_screen_patient(tri.patient.pk)  # screening again: the same report stays acknowledged
    red.refresh_from_db()
    assert red.status == "acknowledged"

    # A new report after the acknowledgement opens the red flag again, new to the clinician.
    report(tri.patient, "had a fit", 0, django_capture_on_commit_callbacks)
    red.refresh_from_db()
    assert red.status == "open" and red.acknowledged_reason == "Called the patient"
    [row] = [
        r for r in client.get(reverse("patient_list")).context["rows"] if r.patient == tri.patient
    ]
    assert row.is_new


def test_waiting_time_counts_from_the_report_not_from_screening(
    client: Client, tri: Triangle, django_capture_on_commit_callbacks: Any
) -> None:
    Finding.objects.filter(patient=tri.patient).delete()
    report(tri.patient, "chest pain", 72, django_capture_on_commit_callbacks)  # screened now
    client.force_login(tri.clinician)
    html = client.get(reverse("patient_list")).content.decode()
    assert "oldest waiting 3\xa0days since its cause" in html
    red = Finding.objects.get(patient=tri.patient, category="red_flag")
    assert timezone.now() - red.first_seen < timedelta(minutes=5)
    assert timedelta(hours=71) < timezone.now() - red.caused_at < timedelta(hours=73)
