"""A patient's check-in reminder."""

from __future__ import annotations

from datetime import time

from django.db import transaction

from kratomwatch.clinic import audit_chain
from kratomwatch.clinic.models import (
    PatientProfile,
    User,
)


def do_set_reminder(
    *,
    patient: PatientProfile,
    user: User,
    at: time | None,
    email: str,
    by_email: bool = True,
    by_push: bool = False,
) -> None:
    with transaction.atomic():
        patient.reminder_time = at
        patient.remind_by_email = by_email
        patient.remind_by_push = by_push
        patient.save(
            update_fields=["reminder_time", "remind_by_email", "remind_by_push", "modified"]
        )
        if email and email != user.email:
            user.email = email
            user.save(update_fields=["email", "modified"])
        audit_chain.append(
            user,
            "reminder.update",
            patient=patient,
            object_type="patient",
            object_uuid=patient.uuid,
        )
