"""A product's lots: list them, and (the patient) add one with its lab's figures.

Certificates themselves are uploaded on the web pages, not through the API; a lot says
whether it has one. Access is decided by kratomwatch.clinic.access.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Status

from kratomwatch.clinic import access
from kratomwatch.clinic.actions.lots import LotLabReport, do_add_lot
from kratomwatch.clinic.models import ProductLot
from kratomwatch.domain.doses import FieldError
from kratomwatch.domain.lots import LotFigures, lot_figures

from .auth import read_auth, user_of, write_auth
from .idempotency import IdempotencyKey, idempotency_key, once
from .pagination import Cursor, Limit, page_of
from .problems import Problem
from .schemas import LotIn, LotOut, LotPage, ProblemOut

router = Router(tags=["lots"])
ERRORS: dict[int, Any] = {s: ProblemOut for s in (400, 401, 403, 404, 409, 422, 429)}
_NO_PRODUCT = FieldError("product", "No such product on this record.", "product_unknown")


def lot_out(lot: ProductLot) -> dict[str, Any]:
    def text(value: Decimal | None) -> str | None:
        return None if value is None else format(value.normalize(), "f")

    return {
        "uuid": lot.uuid,
        "product": lot.product.uuid,
        "lot_number": lot.lot_number,
        "purchased_on": lot.purchased_on,
        "lab_name": lot.lab_name,
        "tested_on": lot.tested_on,
        "mitragynine_mg_per_g": text(lot.mitragynine_mg_per_g),
        "hydroxymitragynine_mg_per_g": text(lot.hydroxymitragynine_mg_per_g),
        "total_alkaloids_mg_per_g": text(lot.total_alkaloids_mg_per_g),
        "entered_unit": lot.entered_unit,
        "has_certificate": lot.certificate_id is not None,
        "created": lot.created,
    }


@router.get(
    "/patients/{patient_uuid}/products/{product_uuid}/lots",
    response={200: LotPage, **ERRORS},
    auth=read_auth,
)
def list_lots(
    request: HttpRequest,
    patient_uuid: UUID,
    product_uuid: UUID,
    cursor: str | None = Cursor,
    limit: int = Limit,
) -> dict[str, Any]:
    """The lots of a product, oldest first: for the patient and their care team."""
    _, product = access.product_of(user_of(request), patient_uuid, product_uuid)  # 404
    if product is None:
        raise Problem(404, "No such product on this record.")
    lots = ProductLot.objects.filter(product=product).select_related("product")
    return page_of(request, lots, cursor, limit, lot_out)


def _figures(payload: LotIn) -> LotFigures:
    if payload.unit not in ("mg/g", "%"):
        raise Problem(
            422,
            "The request has invalid fields.",
            errors=[FieldError("unit", "The unit must be 'mg/g' or '%' (w/w).", "unit_unknown")],
        )
    errors = []
    values: dict[str, Decimal | None] = {}
    for name in ("mitragynine", "hydroxymitragynine", "total_alkaloids"):
        try:
            parsed = lot_figures(getattr(payload, name), unit=payload.unit)
            values[name] = parsed.mitragynine_mg_per_g  # the one figure parsed
        except ValueError as exc:
            errors.append(FieldError(name, str(exc), "figure_invalid"))
    if errors:
        raise Problem(422, "The request has invalid fields.", errors=errors)
    try:
        return LotFigures(
            values["mitragynine"], values["hydroxymitragynine"], values["total_alkaloids"]
        )
    except ValueError as exc:
        raise Problem(
            422,
            "The request has invalid fields.",
            errors=[FieldError("total_alkaloids", str(exc), "figures_inconsistent")],
        ) from exc


@router.post(
    "/patients/{patient_uuid}/products/{product_uuid}/lots",
    response={200: LotOut, 201: LotOut, **ERRORS},
    auth=write_auth,
)
def add_lot(
    request: HttpRequest,
    patient_uuid: UUID,
    product_uuid: UUID,
    payload: LotIn,
    key: IdempotencyKey = None,
) -> Status:
    """A patient adds a lot of one of their products (201); a retry with the same key gets 200."""
    user = user_of(request)
    patient, product = access.product_for_lot(user, patient_uuid, product_uuid)  # 404, 403
    stored_key = idempotency_key(key)
    if product is None:
        raise Problem(422, "The request has invalid fields.", errors=[_NO_PRODUCT])

    def add() -> tuple[int, dict[str, Any]]:
        figures = _figures(payload)
        lot, created = do_add_lot(
            patient=patient,
            user=user,
            product=product,
            lot_number=payload.lot_number,
            purchased_on=payload.purchased_on,
            result=LotLabReport(payload.lab_name, payload.tested_on, payload.unit, figures),
            upload=None,
            key="api:" + stored_key,
            ip=request.META.get("REMOTE_ADDR"),
        )
        return (201 if created else 200), lot_out(lot)

    operation = f"lot:{product.uuid}"
    return once(
        user=user, operation=operation, key=stored_key, payload=payload, out=LotOut, change=add
    )
