"""Health data never reach the logs, even when something goes wrong."""

from __future__ import annotations

import io
import logging
import re
import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kratomwatch.clinic import exports
from kratomwatch.clinic.actions import screening as actions
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


def configured_handler() -> logging.Handler:
    """The handler ``settings.LOGGING`` gives the root logger: what reaches the log."""
    handlers = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    assert len(handlers) == 1, logging.getLogger().handlers
    return handlers[0]


def test_exception_messages_quoting_health_data_stay_out_of_the_log(
    tri: Triangle,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handler = configured_handler()
    assert isinstance(handler, logging.StreamHandler)
    out = io.StringIO()
    # Swapped by hand: setStream() flushes the stream it replaces, which may be a capture
    # file an earlier test closed.
    old, handler.stream = handler.stream, out
    try:
        # A page fails on a product's name (as a chart library's parse error quotes it).
        def pdf_fails(*args: Any, **kwargs: Any) -> bytes:
            raise ValueError(f"Unknown symbol: '{SECRETS[2]}'")

        monkeypatch.setattr(exports, "patient_pdf", pdf_fails)
        client = Client(raise_request_exception=False)
        client.force_login(tri.patient.user)
        assert client.get(reverse("my_data_pdf")).status_code == 500

        # Screening fails on a medication's name, raised from another error.
        def broken(*args: Any, **kwargs: Any) -> Any:
            try:
                raise KeyError(SECRETS[0])
            except KeyError as exc:
                raise RuntimeError(f"no ingredient for {SECRETS[0]}") from exc

        monkeypatch.setattr(actions, "patient_snapshot", broken)
        with django_capture_on_commit_callbacks(execute=True):
            MedicationStatement.objects.create(patient=tri.patient, name_entered=SECRETS[0])
        logging.getLogger("kratomwatch.test").error("failed: %s", ValueError(SECRETS[1]))
    finally:
        handler.stream = old
    text = out.getvalue()
    # The failures are logged, with their type and where they happened ...
    assert "ValueError" in text and "RuntimeError" in text and "KeyError" in text
    assert "Traceback" in text and "pdf_fails" in text
    # ... and without what the person entered.
    for secret in SECRETS:
        assert secret not in text


def test_the_access_log_leaves_out_query_strings_and_referrers() -> None:
    from kratomwatch import gunicorn_conf

    atoms = set(re.findall(r"%\((\w+)\)s", gunicorn_conf.access_log_format))
    assert "U" in atoms  # the path, without the query string
    assert not atoms & {"r", "q", "f"}  # request line, query string, referrer
