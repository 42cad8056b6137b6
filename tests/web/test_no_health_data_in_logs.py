"""Health data never reach the logs, even when something goes wrong."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kratomwatch.clinic import actions
from kratomwatch.clinic.models import MedicationStatement

from .conftest import Triangle

SECRETS = ("Zolpidem-7731", "knee pain after the walk 4417", "Red Bali powder")


def test_submissions_errors_and_failures_log_no_health_data(
    client: Client,
    tri: Triangle,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    client.force_login(tri.patient.user)
    data = {
        "idempotency_key": uuid.uuid4().hex,
        "r-pain_now": "6",
        "note": SECRETS[1],
        "dose-TOTAL_FORMS": "1",
        "dose-INITIAL_FORMS": "0",
        "dose-MIN_NUM_FORMS": "0",
        "dose-MAX_NUM_FORMS": "12",
        "dose-0-took": "on",
        "dose-0-product": str(tri.product.uuid),
        "dose-0-amount": "-3",
        "dose-0-unit": "g",
        "dose-0-at": "08:00",
    }
    assert client.post(reverse("checkin"), data).status_code == 400  # logged as a bad request

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("snapshot failed")

    monkeypatch.setattr(actions, "patient_snapshot", broken)
    with django_capture_on_commit_callbacks(execute=True):
        MedicationStatement.objects.create(patient=tri.patient, name_entered=SECRETS[0])
    assert any(r.levelno >= logging.ERROR for r in caplog.records)  # the failure was logged
    text = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    for secret in SECRETS:
        assert secret not in text
