"""A new or changed plan applies from the moment it is approved, not to doses before it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kratomwatch.clinic.models import DoseEntry, Finding, Plan

from .conftest import Triangle
from .test_clinician_workspace import plan_post


def add_dose(t: Triangle, hours_ago: float, grams: str, key: str) -> None:
    DoseEntry.objects.create(
        patient=t.patient,
        product=t.product,
        taken_at=timezone.now() - timedelta(hours=hours_ago),
        amount=Decimal(grams),
        unit="g",
        leaf_equivalent_g=Decimal(grams),
        idempotency_key=key,
    )


def approve(client: Client, t: Triangle, capture: Any, **limits: str) -> Plan:
    url = reverse("plan_edit", kwargs={"patient_uuid": t.patient.uuid})
    data = plan_post(action="approve", kind="maintenance", **limits)
    with capture(execute=True):
        assert client.post(url, data).status_code == 302
    return Plan.objects.get(patient=t.patient, active=True)


def test_approving_a_plan_raises_nothing_for_doses_taken_before_it(
    client: Client, tri: Triangle, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    with capture(execute=True):
        for day in range(1, 6):  # five days of 5 g doses, 2 h apart, three a day
            for n in range(3):
                add_dose(tri, 24 * day + 2 * n, "5", f"d{day}-{n}")
    client.force_login(tri.clinician)
    plan = approve(client, tri, capture, max_single_dose_g="3", max_daily_dose_g="6",
                   max_doses_per_day="2", min_hours_between="4")  # fmt: skip
    assert not Finding.objects.filter(patient=tri.patient, category="plan").exists()
    assert plan.approved_at <= timezone.now()
    # A changed plan starts afresh too: still nothing for the same doses.
    approve(client, tri, capture, max_single_dose_g="2", max_daily_dose_g="4")
    assert not Finding.objects.filter(patient=tri.patient, category="plan").exists()
    client.force_login(tri.patient.user)
    home = client.get(reverse("patient_home")).content.decode()
    assert "plan's limit" not in home and "above your plan" not in home

    # A dose after approval is checked against the plan in force, and only that dose.
    with capture(execute=True):
        add_dose(tri, 0, "2.5", "after")
    [finding] = Finding.objects.filter(patient=tri.patient, category="plan")
    assert finding.code == "plan.single_dose_exceeded"
    assert len(finding.triggers) == 1 and "plan version 2" in finding.rationale
    assert "above your plan" in client.get(reverse("patient_home")).content.decode()
