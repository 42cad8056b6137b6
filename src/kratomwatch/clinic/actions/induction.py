"""A clinician's buprenorphine transition plan and its induction log."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from kratomwatch.clinic import audit_chain
from kratomwatch.clinic.models import InductionLogEntry, InductionPlan, PatientProfile, User

#: The plan fields a clinician writes; a change keeps the version before in ``history``.
PLAN_FIELDS = (
    "plan_text",
    "patient_text",
    "product_text",
    "planned_start",
    "min_hours_since_kratom",
    "cows_threshold",
)


def open_plan(patient: PatientProfile) -> InductionPlan | None:
    return patient.induction_plans.filter(ended_at__isnull=True).first()


def _version(plan: InductionPlan) -> dict[str, Any]:
    values: dict[str, Any] = {"version": plan.version, "saved_at": plan.modified.isoformat()}
    for name in PLAN_FIELDS:
        value = getattr(plan, name)
        values[name] = value if isinstance(value, str | int | None) else str(value)
    values["author"] = str(plan.author.uuid)
    return values


def do_save_induction_plan(
    *, patient: PatientProfile, author: User, values: Mapping[str, Any], ip: str | None = None
) -> InductionPlan:
    """Open a transition plan, or write a new version of the open one."""
    with transaction.atomic():
        # One writer per patient at a time: two clinicians opening a plan at once make one
        # plan and a second version, never a clash on the one-open-plan constraint.
        PatientProfile.objects.select_for_update().filter(pk=patient.pk).values_list("pk").get()
        plan = (
            patient.induction_plans.select_for_update()
            .select_related("author")
            .filter(ended_at__isnull=True)
            .first()
        )
        if plan is None:
            plan = InductionPlan.objects.create(patient=patient, author=author, **values)
            action = "induction.open"
        else:
            plan.history = [*plan.history, _version(plan)]
            plan.version += 1
            plan.author = author
            for name, value in values.items():
                setattr(plan, name, value)
            plan.save()
            action = "induction.change"
        audit_chain.append(
            author,
            action,
            patient=patient,
            object_type="induction_plan",
            object_uuid=plan.uuid,
            ip=ip,
        )
    return plan


def do_log_induction(
    *,
    plan: InductionPlan,
    user: User,
    at: datetime,
    dose_mg: Decimal | None,
    cows: int | None,
    sedation: int | None,
    notes: str,
    ip: str | None = None,
) -> InductionLogEntry:
    with transaction.atomic():
        entry = InductionLogEntry.objects.create(
            plan=plan,
            patient=plan.patient,
            at=at,
            dose_mg=dose_mg,
            cows=cows,
            sedation=sedation,
            notes=notes,
            entered_by=user,
        )
        audit_chain.append(
            user,
            "induction.log",
            patient=plan.patient,
            object_type="induction_log",
            object_uuid=entry.uuid,
            ip=ip,
        )
    return entry


def do_end_induction_plan(
    *, plan: InductionPlan, user: User, reason: str, ip: str | None = None
) -> None:
    with transaction.atomic():
        plan.ended_at = timezone.now()
        plan.end_reason = reason
        plan.save(update_fields=["ended_at", "end_reason", "modified"])
        audit_chain.append(
            user,
            "induction.end",
            patient=plan.patient,
            object_type="induction_plan",
            object_uuid=plan.uuid,
            ip=ip,
        )
