"""A patient's questionnaire responses and plans.

Read by the patient and their clinicians; questionnaire responses are recorded by the patient.
Access is decided by kratomwatch.clinic.access.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Status

from kratomwatch.clinic import access
from kratomwatch.clinic.actions.checkins import do_report_red_flags, do_submit_questionnaire
from kratomwatch.clinic.models import EntrySource, Plan, QuestionnaireResponse
from kratomwatch.domain.doses import FieldError
from kratomwatch.domain.questionnaires import (
    ScoringError,
    UnknownInstrumentError,
    get_instrument,
    urgent_symptoms,
)

from .auth import read_auth, user_of, write_auth
from .idempotency import IdempotencyKey, idempotency_key, once, refused_key
from .pagination import Cursor, Limit, page_of
from .problems import Problem
from .routes_patients import ERRORS
from .schemas import PlanPage, ResponseIn, ResponseOut, ResponsePage

router = Router(tags=["records"])


def _text(value: Decimal | str | None) -> str | None:
    return None if value is None else format(Decimal(str(value)).normalize(), "f")


def response_out(r: QuestionnaireResponse) -> dict[str, Any]:
    return {
        "uuid": r.uuid,
        "instrument_id": r.instrument_id,
        "instrument_version": r.instrument_version,
        "answers": list(r.answers),
        "total": _text(r.total),
        "band": (r.scores or {}).get("band"),
        "flags": list((r.scores or {}).get("flags") or []),
        "taken_at": r.taken_at,
        "created": r.created,
    }


def plan_out(p: Plan) -> dict[str, Any]:
    return {
        "uuid": p.uuid,
        "version": p.version,
        "kind": p.kind,
        "active": p.active,
        "starting_dose_g": _text(p.starting_dose_g),
        "max_single_dose_g": _text(p.max_single_dose_g),
        "max_daily_dose_g": _text(p.max_daily_dose_g),
        "max_doses_per_day": p.max_doses_per_day,
        "min_hours_between": _text(p.min_hours_between),
        "max_weekly_increase_pct": _text(p.max_weekly_increase_pct),
        "review_on": p.review_on.isoformat() if p.review_on else None,
        "stop_rules": p.stop_rules,
        "steps": list((p.details or {}).get("steps", [])),
        "reason": p.reason,
        "approved_at": p.approved_at,
        "created": p.created,
    }


@router.get(
    "/patients/{patient_uuid}/responses", response={200: ResponsePage, **ERRORS}, auth=read_auth
)
def list_responses(
    request: HttpRequest, patient_uuid: UUID, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    patient = access.patient_for(user_of(request), patient_uuid)
    return page_of(request, patient.responses.all(), cursor, limit, response_out)


@router.post(
    "/patients/{patient_uuid}/responses",
    response={200: ResponseOut, 201: ResponseOut, **ERRORS},
    auth=write_auth,
)
def record_response(
    request: HttpRequest,
    patient_uuid: UUID,
    payload: ResponseIn,
    key: IdempotencyKey = None,
) -> Status:
    """A patient records their answers to a questionnaire (scored by the clinical core)."""
    user = user_of(request)
    patient = access.own_record(user, patient_uuid)  # 404, 403
    stored_key = idempotency_key(key)
    try:
        instrument = get_instrument(payload.instrument_id)
    except UnknownInstrumentError as exc:
        raise Problem(
            422,
            "The request has invalid fields.",
            errors=[FieldError("instrument_id", str(exc).strip("'\""), "instrument_unknown")],
        ) from exc
    if len(payload.answers) != len(instrument.items):
        raise Problem(
            422,
            "The answers were not recorded.",
            errors=[
                FieldError(
                    "answers",
                    f"{instrument.id} has {len(instrument.items)} items; "
                    f"{len(payload.answers)} answers were sent.",
                    "wrong_count",
                )
            ],
        )
    answers = {
        item.id: value for item, value in zip(instrument.items, payload.answers, strict=True)
    }
    ip = request.META.get("REMOTE_ADDR")

    def refused(digest: str) -> list[dict[str, str]]:
        # The key was used for other answers: these are not recorded, a crisis answer is.
        crisis = urgent_symptoms(instrument, answers)
        if not crisis:
            return []
        urgent = do_report_red_flags(
            patient=patient,
            user=user,
            key="api:" + refused_key(stored_key, digest),
            symptoms=crisis,
            ip=ip,
            source=EntrySource.API,
        )
        return [{"title": f.title, "message": f.patient_message or ""} for f in urgent]

    def record() -> tuple[int, Any]:
        response, created = do_submit_questionnaire(
            patient=patient,
            user=user,
            instrument=instrument,
            answers=answers,
            key="api:" + stored_key,
            ip=ip,
            source=EntrySource.API,
        )
        return (201 if created else 200), response_out(response)

    try:
        return once(
            user=user,
            operation=f"response:{patient.uuid}",
            key=stored_key,
            payload=payload,
            out=ResponseOut,
            change=record,
            refused=refused,
        )
    except ScoringError as exc:
        errors = [
            FieldError(f"answers.{item}", message, "invalid_answer") for item, message in exc.errors
        ]
        # A crisis answer gets through whatever else is missing, as in the web form: it is
        # saved in a transaction of its own, outside the one the refused answers rolled back.
        crisis = urgent_symptoms(instrument, answers)
        if crisis:
            urgent = do_report_red_flags(
                patient=patient,
                user=user,
                key="api:" + stored_key,
                symptoms=crisis,
                ip=ip,
                source=EntrySource.API,
            )
            raise Problem(
                422,
                "The answers were not recorded, except the crisis answer, which was saved "
                "and sent to the care team: show the guidance in `urgent` now.",
                errors=errors,
                urgent=[{"title": f.title, "message": f.patient_message or ""} for f in urgent],
            ) from exc
        raise Problem(422, "The answers were not recorded.", errors=errors) from exc


@router.get("/patients/{patient_uuid}/plans", response={200: PlanPage, **ERRORS}, auth=read_auth)
def list_plans(
    request: HttpRequest, patient_uuid: UUID, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    """Every version of the patient's plan; ``active`` marks the one in effect."""
    patient = access.patient_for(user_of(request), patient_uuid)
    return page_of(request, patient.plans.all(), cursor, limit, plan_out)
