"""A patient's check-in reminder."""

from __future__ import annotations

from datetime import time

from django.db import transaction

from kratomwatch.clinic import audit_chain
from kratomwatch.clinic.models import (
    PatientProfile,
    User,
)


def do_set_reminder(*, patient: PatientProfile, user: User, at: time | None, email: str) -> None:
    with transaction.atomic():
        patient.reminder_time = at
        patient.save(update_fields=["reminder_time", "modified"])
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
