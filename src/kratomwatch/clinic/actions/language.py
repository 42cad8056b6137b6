"""A patient's choice of language for their pages and e-mails; a staff member's for theirs."""

from __future__ import annotations

from django.db import transaction

from kratomwatch.clinic import audit_chain
from kratomwatch.clinic.models import Language, PatientProfile, StaffLanguage, User


def do_set_language(*, patient: PatientProfile, user: User, language: str) -> None:
    if language not in Language.values:
        raise ValueError(f"not a language of the app: {language!r}")
    with transaction.atomic():
        patient.language = language
        patient.save(update_fields=["language", "modified"])
        audit_chain.append(
            user,
            "language.update",
            patient=patient,
            object_type="patient",
            object_uuid=patient.uuid,
        )


def do_set_staff_language(*, user: User, language: str) -> None:
    """A clinician's or clinic admin's own choice among the languages of the staff pages."""
    if language not in StaffLanguage.values:
        raise ValueError(f"not a language of the staff pages: {language!r}")
    with transaction.atomic():
        user.language = language
        user.save(update_fields=["language", "modified"])
        audit_chain.append(user, "language.update", object_type="user", object_uuid=user.uuid)
