"""Deletion requests handled under the clinic's retention duty.

A patient's request is handled by their clinic admin. Identity goes at once: name, username,
e-mail, year of birth, authenticator and free-text notes are removed and the account is closed.
Clinical records (doses, ratings, findings, plans) must by law be kept for the clinic's
retention period after the last entry; until then they stay, attached to an anonymous profile,
and the request says until when. Once that date has passed, ``purge_expired`` erases them.
The audit trail is never erased: it records that the erasure happened.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from kratomwatch.clinic import audit_chain
from kratomwatch.clinic.models import (
    Certificate,
    CheckIn,
    ClinicalNote,
    DeletionRequest,
    PatientProfile,
    PushSubscription,
    TOTPDevice,
    User,
)


def do_request_deletion(
    *, patient: PatientProfile, user: User, reason: str, ip: str | None = None
) -> DeletionRequest:
    """Record the request; the clinic handles it under its retention rules."""
    with transaction.atomic():
        open_request = patient.deletion_requests.filter(
            status=DeletionRequest.Status.REQUESTED
        ).first()
        if open_request is not None:
            return open_request
        request = DeletionRequest.objects.create(patient=patient, reason=reason)
        audit_chain.append(
            user,
            "deletion.request",
            patient=patient,
            object_type="deletion_request",
            object_uuid=request.uuid,
            ip=ip,
        )
        return request


ERASED_MODELS = (
    "doses",
    "responses",
    "symptoms",
    "checkins",
    "notes",
    "findings",
    "plans",
    "induction_log",
    "induction_plans",
    "medications",
    "conditions",
    "pharmacogenomics",
    "questionnaire_schedules",
    "analysis_releases",
)


def last_entry(patient: PatientProfile) -> date | None:
    dates = [
        patient.doses.aggregate(d=Max("taken_at"))["d"],
        patient.responses.aggregate(d=Max("taken_at"))["d"],
        patient.symptoms.aggregate(d=Max("reported_at"))["d"],
        patient.notes.aggregate(d=Max("created"))["d"],
    ]
    known = [d for d in dates if d is not None]
    return timezone.localtime(max(known)).date() if known else None


def retain_until(patient: PatientProfile) -> date | None:
    last = last_entry(patient)
    if last is None:
        return None
    years = patient.clinic.retention_years
    try:
        return last.replace(year=last.year + years)
    except ValueError:  # 29 February
        return last.replace(year=last.year + years, day=28)


def do_handle_deletion(request: DeletionRequest, admin: User) -> DeletionRequest:
    """Remove the identity now; erase clinical records too if the retention period is over."""
    patient = request.patient
    keep_until = retain_until(patient)
    today = timezone.localdate()
    with transaction.atomic():
        _remove_identity(patient)
        if keep_until is None or keep_until <= today:
            _erase_clinical(patient)
            request.status = DeletionRequest.Status.DONE
        else:
            request.status = DeletionRequest.Status.ANONYMIZED
            request.retain_until = keep_until
        request.reason = ""  # the patient's own words may identify them
        request.handled_by = admin
        request.handled_at = timezone.now()
        request.save()
        audit_chain.append(
            admin,
            f"deletion.{request.status}",
            patient=patient,
            object_type="deletion_request",
            object_uuid=request.uuid,
        )
    return request


def _remove_identity(patient: PatientProfile) -> None:
    user = patient.user
    tag = str(patient.uuid)[:8]
    user.username = f"erased-{patient.uuid}"
    user.first_name = user.last_name = user.email = ""
    user.is_active = False
    user.set_unusable_password()
    user.save()
    TOTPDevice.objects.filter(user=user).delete()
    PushSubscription.objects.filter(user=user).delete()  # a device's address is theirs
    patient.display_name = f"Erased patient {tag}"
    patient.year_of_birth = None
    patient.reminder_time = None
    patient.sud_treatment = ""
    patient.save()
    CheckIn.objects.filter(patient=patient).update(note="")
    ClinicalNote.objects.filter(patient=patient).update(text="[removed on the patient's request]")
    removed = "[removed on the patient's request]"
    patient.induction_plans.update(plan_text=removed, patient_text="", history=[])
    patient.induction_plans.exclude(end_reason="").update(end_reason=removed)
    patient.results.exclude(note="").update(note=removed)
    patient.induction_log.exclude(notes="").update(notes=removed)
    patient.deletion_requests.update(reason="")


def _erase_clinical(patient: PatientProfile) -> None:
    for name in ERASED_MODELS:
        getattr(patient, name).all().delete()
    # Lab certificates go with their lots (a lot only points to its certificate).
    Certificate.objects.filter(lot__product__patient=patient).delete()
    patient.products.all().delete()


def purge_expired(today: date | None = None) -> int:
    """Erase the clinical records of anonymized patients whose retention date has passed."""
    today = today or timezone.localdate()
    done = 0
    for request in DeletionRequest.objects.filter(
        status=DeletionRequest.Status.ANONYMIZED, retain_until__lte=today
    ):
        with transaction.atomic():
            _erase_clinical(request.patient)
            request.status = DeletionRequest.Status.DONE
            request.save(update_fields=["status", "modified"])
            audit_chain.append(
                None,
                "deletion.done",
                patient=request.patient,
                object_type="deletion_request",
                object_uuid=request.uuid,
            )
        done += 1
    return done
