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
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

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
    dropped by Django, and the mark is rolled back with them.
    """
    # A transaction of its own when the change was saved in autocommit mode: the screening
    # runs once the mark is committed.
    with transaction.atomic(savepoint=False):
        mark = screening_mark(patient_id)
        if mark is not None:
            with connection.cursor() as cursor:
                cursor.execute(*mark)


def screening_mark(patient_id: int) -> tuple[str, list[Any]] | None:
    """:func:`schedule_screening` for a caller that writes the mark itself, in its own
    statements (the dose API): the screening is scheduled, and the mark's statement is
    returned, or ``None`` if this transaction has written it already. Only inside a
    transaction, which must write the mark before it ends; or, under
    :func:`deferred_screening`, in one that the caller runs itself
    (:func:`.rows.read_then_write`), as the screening queue needs only the mark."""
    deferred = _deferred.get()
    if not connection.in_atomic_block:
        if deferred:
            return mark_due_statement(patient_id)
        raise RuntimeError("screening_mark() needs a transaction that writes the mark")
    for entry in connection.run_on_commit:
        callback = entry[1]
        if getattr(callback, "kratomwatch_patient_id", None) == patient_id:
            if not deferred:
                callback.kratomwatch_deferred = False
            return None

    def run() -> None:
        from .actions import do_screen_patient

        run.kratomwatch_patient_id = None  # type: ignore[attr-defined]  # done: not pending
        if not run.kratomwatch_deferred:  # type: ignore[attr-defined]
            do_screen_patient(patient_id)

    run.kratomwatch_patient_id = patient_id  # type: ignore[attr-defined]
    run.kratomwatch_deferred = deferred  # type: ignore[attr-defined]
    transaction.on_commit(run)
    return mark_due_statement(patient_id)


def mark_due_statement(patient_id: int) -> tuple[str, list[Any]]:
    """The statement that records that the patient waits for screening (keeping the earliest
    time), and counts the change: a screening that read the record before this commit sees a
    higher count when it stores its findings, and leaves the patient due (see
    ``actions.do_screen_patient``).

    Always a write, so it takes the patient's row lock on PostgreSQL.
    """
    from . import rows
    from .models import PatientProfile

    # Written out rather than built by the ORM: every recorded change runs it.
    return (
        f"UPDATE {rows.table(PatientProfile)}"  # noqa: S608
        " SET screening_due_at = COALESCE(screening_due_at, %s),"
        " change_count = change_count + 1 WHERE id = %s",
        [rows.param(PatientProfile, "screening_due_at", timezone.now()), patient_id],
    )


def _changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    schedule_screening(instance.patient_id)


def connect() -> None:
    for model in SCREENED:
        post_save.connect(_changed, sender=model, dispatch_uid=f"screen-{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"screen-del-{model.__name__}")
