"""A knowledge-base release: what screened each finding, re-screening, and what changed.

Every finding and the patient's record keep the release that screened them; a worker queues
every record screened with another release once, in its first round (never at start-up), and
the queue screens them again; the patient page, the visit report and the public rules page
say which release screened the record and what changed in it.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kratomwatch.clinic import screening_queue
from kratomwatch.clinic.actions.screening import do_screen_patient
from kratomwatch.clinic.models import MedicationStatement, PatientProfile
from kratomwatch.clinic.screening_queue import ScreeningWorker, queue_knowledge_release
from kratomwatch.domain.safety.knowledge import load_knowledge, release_notes

from .conftest import Triangle


def _day(kb: Any) -> str:
    return f"{kb.released.day} {kb.released:%b %Y}"


def test_screening_records_the_release_on_the_record_and_each_finding(tri: Triangle) -> None:
    kb = load_knowledge()
    MedicationStatement.objects.create(patient=tri.patient, name_entered="Xanax 0.5 mg")
    do_screen_patient(tri.patient.pk)
    tri.patient.refresh_from_db()
    assert tri.patient.screened_knowledge == kb.version
    findings = list(tri.patient.findings.filter(code__startswith="interaction.", active=True))
    assert findings
    assert {(f.knowledge_version, f.knowledge_released) for f in findings} == {
        (kb.version, kb.released)
    }


def test_a_new_release_queues_every_record_screened_with_another_once(
    tri: Triangle, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = load_knowledge()
    for patient in PatientProfile.objects.all():
        do_screen_patient(patient.pk)
    PatientProfile.objects.filter(pk=tri.patient.pk).update(screened_knowledge="2026.11.0")
    assert PatientProfile.objects.filter(screening_due_at__isnull=False).count() == 0

    assert queue_knowledge_release() == 1  # only the record screened with the old release
    tri.patient.refresh_from_db()
    assert tri.patient.screening_due_at is not None

    calls: list[int] = []
    real = screening_queue.queue_knowledge_release

    def spy() -> int:
        calls.append(1)
        return real()

    monkeypatch.setattr(screening_queue, "queue_knowledge_release", spy)
    # The test's database connection is the one transaction it runs in: keep it open.
    monkeypatch.setattr(screening_queue, "close_old_connections", lambda: None)
    worker = ScreeningWorker(interval=0.0)
    assert worker.round() >= 1
    worker.round()
    assert calls == [1]  # once per worker, in its first round
    tri.patient.refresh_from_db()
    assert tri.patient.screened_knowledge == kb.version
    assert tri.patient.screening_due_at is None
    assert queue_knowledge_release() == 0


def test_pages_say_which_release_screened_the_record_and_what_changed(
    client: Client, tri: Triangle
) -> None:
    kb = load_knowledge()
    MedicationStatement.objects.create(patient=tri.patient, name_entered="Xanax 0.5 mg")
    do_screen_patient(tri.patient.pk)
    client.force_login(tri.clinician)
    line = f"Screened with knowledge base {kb.version} (released {_day(kb)})."
    url = reverse("patient_detail", args=[tri.patient.uuid])
    page = client.get(f"{url}?tab=findings").content.decode()
    assert line in page
    assert f"knowledge base {kb.version} of {_day(kb)}" in page
    report = client.get(reverse("visit_report", args=[tri.patient.uuid])).content.decode()
    assert line in report

    rules = client.get(reverse("evidence_rules")).content.decode()
    heading, notes = release_notes()
    assert heading == kb.version
    assert f"What changed in release {kb.version}" in rules
    first_words = notes.split("\n")[0][:40]
    assert first_words in rules
