"""A patient's symptoms: listed by the patient and their clinicians, reported by the patient.

A red flag goes through the same action as the web check-in's (its urgent guidance comes
back in the reply and the care team is alerted once it is screened, on commit); any other
symptom is saved on its own. Access is decided by kratomwatch.clinic.access.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Status

from kratomwatch.clinic import access
from kratomwatch.clinic.actions.checkins import (
    do_report_red_flags,
    do_report_symptom,
    red_flag_key,
)
from kratomwatch.clinic.models import EntrySource, SymptomReport
from kratomwatch.domain.doses import FieldError
from kratomwatch.domain.findings import Finding
from kratomwatch.domain.safety import load_knowledge

from .auth import read_auth, user_of, write_auth
from .idempotency import IdempotencyKey, idempotency_key, once, refused_key, stored_reply
from .pagination import Cursor, Limit, page_of
from .problems import Problem
from .routes_patients import ERRORS
from .schemas import SymptomIn, SymptomPage, SymptomReplyOut, SymptomTermOut

router = Router(tags=["symptoms"])


def symptom_out(s: SymptomReport) -> dict[str, Any]:
    return {
        "uuid": s.uuid,
        "term": s.term,
        "severity": s.severity,
        "reported_at": s.reported_at,
        "created": s.created,
    }


def urgent_out(findings: tuple[Finding, ...]) -> list[dict[str, str]]:
    """The urgent guidance of red-flag findings, as the web shows it (in English)."""
    return [{"title": f.title, "message": f.patient_message or ""} for f in findings]


def unknown_symptom(field: str, sid: str, *, red_flag: bool | None = None) -> FieldError:
    """The error for a symptom id that is not one of the kind expected there."""
    kind = {True: "red-flag symptom", False: "symptom that is not a red flag", None: "symptom"}
    return FieldError(
        field,
        f"{sid!r} is not a known {kind[red_flag]}: see GET /api/symptom-terms for the ids.",
        "symptom_unknown",
    )


@router.get("/symptom-terms", response={200: list[SymptomTermOut], **ERRORS}, auth=read_auth)
def list_symptom_terms(request: HttpRequest) -> list[dict[str, Any]]:
    """The symptoms that may be reported, with their ids; ``red_flag`` marks those that need
    urgent attention (their guidance comes back when one is reported)."""
    return [
        {"id": s.id, "label": s.label, "red_flag": s.red_flag}
        for s in load_knowledge().symptoms.values()
    ]


@router.get(
    "/patients/{patient_uuid}/symptoms", response={200: SymptomPage, **ERRORS}, auth=read_auth
)
def list_symptoms(
    request: HttpRequest, patient_uuid: UUID, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    patient = access.patient_for(user_of(request), patient_uuid)
    return page_of(request, patient.symptoms.all(), cursor, limit, symptom_out)


@router.post(
    "/patients/{patient_uuid}/symptoms",
    response={200: SymptomReplyOut, 201: SymptomReplyOut, **ERRORS},
    auth=write_auth,
)
def report_symptom(
    request: HttpRequest,
    patient_uuid: UUID,
    payload: SymptomIn,
    key: IdempotencyKey = None,
) -> Status:
    """A patient reports a symptom (201). For a red flag the reply's ``urgent`` carries the
    guidance to show at once; the care team is alerted as from the web check-in."""
    user = user_of(request)
    patient = access.own_record(user, patient_uuid)  # 404, 403
    stored_key = idempotency_key(key)
    known = load_knowledge().symptoms.get(payload.symptom)
    ip = request.META.get("REMOTE_ADDR")
    operation = f"symptom:{patient.uuid}"

    def refused(digest: str) -> list[dict[str, str]]:
        # The key was used for another symptom: this one is not saved unless a red flag.
        if known is None or not known.red_flag:
            return []
        urgent = do_report_red_flags(
            patient=patient,
            user=user,
            key="api:" + refused_key(stored_key, digest),
            symptoms=[known.id],
            ip=ip,
            source=EntrySource.API,
        )
        return urgent_out(urgent)

    replay = stored_reply(
        user=user, operation=operation, key=stored_key, payload=payload, refused=refused
    )
    if replay is not None:
        return replay
    if known is None:
        raise Problem(
            422, "The symptom was not saved.", errors=[unknown_symptom("symptom", payload.symptom)]
        )
    if not known.red_flag and payload.severity is None:
        raise Problem(
            422,
            "The symptom was not saved.",
            errors=[FieldError("severity", "Give its severity: 1, 2 or 3.", "missing")],
        )

    def report() -> tuple[int, dict[str, Any]]:
        if known.red_flag:
            urgent = do_report_red_flags(
                patient=patient,
                user=user,
                key="api:" + stored_key,
                symptoms=[known.id],
                ip=ip,
                source=EntrySource.API,
            )
            saved = patient.symptoms.get(
                idempotency_key=red_flag_key("api:" + stored_key, known.id)
            )
            return 201, {
                "symptom": symptom_out(saved),
                "red_flag": True,
                "urgent": urgent_out(urgent),
            }
        entry, created = do_report_symptom(
            patient=patient,
            user=user,
            key="api:" + stored_key,
            symptom=known.id,
            severity=payload.severity or 1,
            ip=ip,
            source=EntrySource.API,
        )
        return (201 if created else 200), {
            "symptom": symptom_out(entry),
            "red_flag": False,
            "urgent": [],
        }

    return once(
        user=user,
        operation=operation,
        key=stored_key,
        payload=payload,
        out=SymptomReplyOut,
        change=report,
        refused=refused,
    )
