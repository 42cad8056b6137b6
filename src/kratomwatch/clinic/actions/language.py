"""A patient's choice of language for their pages and e-mails."""

from __future__ import annotations

from django.db import transaction

from kratomwatch.clinic import audit_chain
from kratomwatch.clinic.models import Language, PatientProfile, User


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
