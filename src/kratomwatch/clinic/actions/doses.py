"""Recording a dose: the one function every entry point uses."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from kratomwatch.clinic.actions.audit import audit
from kratomwatch.clinic.models import (
    DoseEntry,
    EntrySource,
    PatientProfile,
    Product,
    User,
)
from kratomwatch.domain.doses import CheckedDose


def do_record_dose(
    *,
    patient: PatientProfile,
    entered_by: User | None,
    product: Product,
    checked: CheckedDose,
    idempotency_key: str,
    preparation: str = "",
    route: str = "oral",
    source: str = EntrySource.WEB,
    ip: str | None = None,
) -> tuple[DoseEntry, bool]:
    """Store a checked dose once per idempotency key. Returns the entry and whether it is new.

    One transaction: the dose (saved, so its signal marks the patient for screening), its
    audit event. A repeated idempotency key is caught by the unique constraint, with no
    look-up on the common path, and answered with the entry first stored under it.
    """
    if product.patient_id != patient.pk:
        raise ValueError("product belongs to another patient")
    entry = DoseEntry(
        patient=patient,
        product=product,
        taken_at=checked.taken_at,
        amount=checked.quantity.amount,
        unit=checked.quantity.unit.value,
        preparation=preparation,
        route=route,
        leaf_equivalent_g=checked.exposure.leaf_equivalent_g,
        mitragynine_mg=checked.exposure.mitragynine_mg,
        hydroxymitragynine_mg=checked.exposure.hydroxymitragynine_mg,
        confirmed_warnings=[c.code for c in checked.confirmations],
        source=source,
        entered_by=entered_by,
        idempotency_key=idempotency_key,
    )
    try:
        with transaction.atomic():
            entry.save(force_insert=True)
            audit(
                entered_by,
                "dose.create",
                patient=patient,
                object_type="dose",
                object_uuid=entry.uuid,
                ip=ip,
            )
    except IntegrityError:
        # A retry with the same key (perhaps concurrent): answer with the first entry.
        first = DoseEntry.objects.select_related("product").get(
            patient=patient, idempotency_key=idempotency_key
        )
        return first, False
    return entry, True
