"""Pages and API answers showing a patient's record to someone else write an audit event."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from kratomwatch.api.auth import create_token
from kratomwatch.clinic.models import AuditEvent

from .conftest import Triangle


def views_of(tri: Triangle) -> list[tuple[str, str]]:
    return list(
        AuditEvent.objects.filter(patient=tri.patient, action="patient.view")
        .order_by("seq")
        .values_list("actor__username", "object_type")
    )


def test_clinician_pages_about_a_patient_are_audited(client: Client, tri: Triangle) -> None:
    client.force_login(tri.clinician)
    assert (
        client.get(reverse("plan_edit", kwargs={"patient_uuid": tri.patient.uuid})).status_code
        == 200
    )
    assert (
        client.get(reverse("patient_detail", kwargs={"patient_uuid": tri.patient.uuid})).status_code
        == 200
    )
    assert views_of(tri) == [("alice", "plan_edit"), ("alice", "patient")]


def test_api_reads_are_audited(client: Client, tri: Triangle) -> None:
    secret = create_token(tri.clinician, "t").secret
    response = client.get(
        f"/api/patients/{tri.patient.uuid}/doses", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )
    assert response.status_code == 200
    assert views_of(tri) == [("alice", "api:list_doses")]


def test_denied_requests_and_the_patients_own_views_are_not_views(
    client: Client, tri: Triangle
) -> None:
    client.force_login(tri.outsider)
    assert (
        client.get(reverse("plan_edit", kwargs={"patient_uuid": tri.patient.uuid})).status_code
        == 404
    )
    client.force_login(tri.patient.user)
    assert client.get(reverse("trends")).status_code == 200
    assert views_of(tri) == []
