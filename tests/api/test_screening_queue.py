"""The screening queue: API doses mark the patient due; due patients are screened once."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from kratomwatch.clinic.models import Finding, PatientProfile, Plan, PlanKind
from kratomwatch.clinic.screening_queue import ScreeningWorker, backlog, screen_due

from .conftest import Api, Triangle
from .test_api_access import dose

EXCEEDED = "plan.single_dose_exceeded"
# Real commits: the mark and the screening run on commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


def _strict_plan(t: Triangle) -> None:
    Plan.objects.create(
        patient=t.patient,
        version=1,
        kind=PlanKind.MAINTENANCE,
        author=t.clinician,
        reason="test",
        max_single_dose_g=Decimal("1"),
    )


def _due(t: Triangle) -> Any:
    return PatientProfile.objects.get(pk=t.patient.pk).screening_due_at


def _exceeded(t: Triangle) -> bool:
    return Finding.objects.filter(patient=t.patient, code=EXCEEDED, active=True).exists()


def _post_doses(api: Api, t: Triangle, n: int) -> None:
    for i in range(n):
        body = dose(t, confirm=["dose_high", "sooner_than_usual", "above_plan_single"])
        response = api.post(f"/api/patients/{t.patient.uuid}/doses", body, key=f"q{i}")
        assert response.status_code == 201, response.content


def test_an_api_dose_is_queued_then_screened_once(
    api_as: Callable[..., Api], tri: Triangle
) -> None:
    _strict_plan(tri)
    assert _due(tri) is None  # screened on commit
    _post_doses(api_as("patient"), tri, 3)
    assert _due(tri) is not None
    assert not _exceeded(tri)  # not screened inside the request
    waiting, oldest = backlog()
    assert waiting == 1 and oldest.total_seconds() >= 0
    assert screen_due() == 1  # three doses, one screening
    assert _due(tri) is None
    assert _exceeded(tri)
    assert screen_due() == 0


def test_a_change_outside_the_api_is_screened_at_once(
    tri: Triangle,
) -> None:
    _strict_plan(tri)
    tri.patient.doses.create(
        product=tri.product,
        taken_at=timezone.now(),
        amount=Decimal("2"),
        unit="g",
        leaf_equivalent_g=Decimal("2"),
        idempotency_key="web-1",
    )
    assert _exceeded(tri)
    assert _due(tri) is None
    assert screen_due() == 0


def test_a_rolled_back_change_leaves_no_mark(
    tri: Triangle,
) -> None:
    from django.db import transaction

    from kratomwatch.clinic.signals import deferred_screening

    PatientProfile.objects.filter(pk=tri.patient.pk).update(screening_due_at=None)
    try:
        with transaction.atomic(), deferred_screening():
            tri.patient.conditions.create(code="pregnancy")
            raise RuntimeError("abort")
    except RuntimeError:
        pass
    assert _due(tri) is None


def test_reading_findings_screens_a_waiting_record_first(
    api_as: Callable[..., Api],
    tri: Triangle,
    client: Client,
) -> None:
    _strict_plan(tri)
    _post_doses(api_as("patient"), tri, 1)
    assert _due(tri) is not None
    answer = api_as("clinician").get(f"/api/patients/{tri.patient.uuid}/findings")
    assert answer.status_code == 200
    assert EXCEEDED in {f["code"] for f in answer.json()["items"]}
    assert _due(tri) is None


def test_the_clinician_page_screens_a_waiting_record_first(
    api_as: Callable[..., Api],
    tri: Triangle,
    client: Client,
) -> None:
    _strict_plan(tri)
    _post_doses(api_as("patient"), tri, 1)
    client.force_login(tri.clinician)
    page = client.get(f"/patients/{tri.patient.uuid}/")
    assert page.status_code == 200
    assert _due(tri) is None
    assert _exceeded(tri)


def test_a_patient_nobody_marked_is_not_screened(tri: Triangle) -> None:
    PatientProfile.objects.update(screening_due_at=None)
    before = Finding.objects.count()
    assert screen_due() == 0
    assert Finding.objects.count() == before


def test_the_worker_thread_screens_due_patients(api_as: Callable[..., Api], tri: Triangle) -> None:
    _strict_plan(tri)
    PatientProfile.objects.update(screening_due_at=None)
    api = api_as("patient")
    body = dose(tri, confirm=["dose_high", "sooner_than_usual", "above_plan_single"])
    assert api.post(f"/api/patients/{tri.patient.uuid}/doses", body).status_code == 201
    assert _due(tri) is not None and not _exceeded(tri)
    worker = ScreeningWorker(interval=0.05)
    worker.start()
    try:
        deadline = time.monotonic() + 20
        while _due(tri) is not None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
        worker.join(10)
    assert _due(tri) is None
    assert _exceeded(tri)


def _dose_row(t: Triangle, key: str, grams: str = "2") -> None:
    """A dose recorded as the API records it: the patient is only marked due."""
    from kratomwatch.clinic.signals import deferred_screening

    with deferred_screening():
        t.patient.doses.create(
            product=t.product,
            taken_at=timezone.now(),
            amount=Decimal(grams),
            unit="g",
            leaf_equivalent_g=Decimal(grams),
            idempotency_key=key,
        )


def _during_screening(monkeypatch: pytest.MonkeyPatch, then: Callable[[], None]) -> None:
    """Run ``then`` once, after the next screening has read the record and before it stores
    its findings."""
    from kratomwatch.clinic.actions import screening as actions

    real = actions.screen
    pending = [then]

    def screen(patient: PatientProfile, now: Any) -> Any:
        result = real(patient, now)
        while pending:
            pending.pop()()
        return result

    monkeypatch.setattr(actions, "screen", screen)


def test_a_change_made_while_screening_runs_keeps_the_patient_due(
    tri: Triangle, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kratomwatch.clinic.actions.screening import do_screen_patient

    _strict_plan(tri)
    _during_screening(monkeypatch, lambda: _dose_row(tri, "late"))
    assert do_screen_patient(tri.patient.pk)
    # The findings were stored (as of the record read), but the dose that arrived meanwhile
    # was not screened: the patient is still due.
    assert _due(tri) is not None
    assert not _exceeded(tri)
    assert screen_due(gap=0) == 1
    assert _due(tri) is None
    assert _exceeded(tri)


def test_an_older_screening_does_not_overwrite_a_newer_one(
    tri: Triangle, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kratomwatch.clinic.actions.screening import do_screen_patient

    _strict_plan(tri)

    def newer_screening() -> None:
        _dose_row(tri, "meanwhile")
        assert do_screen_patient(tri.patient.pk)  # reads the record with the new dose

    _during_screening(monkeypatch, newer_screening)
    assert not do_screen_patient(tri.patient.pk)  # read before that dose: its findings dropped
    assert _exceeded(tri)
    assert _due(tri) is None


def test_screening_does_not_hold_up_other_writers(
    tri: Triangle, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a patient is being screened, a dose for that patient is stored at once (on SQLite
    the write lock is not held while screening; on PostgreSQL the patient's row is not)."""
    import threading

    from django.db import connection

    from kratomwatch.clinic.actions.screening import do_screen_patient

    stored = threading.Event()

    def another_writer() -> None:
        try:
            _dose_row(tri, "concurrent")
            stored.set()
        finally:
            connection.close()

    def write_from_another_connection() -> None:
        writer = threading.Thread(target=another_writer)
        writer.start()
        writer.join(10)

    _during_screening(monkeypatch, write_from_another_connection)
    started = time.monotonic()
    do_screen_patient(tri.patient.pk)
    assert stored.is_set()
    assert time.monotonic() - started < 5
    assert tri.patient.doses.filter(idempotency_key="concurrent").exists()
    assert _due(tri) is not None  # that dose waits for the next round


def test_a_patient_taken_from_the_queue_is_left_alone_for_a_round(tri: Triangle) -> None:
    """Several servers share the queue: a patient one of them took is not screened again by
    another (or by itself) until ``gap`` seconds have passed, however often they change."""
    _dose_row(tri, "first")
    assert screen_due(gap=60) == 1
    _dose_row(tri, "second")
    assert _due(tri) is not None
    assert screen_due(gap=60) == 0  # taken less than 60 s ago
    assert _due(tri) is not None
    assert screen_due(gap=0) == 1
    assert _due(tri) is None
