"""Screening reads the record of the last 120 days, edges included, and nothing later.

What lies exactly at the window's start or at the moment of screening is read; a second
earlier or later is not. A medication stopped today is still taken today; one stopped
yesterday is not.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from kratomwatch.clinic.models import (
    DoseEntry,
    MedicationStatement,
    QuestionnaireResponse,
    SymptomReport,
)
from kratomwatch.clinic.screening_input import SCREENING_WINDOW, patient_snapshot

from .conftest import Triangle

SECOND = timedelta(seconds=1)


def test_the_window_includes_its_edges_and_nothing_beyond(tri: Triangle) -> None:
    now = timezone.now().replace(microsecond=0)
    start = now - SCREENING_WINDOW
    moments = {
        "before": start - SECOND,
        "start": start,
        "now": now,
        "after": now + SECOND,
    }
    QuestionnaireResponse.objects.filter(patient=tri.patient).delete()
    for label, at in moments.items():
        DoseEntry.objects.create(
            patient=tri.patient,
            product=tri.product,
            taken_at=at,
            amount=Decimal("1"),
            unit="g",
            idempotency_key=f"dose-{label}",
        )
        SymptomReport.objects.create(
            patient=tri.patient, term=f"nausea {label}", severity=1, reported_at=at
        )
        QuestionnaireResponse.objects.create(
            patient=tri.patient,
            instrument_id="gad2",
            instrument_version="1.0",
            answers=[0, 1],
            total=1,
            taken_at=at,
            idempotency_key=f"response-{label}",
        )
    today = timezone.localdate(now)
    MedicationStatement.objects.create(
        patient=tri.patient, name_entered="ibuprofen", stopped_on=today
    )
    MedicationStatement.objects.create(
        patient=tri.patient, name_entered="naproxen", stopped_on=today - timedelta(days=1)
    )

    snapshot = patient_snapshot(tri.patient, now)

    assert sorted(d.taken_at for d in snapshot.doses) == [start, now]
    assert sorted(s.text for s in snapshot.symptoms) == ["nausea now", "nausea start"]
    assert sorted(r.taken_at for r in snapshot.responses) == [start, now]
    names = {m.name for m in snapshot.medications}
    assert "ibuprofen" in names and "naproxen" not in names
