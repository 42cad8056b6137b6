"""A lot's figures as the domain sees them, and the lots of a patient's products for a page."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from kratomwatch.clinic import access
from kratomwatch.clinic.models import PatientProfile, Product, ProductLot, User
from kratomwatch.clinic.screening_input import product_spec
from kratomwatch.domain.lots import LotFigures, default_jurisdictions, lot_concerns, spec_for_lot
from kratomwatch.domain.products import ProductSpec


def figures_of(lot: ProductLot) -> LotFigures:
    return LotFigures(
        lot.mitragynine_mg_per_g, lot.hydroxymitragynine_mg_per_g, lot.total_alkaloids_mg_per_g
    )


def dose_spec(product: Product, lot: ProductLot | None) -> ProductSpec:
    """What a dose of ``product`` is worked out with: the lot's lab figures when the dose
    names a lot that has them, else the product's own."""
    spec = product_spec(product)
    return spec if lot is None else spec_for_lot(spec, figures_of(lot))


def lot_choices(patient: PatientProfile) -> QuerySet[ProductLot]:
    """The lots a patient may name on a dose: those of their live products."""
    return ProductLot.objects.filter(
        product__patient=patient, product__archived=False
    ).select_related("product")


def attach_lots(user: User, patient: PatientProfile, products: Iterable[Product]) -> None:
    """Give each product ``lot_list``: its lots, newest first, each with ``concerns`` (what
    its figures show under the clinic's jurisdiction). One query for all the lots."""
    jurisdiction = default_jurisdictions().get(patient.clinic.jurisdiction)
    by_product: dict[int, list[Any]] = {}
    for lot in access.lots_of(user, patient):
        lot.concerns = lot_concerns(figures_of(lot), jurisdiction)  # type: ignore[attr-defined]
        by_product.setdefault(lot.product_id, []).append(lot)
    for product in products:
        product.lot_list = by_product.get(product.pk, [])  # type: ignore[attr-defined]
