"""The clinical record a clinician keeps: medications, conditions, pharmacogenomics, notes."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from kratomwatch.clinic import audit_chain
from kratomwatch.clinic.models import (
    ClinicalNote,
    MedicationStatement,
    PatientCondition,
    PatientProfile,
    PharmacogenomicResult,
    User,
)
from kratomwatch.domain.substances import Match, recognize


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
        audit_chain.append(
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
        audit_chain.append(
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
        audit_chain.append(
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
        audit_chain.append(
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
        audit_chain.append(
            user, "note.create", patient=patient, object_type="note", object_uuid=note.uuid, ip=ip
        )
    return note
