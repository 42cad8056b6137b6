"""Clinicians see their panel and patient pages; admins see their clinic's users."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kratomwatch.clinic.models import AuditEvent, DoseEntry, Finding, MedicationStatement

from .conftest import Triangle, make_patient


def add_finding(tri: Triangle, patient: object, severity: str, code: str = "x") -> Finding:
    now = timezone.now()
    return Finding.objects.create(
        patient=patient,
        code=code,
        fingerprint=f"{code}-{severity}",
        severity=severity,
        category="test",
        title=f"{severity} finding",
        rationale="because",
        first_seen=now,
        last_seen=now,
        references=[
            {
                "id": "tanna2023",
                "citation": "Tanna 2023",
                "pmid": "36924284",
                "url": "https://pubmed.ncbi.nlm.nih.gov/36924284/",
            }
        ],
    )


def test_the_panel_lists_only_my_patients_ranked_by_findings(client: Client, tri: Triangle) -> None:
    quiet = make_patient("quinn", tri.clinic, tri.clinician)
    add_finding(tri, tri.patient, "high")
    client.force_login(tri.clinician)
    response = client.get(reverse("patient_list"))
    names = [r.patient.display_name for r in response.context["rows"]]
    assert names == ["Paul", quiet.display_name]
    html = response.content.decode()
    assert "Pia" not in html and "Otto" not in html


def test_the_patient_page_shows_record_and_findings(client: Client, tri: Triangle) -> None:
    MedicationStatement.objects.create(patient=tri.patient, name_entered="Xanax 0.5 mg")
    DoseEntry.objects.create(
        patient=tri.patient,
        product=tri.product,
        taken_at=timezone.now() - timedelta(hours=1),
        amount=Decimal("2"),
        unit="g",
        leaf_equivalent_g=Decimal("2"),
        idempotency_key="k1",
    )
    add_finding(tri, tri.patient, "high", code="interaction.benzodiazepine")
    client.force_login(tri.clinician)
    url = reverse("patient_detail", kwargs={"patient_uuid": tri.patient.uuid})
    html = client.get(f"{url}?tab=plan").content.decode()
    assert AuditEvent.objects.filter(action="patient.view", actor=tri.clinician).count() == 1
    assert "Xanax 0.5 mg" in html
    assert "Red Bali powder" in html
    html = client.get(f"{url}?tab=findings").content.decode()
    assert "high finding" in html and "PMID 36924284" in html


def test_the_admin_sees_only_their_clinics_users(client: Client, tri: Triangle) -> None:
    client.force_login(tri.admin)
    html = client.get(reverse("clinic_users")).content.decode()
    assert "alice" in html and "paul" in html
    assert "olga" not in html and "otto" not in html


def test_login_with_password_goes_home_by_role(client: Client, tri: Triangle) -> None:
    response = client.post(
        reverse("login"), {"username": "paul", "password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    assert client.get(reverse("home")).url == reverse("patient_home")
    client.logout()
    client.post(reverse("login"), {"username": "alice", "password": "correct horse battery staple"})
    assert client.get(reverse("home")).url == reverse("patient_list")


def test_a_wrong_password_is_refused(client: Client, tri: Triangle) -> None:
    response = client.post(reverse("login"), {"username": "paul", "password": "nope"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()
    assert client.get(reverse("patient_home")).status_code == 302
