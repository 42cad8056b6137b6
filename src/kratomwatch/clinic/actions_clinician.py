"""Changes a clinician makes: plans, schedules, medications, conditions, notes, bulk actions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from kratomwatch.domain.substances import Match, recognize

from .actions import LifecycleError, audit, do_acknowledge_finding
from .models import (
    ClinicalNote,
    Finding,
    FindingStatus,
    MedicationStatement,
    PatientCondition,
    PatientProfile,
    PharmacogenomicResult,
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
        audit(
            author, "plan.create", patient=patient, object_type="plan", object_uuid=plan.uuid, ip=ip
        )
    return plan


def do_add_medication(
    *, patient: PatientProfile, user: User, name: str, dose_text: str, ip: str | None = None
) -> MedicationStatement:
    match = recognize(name)
    with transaction.atomic():
        med = MedicationStatement.objects.create(
            patient=patient,
            name_entered=name,
            dose_text=dose_text,
            ingredient=",".join(match.ids) if isinstance(match, Match) else "",
            started_on=timezone.localdate(),
        )
        audit(
            user,
            "medication.create",
            patient=patient,
            object_type="medication",
            object_uuid=med.uuid,
            ip=ip,
        )
    return med


def do_stop_medication(*, med: MedicationStatement, user: User, ip: str | None = None) -> None:
    with transaction.atomic():
        med.stopped_on = timezone.localdate()
        med.save(update_fields=["stopped_on", "modified"])
        audit(
            user,
            "medication.stop",
            patient=med.patient,
            object_type="medication",
            object_uuid=med.uuid,
            ip=ip,
        )


def do_set_condition(
    *, patient: PatientProfile, user: User, code: str, active: bool, ip: str | None = None
) -> PatientCondition:
    with transaction.atomic():
        condition, _ = PatientCondition.objects.update_or_create(
            patient=patient, code=code, defaults={"active": active}
        )
        audit(
            user,
            "condition.set" if active else "condition.remove",
            patient=patient,
            object_type="condition",
            object_uuid=condition.uuid,
            ip=ip,
        )
    return condition


def do_set_pharmacogenomic(
    *, patient: PatientProfile, user: User, gene: str, phenotype: str, ip: str | None = None
) -> PharmacogenomicResult:
    with transaction.atomic():
        PharmacogenomicResult.objects.filter(patient=patient, gene=gene).delete()
        result = PharmacogenomicResult.objects.create(
            patient=patient, gene=gene, phenotype=phenotype, tested_on=timezone.localdate()
        )
        audit(
            user,
            "pharmacogenomics.set",
            patient=patient,
            object_type="pharmacogenomics",
            object_uuid=result.uuid,
            ip=ip,
        )
    return result


def do_add_note(
    *, patient: PatientProfile, user: User, text: str, ip: str | None = None
) -> ClinicalNote:
    with transaction.atomic():
        note = ClinicalNote.objects.create(patient=patient, author=user, text=text)
        audit(
            user, "note.create", patient=patient, object_type="note", object_uuid=note.uuid, ip=ip
        )
    return note


def do_bulk_acknowledge(
    *, findings: Sequence[Finding], user: User, reason: str, ip: str | None = None
) -> int:
    """Acknowledge many findings at once: low severity only, by design."""
    if any(f.severity != "low" for f in findings):
        raise LifecycleError(
            "Only low-severity findings can be acknowledged together; "
            "review moderate and high ones one by one."
        )
    with transaction.atomic():
        count = 0
        for finding in findings:
            if finding.status != FindingStatus.OPEN:
                continue
            do_acknowledge_finding(finding, user, reason, ip=ip)
            count += 1
    return count
