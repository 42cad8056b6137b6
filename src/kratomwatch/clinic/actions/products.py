"""A patient's products."""

from __future__ import annotations

from django.db import transaction

from kratomwatch.clinic import audit_chain
from kratomwatch.clinic.actions.idempotent import create_once
from kratomwatch.clinic.models import (
    PatientProfile,
    Product,
    User,
)


def do_add_product(
    *, patient: PatientProfile, user: User, product: Product, key: str, ip: str | None = None
) -> tuple[Product, bool]:
    product.patient = patient
    product.idempotency_key = key

    def store() -> Product:
        product.save()
        audit_chain.append(
            user,
            "product.create",
            patient=patient,
            object_type="product",
            object_uuid=product.uuid,
            ip=ip,
        )
        return product

    return create_once(Product.objects.filter(patient=patient), key, store)


def do_archive_product(
    *, patient: PatientProfile, user: User, product: Product, ip: str | None = None
) -> bool:
    """Archive one of the patient's products: kept with its doses, no longer offered for new
    ones. False if it was archived already (nothing changes)."""
    if product.archived:
        return False
    with transaction.atomic():
        product.archived = True
        product.save(update_fields=["archived", "modified"])
        audit_chain.append(
            user,
            "product.archive",
            patient=patient,
            object_type="product",
            object_uuid=product.uuid,
            ip=ip,
        )
    return True
