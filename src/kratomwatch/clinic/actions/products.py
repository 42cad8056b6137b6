"""A patient's products."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from kratomwatch.clinic import audit_chain
from kratomwatch.clinic.models import (
    PatientProfile,
    Product,
    User,
)


def do_add_product(
    *, patient: PatientProfile, user: User, product: Product, key: str, ip: str | None = None
) -> tuple[Product, bool]:
    existing = Product.objects.filter(patient=patient, idempotency_key=key).first()
    if existing is not None:
        return existing, False
    product.patient = patient
    product.idempotency_key = key
    try:
        with transaction.atomic():
            product.save()
            audit_chain.append(
                user,
                "product.create",
                patient=patient,
                object_type="product",
                object_uuid=product.uuid,
                ip=ip,
            )
    except IntegrityError:
        return Product.objects.get(patient=patient, idempotency_key=key), False
    return product, True
