"""Product lots in FHIR R4B: one ``Medication`` per lot.

A lot is a ``Medication`` whose ``code`` is its product's (the product's name and form, as
in the product's ``MedicationStatement``), with ``identifier`` naming the product, ``batch.
lotNumber`` the lot number, and one ``ingredient`` per laboratory figure, each a strength in
mg per g of product material (UCUM). Dates and the laboratory's name are extensions. The
certificate file itself is not exported.

:func:`import_fhir_lots` adds back the lots of a bundle whose product is the patient's,
through the same action as the web pages, once per lot (a repeated import adds nothing).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from kratomwatch.clinic.actions.lots import LotLabReport, do_add_lot
from kratomwatch.clinic.models import PatientProfile, ProductLot, User
from kratomwatch.domain.lots import LotFigures
from kratomwatch.domain.products import FORM_LABELS, ProductForm

from . import codes as C

Resource = dict[str, Any]

SID_PRODUCT = f"{C.BASE}/sid/product"
CS_LOT_FIGURE = f"{C.BASE}/CodeSystem/lot-figure"
EXT_PURCHASED_ON = f"{C.BASE}/StructureDefinition/lot-purchased-on"
EXT_TESTED_ON = f"{C.BASE}/StructureDefinition/lot-tested-on"
EXT_LAB_NAME = f"{C.BASE}/StructureDefinition/lot-lab-name"
EXT_ENTERED_UNIT = f"{C.BASE}/StructureDefinition/lot-entered-unit"

_FIGURES = (
    ("mitragynine_mg_per_g", "mitragynine", "Mitragynine"),
    ("hydroxymitragynine_mg_per_g", "hydroxymitragynine", "7-hydroxymitragynine"),
    ("total_alkaloids_mg_per_g", "total_alkaloids", "Total alkaloids"),
)


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def lot_resource(lot: ProductLot) -> Resource:
    product = lot.product
    form = ProductForm(product.form)
    ingredients = [
        {
            "itemCodeableConcept": C.concept(label, C.coding(CS_LOT_FIGURE, code, label)),
            "strength": {
                "numerator": {
                    "value": _number(getattr(lot, field)),
                    "unit": "mg",
                    "system": C.UCUM,
                    "code": "mg",
                },
                "denominator": {"value": 1, "unit": "g", "system": C.UCUM, "code": "g"},
            },
        }
        for field, code, label in _FIGURES
        if getattr(lot, field) is not None
    ]
    extensions: list[Resource] = [{"url": EXT_ENTERED_UNIT, "valueCode": lot.entered_unit}]
    if lot.purchased_on:
        extensions.append({"url": EXT_PURCHASED_ON, "valueDate": lot.purchased_on.isoformat()})
    if lot.tested_on:
        extensions.append({"url": EXT_TESTED_ON, "valueDate": lot.tested_on.isoformat()})
    if lot.lab_name:
        extensions.append({"url": EXT_LAB_NAME, "valueString": lot.lab_name})
    resource: Resource = {
        "resourceType": "Medication",
        "id": str(lot.uuid),
        "extension": extensions,
        "identifier": [{"system": SID_PRODUCT, "value": str(product.uuid)}],
        "code": C.concept(
            product.name,
            C.coding(C.CS_KRATOM_PRODUCT, form.value, f"Kratom: {FORM_LABELS[form].lower()}"),
        ),
        "batch": {"lotNumber": lot.lot_number},
    }
    if ingredients:
        resource["ingredient"] = ingredients
    return resource


@dataclass(frozen=True)
class FhirLot:
    lot_uuid: str
    product_uuid: str
    lot_number: str
    purchased_on: date | None
    tested_on: date | None
    lab_name: str
    entered_unit: str
    figures: LotFigures


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _mg_per_g(strength: Mapping[str, Any]) -> Decimal | None:
    numerator, denominator = strength.get("numerator") or {}, strength.get("denominator") or {}
    if numerator.get("code") != "mg" or denominator.get("code") != "g":
        return None  # another unit is never guessed
    try:
        value = Decimal(str(numerator["value"])) / Decimal(str(denominator.get("value", 1)))
    except (KeyError, InvalidOperation, ArithmeticError):
        return None
    return value.normalize() if value.is_finite() else None


def lots_from_bundle(data: Mapping[str, Any]) -> list[FhirLot]:
    """The lots (``Medication`` resources naming a product) in a parsed bundle."""
    lots = []
    for entry in data.get("entry") or []:
        resource = (entry or {}).get("resource") or {}
        if resource.get("resourceType") != "Medication":
            continue
        product = next(
            (
                i.get("value")
                for i in resource.get("identifier") or []
                if i.get("system") == SID_PRODUCT
            ),
            None,
        )
        number = (resource.get("batch") or {}).get("lotNumber")
        if not product or not number:
            continue
        ext = {e.get("url"): e for e in resource.get("extension") or []}
        values: dict[str, Decimal | None] = {code: None for _, code, _ in _FIGURES}
        for ingredient in resource.get("ingredient") or []:
            codings = (ingredient.get("itemCodeableConcept") or {}).get("coding") or []
            code = next((c.get("code") for c in codings if c.get("system") == CS_LOT_FIGURE), None)
            if code in values:
                values[code] = _mg_per_g(ingredient.get("strength") or {})
        try:
            figures = LotFigures(
                values["mitragynine"], values["hydroxymitragynine"], values["total_alkaloids"]
            )
        except ValueError:
            continue
        unit = (ext.get(EXT_ENTERED_UNIT) or {}).get("valueCode")
        lots.append(
            FhirLot(
                lot_uuid=str(resource.get("id") or ""),
                product_uuid=str(product),
                lot_number=str(number)[:100],
                purchased_on=_date((ext.get(EXT_PURCHASED_ON) or {}).get("valueDate")),
                tested_on=_date((ext.get(EXT_TESTED_ON) or {}).get("valueDate")),
                lab_name=str((ext.get(EXT_LAB_NAME) or {}).get("valueString") or "")[:200],
                entered_unit=unit if unit in ("mg/g", "%") else "mg/g",
                figures=figures,
            )
        )
    return lots


def import_fhir_lots(
    patient: PatientProfile, data: Mapping[str, Any], *, actor: User | None, ip: str | None = None
) -> int:
    """Add the bundle's lots of the patient's own products that are not there yet (by the
    lot's id, or its product and number); how many were added. Lots of products the patient
    does not have are left out."""
    products = {str(p.uuid): p for p in patient.products.all()}
    added = 0
    for lot in lots_from_bundle(data):
        product = products.get(lot.product_uuid)
        if product is None:
            continue
        if product.lots.filter(lot_number=lot.lot_number).exists():
            continue
        try:
            key = f"fhir:{uuid.UUID(lot.lot_uuid)}"
        except ValueError:
            key = f"fhir:{product.uuid}:{lot.lot_number}"[:80]
        _, created = do_add_lot(
            patient=patient,
            user=actor,
            product=product,
            lot_number=lot.lot_number,
            purchased_on=lot.purchased_on,
            result=LotLabReport(lot.lab_name, lot.tested_on, lot.entered_unit, lot.figures),
            upload=None,
            key=key,
            ip=ip,
        )
        added += created
    return added
