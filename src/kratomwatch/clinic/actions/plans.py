"""Saving a clinician's titration, taper or maintenance plan."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from kratomwatch.clinic import audit_chain
from kratomwatch.clinic.models import (
    PatientProfile,
    Plan,
    QuestionnaireSchedule,
    User,
)


def do_save_plan(
    *,
    patient: PatientProfile,
    author: User,
    values: Mapping[str, Any],
    steps: Sequence[Mapping[str, str]],
    schedules: Mapping[str, int | None],
    ip: str | None = None,
) -> Plan:
    """A new plan version: the previous one is kept, inactive. Schedules follow the plan."""
    with transaction.atomic():
        previous = (
            Plan.objects.select_for_update().filter(patient=patient).order_by("-version").first()
        )
        Plan.objects.filter(patient=patient, active=True).update(
            active=False, modified=timezone.now()
        )
        plan = Plan.objects.create(
            patient=patient,
            author=author,
            version=(previous.version + 1 if previous else 1),
            active=True,
            details={"steps": list(steps)} if steps else {},
            **values,
        )
        for instrument, every in schedules.items():
            if every:
                QuestionnaireSchedule.objects.update_or_create(
                    patient=patient,
                    instrument_id=instrument,
                    defaults={"every_days": every, "active": True, "created_by": author},
                )
            else:
                QuestionnaireSchedule.objects.filter(
                    patient=patient, instrument_id=instrument, active=True
                ).update(active=False)
        audit_chain.append(
            author, "plan.create", patient=patient, object_type="plan", object_uuid=plan.uuid, ip=ip
        )
    return plan
