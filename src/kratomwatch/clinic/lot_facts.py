"""A lot's figures as the domain sees them, and the lots of a patient's products for a page."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kratomwatch.clinic import access
from kratomwatch.clinic.models import PatientProfile, Product, ProductLot, User
from kratomwatch.domain.lots import LotFigures, default_jurisdictions, lot_concerns


def figures_of(lot: ProductLot) -> LotFigures:
    return LotFigures(
        lot.mitragynine_mg_per_g, lot.hydroxymitragynine_mg_per_g, lot.total_alkaloids_mg_per_g
    )


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
