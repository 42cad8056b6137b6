"""Sharing a patient's personal analysis with them: the clinician's explicit, audited act.

Until their clinician shares it, a patient does not see their dose-response analysis, only
that their clinician will go through it with them. What is shared is the plain-language
summary (:func:`analysis_app.patient_summary`), stored as the clinician saw it, in the
language the patient reads their pages in.
"""

from __future__ import annotations

from django.db import transaction

from kratomwatch.clinic import audit_chain
from kratomwatch.clinic.analysis_app import DoseResponseView
from kratomwatch.clinic.models import AnalysisRelease, PatientProfile, User


def do_release_analysis(
    *,
    patient: PatientProfile,
    clinician: User,
    view: DoseResponseView,
    lines: list[str],
    ip: str | None = None,
) -> AnalysisRelease:
    """Share ``lines``, the summary of ``view``, with the patient; audited."""
    with transaction.atomic():
        release = AnalysisRelease.objects.create(
            patient=patient,
            released_by=clinician,
            first_day=view.first,
            last_day=view.last,
            lines=list(lines),
        )
        audit_chain.append(
            clinician,
            "analysis.release",
            patient=patient,
            object_type="analysis_release",
            object_uuid=release.uuid,
            ip=ip,
        )
    return release
