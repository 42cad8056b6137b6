"""A patient logs a dose from their home page."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kratomwatch.clinic.models import AuditEvent, DoseEntry, Finding, Plan, PlanKind

from .conftest import Triangle


def post_dose(client: Client, tri: Triangle, **overrides: object) -> object:
    data = {
        "product": str(tri.product.uuid),
        "amount": "2.5",
        "unit": "g",
        "taken_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "preparation": "toss and wash",
        "idempotency_key": uuid.uuid4().hex,
    }
    data.update({k: v for k, v in overrides.items() if v is not None})
    for k in [k for k, v in overrides.items() if v is None]:
        data.pop(k)
    return client.post(reverse("patient_home"), data)


def test_it_shows_the_form_with_a_fresh_key(client: Client, tri: Triangle) -> None:
    client.force_login(tri.patient.user)
    first = client.get(reverse("patient_home")).context["form"]["idempotency_key"].value()
    second = client.get(reverse("patient_home")).context["form"]["idempotency_key"].value()
    assert first and second and first != second


def test_it_records_a_dose_with_normalized_exposure(client: Client, tri: Triangle) -> None:
    client.force_login(tri.patient.user)
    response = post_dose(client, tri)
    assert response.status_code == 302
    entry = DoseEntry.objects.get(patient=tri.patient)
    assert entry.amount == Decimal("2.5") and entry.unit == "g"
    assert entry.leaf_equivalent_g == Decimal("2.5")
    assert entry.mitragynine_mg == Decimal("37.5")  # 2.5 g x 15 mg/g
    assert entry.entered_by == tri.patient.user
    assert AuditEvent.objects.filter(action="dose.create", patient=tri.patient).count() == 1
    page = client.get(reverse("patient_home"))
    assert b"Red Bali powder" in page.content


def test_a_double_submit_creates_one_entry(client: Client, tri: Triangle) -> None:
    client.force_login(tri.patient.user)
    key = uuid.uuid4().hex
    post_dose(client, tri, idempotency_key=key)
    response = post_dose(client, tri, idempotency_key=key)
    assert response.status_code == 302
    assert DoseEntry.objects.filter(patient=tri.patient).count() == 1
    page = client.get(reverse("patient_home"))
    assert b"already saved" in page.content


def test_it_rejects_a_missing_unit_and_keeps_the_input(client: Client, tri: Triangle) -> None:
    client.force_login(tri.patient.user)
    response = post_dose(client, tri, unit="", amount="3.25", preparation="tea")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose a unit" in html
    assert 'value="3.25"' in html and 'value="tea"' in html
    assert not DoseEntry.objects.exists()


def test_it_rejects_zero_negative_and_text(client: Client, tri: Triangle) -> None:
    client.force_login(tri.patient.user)
    for bad in ["0", "-1", "abc", "nan", "inf"]:
        response = post_dose(client, tri, amount=bad)
        assert response.status_code == 400, bad
        assert response.context["form"].errors["amount"], bad
    assert not DoseEntry.objects.exists()


def test_it_rejects_a_time_in_the_future(client: Client, tri: Triangle) -> None:
    client.force_login(tri.patient.user)
    later = (timezone.localtime() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    response = post_dose(client, tri, taken_at=later)
    assert response.status_code == 400
    assert response.context["form"].errors["taken_at"]
    assert not DoseEntry.objects.exists()


def test_a_suspicious_amount_needs_confirmation(client: Client, tri: Triangle) -> None:
    client.force_login(tri.patient.user)
    key = uuid.uuid4().hex
    response = post_dose(client, tri, amount="15", unit="mg", idempotency_key=key)
    assert response.status_code == 400
    form = response.context["form"]
    assert form.pending, "15 mg of leaf powder must ask for confirmation"
    assert not DoseEntry.objects.exists()
    codes = [code for code, _ in form.pending]
    response = client.post(
        reverse("patient_home"),
        {
            "product": str(tri.product.uuid),
            "amount": "15",
            "unit": "mg",
            "taken_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "idempotency_key": key,
            "confirm": codes,
        },
    )
    assert response.status_code == 302
    entry = DoseEntry.objects.get()
    assert entry.amount == Decimal("15") and entry.unit == "mg"  # never converted
    assert entry.leaf_equivalent_g == Decimal("0.015")
    assert entry.confirmed_warnings == codes


def test_another_patients_product_is_refused(client: Client, tri: Triangle) -> None:
    client.force_login(tri.other_patient.user)
    response = post_dose(client, tri)
    assert response.status_code == 400
    assert response.context["form"].errors["product"]
    assert not DoseEntry.objects.exists()


def test_a_dose_over_the_plan_is_recorded_flagged_and_told(
    client: Client, tri: Triangle, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # the plan is saved and committed
        Plan.objects.create(
            patient=tri.patient,
            version=1,
            kind=PlanKind.MAINTENANCE,
            max_single_dose_g=Decimal("3"),
            author=tri.clinician,
            reason="intake",
            # Approved before the dose (whose time the form takes to the minute).
            approved_at=timezone.now() - timedelta(minutes=5),
        )
    client.force_login(tri.patient.user)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_dose(client, tri, amount="5")
    assert response.status_code == 302
    assert len(callbacks) == 1  # screening runs after the commit
    assert DoseEntry.objects.filter(patient=tri.patient).count() == 1
    finding = Finding.objects.get(patient=tri.patient, code="plan.single_dose_exceeded")
    assert finding.status == "open" and finding.severity == "moderate"
    assert "5" in finding.rationale and "3" in finding.rationale
    page = client.get(reverse("patient_home")).content.decode()
    assert "above your plan" in page
    client.force_login(tri.clinician)
    detail = client.get(reverse("patient_detail", kwargs={"patient_uuid": tri.patient.uuid}))
    assert "Single dose above the plan" in detail.content.decode()
