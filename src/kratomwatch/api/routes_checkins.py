"""A patient's daily check-ins: listed and read by the patient and their clinicians, sent whole
by the patient through the same action as the web check-in (ratings, doses, side effects, red
flags and a note, saved together or not at all).

As on the web, a red flag gets through whatever else is wrong: it is saved on its own and its
urgent guidance comes back in the refusal (``urgent``); the corrected check-in, sent with the
same Idempotency-Key, adds it once. Access is decided by kratomwatch.clinic.access.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from django import forms
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Router, Status

from kratomwatch.clinic import access
from kratomwatch.clinic.actions.checkins import (
    DAILY,
    WITHDRAWAL,
    do_report_red_flags,
    do_submit_checkin,
    withdrawal_in_checkin,
)
from kratomwatch.clinic.forms.checkins import entry_time
from kratomwatch.clinic.models import (
    CheckIn,
    EntrySource,
    PatientProfile,
    Product,
    ProductLot,
    User,
)
from kratomwatch.domain.doses import CheckedDose, FieldError
from kratomwatch.domain.questionnaires import Instrument, ScoringError, get_instrument, score
from kratomwatch.domain.safety import load_knowledge
from kratomwatch.domain.safety.urgent import urgent_findings

from .auth import read_auth, user_of, write_auth
from .idempotency import IdempotencyKey, idempotency_key, once, refused_key, stored_reply
from .pagination import Cursor, Limit, page_of
from .problems import Problem
from .routes_patients import ERRORS, checked_dose, dose_out
from .routes_records import response_out
from .routes_symptoms import symptom_out, unknown_symptom, urgent_out
from .schemas import CheckInDetailOut, CheckInIn, CheckInPage

router = Router(tags=["check-ins"])
Answers = dict[str, int | None]


def checkin_out(c: CheckIn) -> dict[str, Any]:
    return {
        "uuid": c.uuid,
        "day": c.day.isoformat(),
        "submitted_at": c.submitted_at,
        "note": c.note,
        "created": c.created,
    }


def checkin_detail(c: CheckIn) -> dict[str, Any]:
    """A check-in with what was sent in it, and the urgent guidance of its red flags."""
    symptoms = list(c.symptoms.all())
    return {
        **checkin_out(c),
        "received_at": c.received_at,
        "responses": [response_out(r) for r in c.responses.all()],
        "doses": [dose_out(d) for d in c.doses.select_related("product")],
        "symptoms": [symptom_out(s) for s in symptoms],
        "urgent": urgent_out(urgent_findings([s.term for s in symptoms], c.submitted_at)),
    }


@router.get(
    "/patients/{patient_uuid}/checkins", response={200: CheckInPage, **ERRORS}, auth=read_auth
)
def list_checkins(
    request: HttpRequest, patient_uuid: UUID, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    patient = access.patient_for(user_of(request), patient_uuid)
    return page_of(request, patient.checkins.all(), cursor, limit, checkin_out)


@router.get(
    "/patients/{patient_uuid}/checkins/{checkin_uuid}",
    response={200: CheckInDetailOut, **ERRORS},
    auth=read_auth,
)
def get_checkin(request: HttpRequest, patient_uuid: UUID, checkin_uuid: UUID) -> dict[str, Any]:
    """One check-in with its answers, doses and symptoms."""
    patient = access.patient_for(user_of(request), patient_uuid)
    try:
        return checkin_detail(patient.checkins.get(uuid=checkin_uuid))
    except CheckIn.DoesNotExist as exc:
        raise Http404("No such check-in") from exc


class _Sent:
    """A check-in as sent, checked: what can be saved, and every problem found."""

    def __init__(self, user: User, patient: PatientProfile, payload: CheckInIn) -> None:
        self.errors: list[FieldError] = []
        now = timezone.now()
        try:
            self.entered_at = entry_time(payload.entered_at or "", now)
        except forms.ValidationError as exc:
            self.entered_at = None
            self.errors.append(FieldError("entered_at", " ".join(exc.messages), "invalid"))
        self.day = timezone.localdate(self.entered_at or now)
        self.red_flags = self._symptoms("red_flags", payload.red_flags, red_flag=True)
        self.side_effects = self._severities(payload.side_effects)
        self.daily = self._answers("ratings", get_instrument(DAILY), payload.ratings)
        self.extra: list[tuple[Instrument, Mapping[str, int | None]]] = []
        if withdrawal_in_checkin(patient):
            instrument = get_instrument(WITHDRAWAL)
            self.extra.append(self._answers("withdrawal", instrument, payload.withdrawal or {}))
        elif payload.withdrawal is not None:
            self.errors.append(
                FieldError(
                    "withdrawal",
                    "The withdrawal checklist is not part of this patient's check-in.",
                    "not_asked",
                )
            )
        self.doses: list[tuple[Product, CheckedDose, ProductLot | None]] = []
        for n, dose in enumerate(payload.doses):
            _, product = access.product_for_dose(user, patient.uuid, dose.product)
            if product is None:
                self.errors.append(
                    FieldError(
                        f"doses.{n}.product", "No such product on this record.", "product_unknown"
                    )
                )
                continue
            lot = None
            if dose.lot is not None:
                lot = product.lots.filter(uuid=dose.lot).first()
                if lot is None:
                    self.errors.append(
                        FieldError(f"doses.{n}.lot", "No such lot of this product.", "lot_unknown")
                    )
                    continue
            try:
                checked = checked_dose(product, dose, self.entered_at, lot=lot)
                self.doses.append((product, checked, lot))
            except Problem as exc:
                self.errors += [
                    FieldError(f"doses.{n}.{e.field}", e.message, e.code) for e in exc.errors
                ]

    def _symptoms(self, field: str, ids: list[str], *, red_flag: bool) -> list[str]:
        symptoms = load_knowledge().symptoms
        kept = []
        for n, sid in enumerate(ids):
            known = symptoms.get(sid)
            if known is None or known.red_flag is not red_flag:
                self.errors.append(unknown_symptom(f"{field}.{n}", sid, red_flag=red_flag))
            elif sid not in kept:
                kept.append(sid)
        return kept

    def _severities(self, sent: dict[str, int]) -> dict[str, int]:
        kept = {}
        for sid in self._symptoms("side_effects", list(sent), red_flag=False):
            if sent[sid] in (1, 2, 3):
                kept[sid] = sent[sid]
            else:
                self.errors.append(
                    FieldError(
                        f"side_effects.{sid}",
                        "The severity is 1 (mild), 2 (moderate) or 3 (severe).",
                        "severity_invalid",
                    )
                )
        return kept

    def _answers(
        self, field: str, instrument: Instrument, sent: dict[str, int | None]
    ) -> tuple[Instrument, Answers]:
        items = {item.id for item in instrument.items}
        for item_id in sent:
            if item_id not in items:
                self.errors.append(
                    FieldError(f"{field}.{item_id}", "Not a question of this form.", "item_unknown")
                )
        answers = {item.id: sent.get(item.id) for item in instrument.items}
        try:
            score(instrument, answers)
        except ScoringError as exc:
            self.errors += [
                FieldError(f"{field}.{item}", message, "invalid_answer")
                for item, message in exc.errors
            ]
        return instrument, answers


@router.post(
    "/patients/{patient_uuid}/checkins",
    response={200: CheckInDetailOut, 201: CheckInDetailOut, **ERRORS},
    auth=write_auth,
)
def submit_checkin(
    request: HttpRequest,
    patient_uuid: UUID,
    payload: CheckInIn,
    key: IdempotencyKey = None,
) -> Status:
    """A patient sends a whole check-in (201); a retry with the same key gets 200. Red flags
    in it come back with their urgent guidance (``urgent``) and alert the care team."""
    user = user_of(request)
    patient = access.own_record(user, patient_uuid)  # 404, 403
    stored_key = idempotency_key(key)
    ip = request.META.get("REMOTE_ADDR")
    operation = f"checkin:{patient.uuid}"

    def refused(digest: str) -> list[dict[str, str]]:
        # The key was used for another check-in: this one is not saved, its red flags are.
        flags = _Sent(user, patient, payload)
        if not flags.red_flags:
            return []
        urgent = do_report_red_flags(
            patient=patient,
            user=user,
            key="api:" + refused_key(stored_key, digest),
            symptoms=flags.red_flags,
            ip=ip,
            reported_at=flags.entered_at,
            source=EntrySource.API,
        )
        return urgent_out(urgent)

    # A retry of a check-in already saved gets the reply stored for it, even if what it
    # names has changed since (a product archived): checked first, it would be refused.
    replay = stored_reply(
        user=user, operation=operation, key=stored_key, payload=payload, refused=refused
    )
    if replay is not None:
        return replay
    sent = _Sent(user, patient, payload)

    def refuse(errors: list[FieldError]) -> Problem:
        if not sent.red_flags:
            return Problem(422, "The check-in was not saved.", errors=errors)
        # A red flag gets through whatever else is wrong, as on the web: saved on its own
        # now (the corrected check-in, with the same key, adds it once).
        urgent = do_report_red_flags(
            patient=patient,
            user=user,
            key="api:" + stored_key,
            symptoms=sent.red_flags,
            ip=ip,
            reported_at=sent.entered_at,
            source=EntrySource.API,
        )
        return Problem(
            422,
            "The check-in was not saved, except its red flags, which were saved and sent to "
            "the care team: show the guidance in `urgent` now.",
            errors=errors,
            urgent=urgent_out(urgent),
        )

    if sent.errors:
        raise refuse(sent.errors)

    def save() -> tuple[int, dict[str, Any]]:
        entry, created = do_submit_checkin(
            patient=patient,
            user=user,
            key="api:" + stored_key,
            day=sent.day,
            entered_at=sent.entered_at,
            daily=sent.daily,
            extra=sent.extra,
            doses=sent.doses,
            side_effects=sent.side_effects,
            red_flags=sent.red_flags,
            note=payload.note,
            ip=ip,
            source=EntrySource.API,
        )
        return (201 if created else 200), checkin_detail(entry)

    try:
        return once(
            user=user,
            operation=operation,
            key=stored_key,
            payload=payload,
            out=CheckInDetailOut,
            change=save,
            refused=refused,
        )
    except ScoringError as exc:
        errors = [
            FieldError(f"ratings.{item}", message, "invalid_answer") for item, message in exc.errors
        ]
        raise refuse(errors) from exc
