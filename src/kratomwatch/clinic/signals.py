"""Re-screen a patient whenever an input of the safety engine changes, once per transaction.

Whatever the path of a change (web form, API, import, admin), saving or deleting one of the
screened records schedules one screening of that patient after the transaction commits.
Bulk inserts send no signals; their callers screen explicitly (see seed.py). Inside
:func:`deferred_screening`, the patient is only marked due and the screening queue
(:mod:`.screening_queue`) screens it within seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from kratomwatch.clinic.models import (
    DoseEntry,
    InductionLogEntry,
    InductionPlan,
    LabResult,
    MedicationStatement,
    PatientCondition,
    PharmacogenomicResult,
    Plan,
    Product,
    ProductLot,
    QuestionnaireResponse,
    SymptomReport,
)

SCREENED = (
    DoseEntry,
    InductionLogEntry,
    InductionPlan,
    LabResult,
    MedicationStatement,
    PatientCondition,
    PharmacogenomicResult,
    Plan,
    Product,
    QuestionnaireResponse,
    SymptomReport,
)


_deferred: ContextVar[bool] = ContextVar("kratomwatch_deferred_screening", default=False)


@contextmanager
def deferred_screening() -> Iterator[None]:
    """Changes made inside are screened by the screening queue rather than right after commit.

    For high-volume writes (the dose API): the change marks the patient as due in the same
    transaction, and a screening worker (:mod:`.screening_queue`) screens each due patient
    once, however many changes arrived meanwhile.
    """
    token = _deferred.set(True)
    try:
        yield
    finally:
        _deferred.reset(token)


def screening_deferred() -> bool:
    """Whether changes made now are screened by the queue (:func:`deferred_screening`)."""
    return _deferred.get()


def schedule_screening(patient_id: int) -> None:
    """Mark the patient due for screening and screen once after commit, once per transaction.

    The mark is written in the changing transaction, so a change is never committed without
    it; the screening clears it. Callbacks of a rolled-back transaction or savepoint are
    dropped by Django, and the mark is rolled back with them. Under
    :func:`deferred_screening` only the mark is written: the screening queue screens.
    """
    deferred = _deferred.get()
    # A transaction of its own when the change was saved in autocommit mode: the screening
    # runs once the mark is committed.
    with transaction.atomic(savepoint=False):
        for entry in connection.run_on_commit:
            callback = entry[1]
            if getattr(callback, "kratomwatch_patient_id", None) == patient_id:
                if not deferred:
                    callback.kratomwatch_deferred = False
                return  # this transaction has written the mark already

        def run() -> None:
            from kratomwatch.clinic.actions.screening import do_screen_patient

            run.kratomwatch_patient_id = None  # type: ignore[attr-defined]  # done: not pending
            if not run.kratomwatch_deferred:  # type: ignore[attr-defined]
                do_screen_patient(patient_id)

        run.kratomwatch_patient_id = patient_id  # type: ignore[attr-defined]
        run.kratomwatch_deferred = deferred  # type: ignore[attr-defined]
        transaction.on_commit(run)
        mark_due(patient_id)


def mark_due(patient_id: int) -> None:
    """Record that the patient waits for screening (keeping the earliest time), and count
    the change: a screening that read the record before this commit sees a higher count when
    it stores its findings, and leaves the patient due (see ``actions.do_screen_patient``).

    Always a write, so it takes the patient's row lock on PostgreSQL.
    """
    from kratomwatch.clinic.models import PatientProfile

    PatientProfile.objects.filter(pk=patient_id).update(
        screening_due_at=Coalesce("screening_due_at", Value(timezone.now())),
        change_count=F("change_count") + 1,
    )


def _changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    schedule_screening(instance.patient_id)


def _lot_changed(sender: Any, instance: ProductLot, **kwargs: Any) -> None:
    """A lot's lab figures are screened with its product's patient."""
    if kwargs.get("raw"):
        return
    patient_id = (
        Product.objects.filter(pk=instance.product_id).values_list("patient_id", flat=True).first()
    )
    if patient_id is not None:
        schedule_screening(patient_id)


def connect() -> None:
    for model in SCREENED:
        post_save.connect(_changed, sender=model, dispatch_uid=f"screen-{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"screen-del-{model.__name__}")
    post_save.connect(_lot_changed, sender=ProductLot, dispatch_uid="screen-ProductLot")
    post_delete.connect(_lot_changed, sender=ProductLot, dispatch_uid="screen-del-ProductLot")
