"""Deletion requests: identity removed at once, clinical records kept for the retention period."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kratomwatch.clinic.actions.erasure import purge_expired
from kratomwatch.clinic.models import (
    AuditEvent,
    Certificate,
    ClinicalNote,
    DeletionRequest,
    DoseEntry,
    ProductLot,
)

from .conftest import Triangle
from .test_lots import make_lot


def ask(tri: Triangle) -> DeletionRequest:
    return DeletionRequest.objects.create(patient=tri.patient, reason="moving away")


def test_recent_records_are_kept_and_the_identity_goes(client: Client, tri: Triangle) -> None:
    DoseEntry.objects.create(
        patient=tri.patient,
        product=tri.product,
        taken_at=timezone.now(),
        amount=Decimal(2),
        unit="g",
        idempotency_key="d",
    )
    ClinicalNote.objects.create(patient=tri.patient, author=tri.clinician, text="lives at 5 Elm")
    request = ask(tri)
    client.force_login(tri.admin)
    page = client.get(reverse("deletion_requests")).content.decode()
    assert "Paul" in page and "kept until" in page
    client.post(reverse("handle_deletion", kwargs={"request_uuid": request.uuid}))
    request.refresh_from_db()
    tri.patient.refresh_from_db()
    tri.patient.user.refresh_from_db()
    assert request.status == "anonymized"
    assert request.retain_until == timezone.localdate().replace(year=timezone.localdate().year + 10)
    assert tri.patient.display_name.startswith("Erased patient")
    assert not tri.patient.user.is_active and not tri.patient.user.has_usable_password()
    assert tri.patient.user.username.startswith("erased-") and tri.patient.user.email == ""
    assert tri.patient.year_of_birth is None and request.reason == ""
    assert ClinicalNote.objects.get().text.startswith("[removed")
    assert DoseEntry.objects.filter(patient=tri.patient).count() == 1  # kept for now
    assert AuditEvent.objects.filter(action="deletion.anonymized").exists()
    assert purge_expired(today=request.retain_until - timedelta(days=1)) == 0
    assert purge_expired(today=request.retain_until) == 1
    assert not DoseEntry.objects.filter(patient=tri.patient).exists()
    request.refresh_from_db()
    assert request.status == "done"


def test_records_past_retention_are_erased_at_once(client: Client, tri: Triangle) -> None:
    tri.clinic.retention_years = 1
    tri.clinic.save()
    old = timezone.now() - timedelta(days=800)
    DoseEntry.objects.create(
        patient=tri.patient,
        product=tri.product,
        taken_at=old,
        amount=Decimal(2),
        unit="g",
        idempotency_key="old",
    )
    tri.patient.responses.update(taken_at=old)
    tri.patient.symptoms.all().delete()
    make_lot(tri)
    ProductLot.objects.update(created=old)
    request = ask(tri)
    client.force_login(tri.admin)
    client.post(reverse("handle_deletion", kwargs={"request_uuid": request.uuid}))
    request.refresh_from_db()
    assert request.status == "done"
    assert not DoseEntry.objects.filter(patient=tri.patient).exists()
    assert not tri.patient.findings.exists() and not tri.patient.products.exists()
    assert not ProductLot.objects.exists() and not Certificate.objects.exists()


def test_only_the_clinics_admin_handles_a_request(client: Client, tri: Triangle) -> None:
    request = ask(tri)
    for who in (tri.other_admin, tri.clinician, tri.patient.user):
        client.force_login(who)
        response = client.post(reverse("handle_deletion", kwargs={"request_uuid": request.uuid}))
        assert response.status_code in (403, 404)
    request.refresh_from_db()
    assert request.status == "requested"
    client.force_login(tri.other_admin)
    assert "Paul" not in client.get(reverse("deletion_requests")).content.decode()


def test_a_handled_request_is_not_handled_twice(client: Client, tri: Triangle) -> None:
    request = ask(tri)
    client.force_login(tri.admin)
    url = reverse("handle_deletion", kwargs={"request_uuid": request.uuid})
    client.post(url)
    response = client.post(url, follow=True)
    assert "already handled" in response.content.decode()


def test_the_purge_command_erases_what_has_expired(tri: Triangle, capsys: Any) -> None:
    from kratomwatch.cli import main

    request = ask(tri)
    request.status, request.retain_until = "anonymized", timezone.localdate()
    request.save()
    assert main(["purge-expired"]) == 0
    assert "records of 1 patient(s)" in capsys.readouterr().out
    request.refresh_from_db()
    assert request.status == "done"
