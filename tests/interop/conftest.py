"""A small seeded demo clinic, made once per test module and rolled back after it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from django.db import transaction

from kratomwatch.clinic.models import Clinic, PatientProfile
from kratomwatch.synthetic.seed import DemoSummary, seed_demo_clinic

TODAY = date(2026, 11, 20)


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[DemoSummary]:
    """Six patients over 30 days. Each test still runs in its own rolled-back savepoint."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield seed_demo_clinic(patients=6, days=30, today=TODAY)
        transaction.set_rollback(True)


@pytest.fixture
def clinic(demo: DemoSummary, db: None) -> Clinic:
    return Clinic.objects.get(pk=demo.clinic.pk)


def patient(clinic: Clinic, number: int) -> PatientProfile:
    """patient01: stable low dose; 02: escalating; 03: Xanax and oxycodone; 04: 7-OH."""
    return PatientProfile.objects.select_related("user", "clinic").get(
        clinic=clinic, user__username=f"patient{number:02d}"
    )
