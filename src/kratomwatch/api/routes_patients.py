"""Patients and their doses. Access is decided by kratomwatch.clinic.access."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Status

from kratomwatch.clinic import access
from kratomwatch.clinic.actions.doses import do_record_dose
from kratomwatch.clinic.lot_facts import dose_spec
from kratomwatch.clinic.models import DoseEntry, EntrySource, PatientProfile, Product, ProductLot
from kratomwatch.clinic.signals import deferred_screening
from kratomwatch.domain.doses import CheckedDose, DoseRejected, FieldError, check_dose

from .auth import read_auth, user_of, write_auth
from .idempotency import IdempotencyKey, idempotency_key, once, stored_reply
from .pagination import Cursor, Limit, page_of
from .problems import Problem
from .schemas import DoseIn, DoseOut, DosePage, PatientOut, PatientPage, ProblemOut

router = Router(tags=["patients"])
ERRORS: dict[int, Any] = {s: ProblemOut for s in (400, 401, 403, 404, 409, 422, 429)}


def dose_out(entry: DoseEntry) -> dict[str, Any]:
    def text(value: Decimal | None) -> str | None:
        return None if value is None else format(value.normalize(), "f")

    return {
        "uuid": entry.uuid,
        "product": entry.product.uuid,
        "lot": entry.lot.uuid if entry.lot_id else None,
        "taken_at": entry.taken_at,
        "amount": text(entry.amount),
        "unit": entry.unit,
        "leaf_equivalent_g": text(entry.leaf_equivalent_g),
        "mitragynine_mg": text(entry.mitragynine_mg),
        "hydroxymitragynine_mg": text(entry.hydroxymitragynine_mg),
        "confirmed_warnings": list(entry.confirmed_warnings or []),
        "source": entry.source,
        "created": entry.created,
    }


@router.get("/patients", response={200: PatientPage, **ERRORS}, auth=read_auth)
def list_patients(
    request: HttpRequest, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    """Clinicians: the patients on their care teams. Patients: themselves."""
    return page_of(request, access.visible_patients(user_of(request)), cursor, limit)


@router.get("/patients/{patient_uuid}", response={200: PatientOut, **ERRORS}, auth=read_auth)
def get_patient(request: HttpRequest, patient_uuid: UUID) -> PatientProfile:
    return access.patient_for(user_of(request), patient_uuid)


@router.get("/patients/{patient_uuid}/doses", response={200: DosePage, **ERRORS}, auth=read_auth)
def list_doses(
    request: HttpRequest, patient_uuid: UUID, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    """Doses in the order they were recorded (by ``created``)."""
    patient = access.patient_for(user_of(request), patient_uuid)
    doses = patient.doses.select_related("product", "lot")
    return page_of(request, doses, cursor, limit, dose_out)


@router.post(
    "/patients/{patient_uuid}/doses",
    response={200: DoseOut, 201: DoseOut, **ERRORS},
    auth=write_auth,
)
def record_dose(
    request: HttpRequest,
    patient_uuid: UUID,
    payload: DoseIn,
    key: IdempotencyKey = None,
) -> Status:
    """A patient records one of their own doses (201); a retry with the same key gets 200."""
    user = user_of(request)
    patient, product = access.product_for_dose(user, patient_uuid, payload.product)  # 404, 403
    stored_key = idempotency_key(key)  # 400 without a valid key
    operation = f"dose:{patient.uuid}"
    # A retry of a dose already recorded gets the reply stored for it, even if its product
    # or lot was archived since.
    replay = stored_reply(user=user, operation=operation, key=stored_key, payload=payload)
    if replay is not None:
        return replay
    if product is None:
        raise Problem(
            422,
            "The request has invalid fields.",
            errors=[FieldError("product", "No such product on this record.", "product_unknown")],
        )
    lot = None
    if payload.lot is not None:
        lot = product.lots.filter(uuid=payload.lot).first()
        if lot is None:
            raise Problem(
                422,
                "The request has invalid fields.",
                errors=[FieldError("lot", "No such lot of this product.", "lot_unknown")],
            )

    def record() -> tuple[int, dict[str, Any]]:
        checked = checked_dose(product, payload, lot=lot)  # 422: nothing is stored
        with deferred_screening():  # screened by the screening queue within seconds
            entry, created = do_record_dose(
                patient=patient,
                entered_by=user,
                product=product,
                lot=lot,
                checked=checked,
                idempotency_key="api:" + stored_key,
                source=EntrySource.API,
                ip=request.META.get("REMOTE_ADDR"),
            )
        return (201 if created else 200), dose_out(entry)

    return once(
        user=user, operation=operation, key=stored_key, payload=payload, out=DoseOut, change=record
    )


def checked_dose(
    product: Product,
    payload: DoseIn,
    now: datetime | None = None,
    lot: ProductLot | None = None,
) -> CheckedDose:
    """The dose sent, checked against its product (as its lot has it, when it names one, and
    as of ``now``, when it was entered); 422 if it is refused or has unusual values that were
    not confirmed."""
    try:
        checked = check_dose(
            amount=payload.amount,
            unit=payload.unit,
            taken_at=payload.taken_at,
            product=dose_spec(product, lot),
            now=now or timezone.now(),
            confirmed=payload.confirm,
        )
    except DoseRejected as exc:
        raise Problem(422, "The dose was not recorded.", errors=exc.errors) from exc
    pending = checked.needs_confirmation()
    if pending:
        raise Problem(
            422,
            "Confirm the unusual values by sending their codes in 'confirm'; nothing was saved.",
            slug="confirmation-required",
            errors=[FieldError(c.field, c.message, c.code) for c in pending],
        )
    return checked
