"""Re-screen a patient whenever an input of the safety engine changes, once per transaction.

Whatever the path of a change (web form, API, import, admin), saving or deleting one of the
screened records schedules one screening of that patient after the transaction commits.
Bulk inserts send no signals; their callers screen explicitly (see seed.py).
"""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save

from .models import (
    DoseEntry,
    MedicationStatement,
    PatientCondition,
    PharmacogenomicResult,
    Plan,
    Product,
    QuestionnaireResponse,
    SymptomReport,
)

SCREENED = (
    DoseEntry,
    MedicationStatement,
    PatientCondition,
    PharmacogenomicResult,
    Plan,
    Product,
    QuestionnaireResponse,
    SymptomReport,
)


def schedule_screening(patient_id: int) -> None:
    """One screening per patient per transaction. Callbacks of a rolled-back transaction or
    savepoint are dropped by Django, so nothing is left pending after a rollback."""
    for entry in connection.run_on_commit:
        if getattr(entry[1], "kratomwatch_patient_id", None) == patient_id:
            return

    def run() -> None:
        from .actions import do_screen_patient

        run.kratomwatch_patient_id = None  # type: ignore[attr-defined]  # done: not pending
        do_screen_patient(patient_id)

    run.kratomwatch_patient_id = patient_id  # type: ignore[attr-defined]
    transaction.on_commit(run)


def _changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    schedule_screening(instance.patient_id)


def connect() -> None:
    for model in SCREENED:
        post_save.connect(_changed, sender=model, dispatch_uid=f"screen-{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"screen-del-{model.__name__}")
