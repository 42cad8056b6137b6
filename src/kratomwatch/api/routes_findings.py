"""Safety findings: clinicians read and acknowledge those of the patients on their care teams."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.utils import translation
from ninja import Router

from kratomwatch.clinic import access
from kratomwatch.clinic.actions.findings import LifecycleError, do_acknowledge_finding
from kratomwatch.clinic.actions.screening import screen_now_if_due
from kratomwatch.clinic.models import Finding, PatientProfile
from kratomwatch.domain.text import is_blank

from .auth import read_auth, user_of, write_auth
from .idempotency import IdempotencyKey, idempotency_key, once
from .pagination import Cursor, Limit, page_of
from .problems import Problem
from .routes_patients import ERRORS
from .schemas import AcknowledgeIn, FindingOut, FindingPage, NotesOut

router = Router(tags=["findings"])


@router.get(
    "/patients/{patient_uuid}/findings", response={200: FindingPage, **ERRORS}, auth=read_auth
)
def list_findings(
    request: HttpRequest, patient_uuid: UUID, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    """The patient's findings, for their clinicians (404 for everyone else).

    A record still waiting in the screening queue is screened first, so the answer is current.
    """
    findings = access.findings_of(user_of(request), patient_uuid)
    screen_now_if_due(PatientProfile.objects.filter(uuid=patient_uuid))
    return page_of(request, findings, cursor, limit)


@router.get("/patients/{patient_uuid}/notes", response={200: NotesOut, **ERRORS}, auth=read_auth)
def list_notes(request: HttpRequest, patient_uuid: UUID) -> dict[str, Any]:
    """The notes of the patient's last screening: information on a medication or product with
    nothing to act on now, never raised as findings (for their clinicians; 404 otherwise)."""
    patient = access.screening_notes_of(user_of(request), patient_uuid)
    screen_now_if_due(PatientProfile.objects.filter(pk=patient.pk))
    patient.refresh_from_db(fields=["screening_notes", "screened_knowledge"])
    return {"knowledge_version": patient.screened_knowledge, "items": patient.screening_notes}


@router.post(
    "/findings/{finding_uuid}/acknowledge",
    response={200: FindingOut, **ERRORS},
    auth=write_auth,
)
def acknowledge_finding(
    request: HttpRequest,
    finding_uuid: UUID,
    payload: AcknowledgeIn,
    key: IdempotencyKey = None,
) -> Any:
    """Open -> acknowledged, with the reason kept on the finding (409 if not open)."""
    user = user_of(request)
    finding = access.care_team_finding(user, finding_uuid)
    reason = payload.reason.strip()

    def acknowledge() -> tuple[int, Finding]:
        if is_blank(reason):
            raise Problem(422, "Give a reason: it is kept with the finding.", errors=[])
        try:
            with translation.override("en"):  # the API answers in English
                do_acknowledge_finding(finding, user, reason, ip=request.META.get("REMOTE_ADDR"))
        except LifecycleError as exc:
            raise Problem(409, str(exc), slug="finding-not-open") from exc
        return 200, finding

    return once(
        user=user,
        operation=f"acknowledge:{finding.uuid}",
        key=idempotency_key(key),
        payload=payload,
        out=FindingOut,
        change=acknowledge,
    )
