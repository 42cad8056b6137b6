"""Any change to a screened input schedules exactly one screening after commit."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from kratomwatch.clinic.models import Finding, MedicationStatement, PatientCondition, SymptomReport

from .conftest import Triangle


def test_several_changes_in_one_transaction_screen_once(
    tri: Triangle, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            MedicationStatement.objects.create(patient=tri.patient, name_entered="Xanax")
            PatientCondition.objects.create(patient=tri.patient, code="pregnancy")
            SymptomReport.objects.create(
                patient=tri.patient, term="nausea", severity=1, reported_at=timezone.now()
            )
    assert len(callbacks) == 1
    codes = set(Finding.objects.filter(patient=tri.patient).values_list("code", flat=True))
    assert "interaction.benzodiazepine" in codes
    assert any(c.startswith("condition.pregnan") for c in codes)


def test_a_rolled_back_change_leaves_nothing_pending(
    tri: Triangle, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        try:
            with transaction.atomic():
                MedicationStatement.objects.create(patient=tri.patient, name_entered="Xanax")
                raise RuntimeError("abort")
        except RuntimeError:
            pass
        MedicationStatement.objects.create(patient=tri.patient, name_entered="oxycodone")
    assert len(callbacks) == 1


def test_deleting_a_medication_rescreens(
    tri: Triangle, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        med = MedicationStatement.objects.create(patient=tri.patient, name_entered="Xanax")
    finding = Finding.objects.get(
        patient=tri.patient, code="interaction.benzodiazepine", active=True
    )
    with django_capture_on_commit_callbacks(execute=True):
        med.delete()
    finding.refresh_from_db()
    assert finding.active is False
