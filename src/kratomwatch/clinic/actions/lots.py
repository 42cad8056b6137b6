"""A product's lots: adding one, and a lab's figures and certificate for it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction

from kratomwatch.clinic import audit_chain
from kratomwatch.clinic.actions.idempotent import create_once
from kratomwatch.clinic.lot_facts import dose_spec
from kratomwatch.clinic.models import Certificate, PatientProfile, Product, ProductLot, User
from kratomwatch.clinic.uploads import CheckedUpload
from kratomwatch.domain.doses import DoseRejected, Quantity, Unit, normalize
from kratomwatch.domain.lots import LotFigures


@dataclass(frozen=True)
class LotLabReport:
    """What a certificate says of a lot; figures in mg/g, ``unit`` the one they were read in."""

    lab_name: str
    tested_on: date | None
    unit: str
    figures: LotFigures


def _certificate(upload: CheckedUpload, user: User) -> Certificate:
    return Certificate.objects.create(
        content=upload.content,
        content_type=upload.content_type,
        size=upload.size,
        sha256=upload.sha256,
        filename=upload.filename,
        uploaded_by=user,
    )


def _apply(lot: ProductLot, result: LotLabReport) -> None:
    lot.lab_name = result.lab_name
    lot.tested_on = result.tested_on
    lot.entered_unit = result.unit
    lot.mitragynine_mg_per_g = result.figures.mitragynine_mg_per_g
    lot.hydroxymitragynine_mg_per_g = result.figures.hydroxymitragynine_mg_per_g
    lot.total_alkaloids_mg_per_g = result.figures.total_alkaloids_mg_per_g


def do_add_lot(
    *,
    patient: PatientProfile,
    user: User | None,
    product: Product,
    lot_number: str,
    purchased_on: date | None,
    result: LotLabReport,
    upload: CheckedUpload | None,
    key: str,
    ip: str | None = None,
) -> tuple[ProductLot, bool]:
    """Add a lot to one of the patient's products, with its certificate if one was sent.
    One transaction: the certificate, the lot and their audit events."""
    if product.patient_id != patient.pk:
        raise ValueError("product belongs to another patient")

    def store() -> ProductLot:
        lot = ProductLot(
            product=product,
            lot_number=lot_number,
            purchased_on=purchased_on,
            added_by=user,
            idempotency_key=key,
        )
        _apply(lot, result)
        if upload is not None and user is not None:  # uploads come from a signed-in person
            lot.certificate = _certificate(upload, user)
        lot.save()
        audit_chain.append(
            user, "lot.create", patient=patient, object_type="lot", object_uuid=lot.uuid, ip=ip
        )
        if lot.certificate is not None:
            audit_chain.append(
                user,
                "certificate.upload",
                patient=patient,
                object_type="certificate",
                object_uuid=lot.certificate.uuid,
                ip=ip,
            )
        return lot

    return create_once(ProductLot.objects.filter(product=product), key, store)


def _restate_doses(lot: ProductLot) -> None:
    """Work out again the doses that name ``lot`` with its figures as they now are: a dose
    logged before the certificate's figures were entered is then counted with them."""
    spec = dose_spec(lot.product, lot)
    for dose in lot.doses.all():
        try:
            exposure = normalize(Quantity(dose.amount, Unit(dose.unit)), spec)
        except (ValueError, DoseRejected):
            continue  # kept as it was worked out when it was logged
        dose.leaf_equivalent_g = exposure.leaf_equivalent_g
        dose.mitragynine_mg = exposure.mitragynine_mg
        dose.hydroxymitragynine_mg = exposure.hydroxymitragynine_mg
        dose.save(
            update_fields=[
                "leaf_equivalent_g",
                "mitragynine_mg",
                "hydroxymitragynine_mg",
                "modified",
            ]
        )


def do_set_lab_result(
    *,
    user: User,
    lot: ProductLot,
    result: LotLabReport,
    upload: CheckedUpload | None,
    ip: str | None = None,
) -> ProductLot:
    """Record a lab's figures for a lot (e.g. a clinician reading its certificate), and a
    new certificate if one was sent (it replaces the lot's earlier one)."""
    patient = lot.product.patient
    with transaction.atomic():
        _apply(lot, result)
        old = lot.certificate
        if upload is not None:
            lot.certificate = _certificate(upload, user)
        lot.save()
        _restate_doses(lot)
        audit_chain.append(
            user, "lot.update", patient=patient, object_type="lot", object_uuid=lot.uuid, ip=ip
        )
        if upload is not None and lot.certificate is not None:
            if old is not None:
                old.delete()
            audit_chain.append(
                user,
                "certificate.upload",
                patient=patient,
                object_type="certificate",
                object_uuid=lot.certificate.uuid,
                ip=ip,
            )
    return lot
