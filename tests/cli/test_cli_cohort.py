"""`kratomwatch cohort`: a clinic's aggregate statistics as a table or JSON; bad slugs exit 2."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kratomwatch.cli import main
from kratomwatch.clinic.models import (
    CheckIn,
    Clinic,
    DoseEntry,
    Finding,
    PatientProfile,
    Product,
    Role,
    User,
)
from kratomwatch.synthetic.seed import seed_demo_clinic


@pytest.fixture
def clinic(db: None) -> Clinic:
    clinic = Clinic.objects.create(name="Clinic A", slug="a")
    now = timezone.now()
    for i in range(2):
        user = User.objects.create(username=f"pat{i}", clinic=clinic, role=Role.PATIENT)
        patient = PatientProfile.objects.create(
            user=user, clinic=clinic, display_name=f"Zebedee {i}"
        )
        product = Product.objects.create(patient=patient, name="Powder", form="leaf_powder")
        for n, (days, grams) in enumerate(((40, "4"), (3, "6" if i == 0 else "4"))):
            DoseEntry.objects.create(
                patient=patient,
                product=product,
                taken_at=now - timedelta(days=days),
                amount=Decimal(grams),
                unit="g",
                leaf_equivalent_g=Decimal(grams),
                idempotency_key=f"d{n}",
            )
    CheckIn.objects.create(
        patient=patient,
        day=now.date(),
        submitted_at=now - timedelta(days=1),
        idempotency_key="c",
    )
    Finding.objects.create(
        patient=patient,
        code="interaction.test",
        fingerprint="f",
        severity="high",
        category="interaction",
        title="Test",
        rationale="Test",
        first_seen=now,
        last_seen=now,
    )
    return clinic


def test_json(clinic: Clinic, capsys: Any) -> None:
    assert main(["cohort", "--clinic", "a", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["clinic"] == "a" and data["patients"] == 2
    assert data["checked_in"] == {"patients": 1, "share": 0.5}
    assert data["open_findings"]["high"]["patients"] == 1
    assert data["open_findings_by_category"] == {"interaction": 1}
    dose = data["dose_trend"]
    assert dose["patients_compared"] == 2 and dose["rose"]["patients"] == 1
    assert dose["median_change_pct"] == 25.0  # of 0 and +50
    assert "Zebedee" not in json.dumps(data)  # aggregate figures only: no names


def test_table(clinic: Clinic, capsys: Any) -> None:
    assert main(["cohort", "--clinic", "a"]) == 0
    out = capsys.readouterr().out
    assert "checked in during the last 14 days" in out and "50.0%" in out
    assert "rose by more than 25%" in out and "interaction" in out
    assert "Zebedee" not in out


def test_an_unknown_clinic_is_an_error(clinic: Clinic, capsys: Any) -> None:
    assert main(["cohort", "--clinic", "nowhere", "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no clinic 'nowhere' (clinics: a)" in captured.err


def test_the_demo_clinic_agrees_with_the_clinicians_panels(
    db: None, client: Client, capsys: Any
) -> None:
    """The demo's check-ins are real check-ins: the cohort counts what the panels show."""
    demo = seed_demo_clinic(patients=8, days=30, today=timezone.localdate())
    assert main(["cohort", "--clinic", demo.clinic.slug, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    rows = {}
    for username in ("dr.lee", "dr.okafor"):  # between them, every patient's care team
        client.force_login(User.objects.get(username=username))
        page = client.get(reverse("patient_list"), {"show": "all"})
        html = page.content.decode()
        for row in page.context["rows"]:
            assert f"{row.checkin_days} of 14" in html
            rows[row.patient.pk] = row
    assert len(rows) == data["patients"] == 8
    checked_in = [r for r in rows.values() if r.checkin_days > 0]
    assert data["checked_in"]["patients"] == len(checked_in) > 0
    since = timezone.now() - timedelta(days=14)
    for pk, row in rows.items():
        days = CheckIn.objects.filter(patient_id=pk, submitted_at__gte=since).dates("day", "day")
        assert row.checkin_days == len(days) > 0
