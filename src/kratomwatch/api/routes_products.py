"""A patient's products: listed by the patient and their clinicians, added and archived by the
patient, checked by the same form as the web page's. Access is decided by
kratomwatch.clinic.access."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.utils import translation
from ninja import Router, Schema, Status

from kratomwatch.clinic import access
from kratomwatch.clinic.actions.products import do_add_product, do_archive_product
from kratomwatch.clinic.forms.patient import ProductCreateForm
from kratomwatch.clinic.models import Product
from kratomwatch.domain.doses import FieldError

from .auth import read_auth, user_of, write_auth
from .idempotency import IdempotencyKey, idempotency_key, once
from .pagination import Cursor, Limit, page_of
from .problems import Problem
from .routes_patients import ERRORS
from .schemas import ProductIn, ProductOut, ProductPage

router = Router(tags=["products"])


class _NoBody(Schema):
    """The empty body of an operation that takes none (for its idempotency digest)."""


#: Fields of the web form under another name in the API (the API's carry their unit).
FORM_NAMES = {
    "mitragynine": "mitragynine_mg_per_g",
    "hydroxymitragynine": "hydroxymitragynine_mg_per_g",
}


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def product_out(p: Product) -> dict[str, Any]:
    return {
        "uuid": p.uuid,
        "name": p.name,
        "vendor": p.vendor,
        "form": p.form,
        "strain_label": p.strain_label,
        "batch": p.batch,
        "potency_source": p.potency_source,
        "mitragynine_mg_per_g": _text(p.mitragynine_mg_per_g),
        "hydroxymitragynine_mg_per_g": _text(p.hydroxymitragynine_mg_per_g),
        "unit_material_mg": _text(p.unit_material_mg),
        "mitragynine_mg_per_unit": _text(p.mitragynine_mg_per_unit),
        "hydroxymitragynine_mg_per_unit": _text(p.hydroxymitragynine_mg_per_unit),
        "leaf_g_per_ml": _text(p.leaf_g_per_ml),
        "archived": p.archived,
        "created": p.created,
    }


@router.get(
    "/patients/{patient_uuid}/products", response={200: ProductPage, **ERRORS}, auth=read_auth
)
def list_products(
    request: HttpRequest, patient_uuid: UUID, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    """Every product of the patient's, archived ones included (``archived``)."""
    patient = access.patient_for(user_of(request), patient_uuid)
    return page_of(request, patient.products.all(), cursor, limit, product_out)


def _checked(payload: ProductIn) -> Product:
    """The product sent, checked by the web page's form; 422 with every problem otherwise."""
    data: dict[str, str] = {"idempotency_key": "api"}
    form_name = {api: form for form, api in FORM_NAMES.items()}
    for field, value in payload.model_dump().items():
        text = format(value, "f") if isinstance(value, Decimal) else (value or "")
        data[form_name.get(field, field)] = text
    for name in FORM_NAMES:
        data[f"{name}_unit"] = "mg/g"
    with translation.override("en"):  # the API answers in English
        form = ProductCreateForm(data)
        if not form.is_valid():
            errors = [
                FieldError(
                    "body" if field == "__all__" else FORM_NAMES.get(field, field),
                    str(message),
                    "invalid",
                )
                for field, messages in form.errors.items()
                for message in messages
            ]
            raise Problem(422, "The product was not added.", errors=errors)
    return form.instance


@router.post(
    "/patients/{patient_uuid}/products",
    response={200: ProductOut, 201: ProductOut, **ERRORS},
    auth=write_auth,
)
def add_product(
    request: HttpRequest, patient_uuid: UUID, payload: ProductIn, key: IdempotencyKey = None
) -> Status:
    """A patient adds one of their products (201); a retry with the same key gets 200."""
    user = user_of(request)
    patient = access.own_record(user, patient_uuid)  # 404, 403
    stored_key = idempotency_key(key)
    product = _checked(payload)

    def add() -> tuple[int, dict[str, Any]]:
        saved, created = do_add_product(
            patient=patient,
            user=user,
            product=product,
            key="api:" + stored_key,
            ip=request.META.get("REMOTE_ADDR"),
        )
        return (201 if created else 200), product_out(saved)

    return once(
        user=user,
        operation=f"product:{patient.uuid}",
        key=stored_key,
        payload=payload,
        out=ProductOut,
        change=add,
    )


@router.post(
    "/patients/{patient_uuid}/products/{product_uuid}/archive",
    response={200: ProductOut, **ERRORS},
    auth=write_auth,
)
def archive_product(
    request: HttpRequest, patient_uuid: UUID, product_uuid: UUID, key: IdempotencyKey = None
) -> Status:
    """The patient archives a product: kept with its doses, no longer taken for new ones.
    Archiving an archived product changes nothing."""
    user = user_of(request)
    patient, product = access.own_product(user, patient_uuid, product_uuid)  # 404, 403
    stored_key = idempotency_key(key)

    def archive() -> tuple[int, dict[str, Any]]:
        do_archive_product(
            patient=patient, user=user, product=product, ip=request.META.get("REMOTE_ADDR")
        )
        return 200, product_out(product)

    return once(
        user=user,
        operation=f"archive:{product.uuid}",
        key=stored_key,
        payload=_NoBody(),
        out=ProductOut,
        change=archive,
    )
