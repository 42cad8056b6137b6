"""Recording a dose: the one function every entry point uses.

The single-dose form on the patient's home, the check-in's dose rows, the dose API and the
diary import all call :func:`do_record_dose`; the demo clinic's generator builds its rows
with :func:`dose_entry`, so every dose is stored with the same fields, whatever its source.
"""

from __future__ import annotations

from kratomwatch.clinic import audit_chain
from kratomwatch.clinic.actions.idempotent import create_once
from kratomwatch.clinic.models import (
    CheckIn,
    DoseEntry,
    EntrySource,
    PatientProfile,
    Product,
    ProductLot,
    User,
)
from kratomwatch.domain.doses import CheckedDose


def dose_entry(
    *,
    patient: PatientProfile,
    product: Product,
    checked: CheckedDose,
    idempotency_key: str,
    entered_by: User | None,
    source: str,
    preparation: str = "",
    route: str = "oral",
    checkin: CheckIn | None = None,
    lot: ProductLot | None = None,
) -> DoseEntry:
    """The unsaved row of a checked dose: what is stored, decided in one place.

    ``lot`` is the product's lot the dose names, if any; ``checked`` was worked out with the
    lot's figures when it has them (:func:`kratomwatch.clinic.lot_facts.dose_spec`).

    ``confirmed_warnings`` holds the codes of the warnings the dose raised, each of which
    the person confirmed (a dose with a warning not confirmed is never accepted).
    """
    if product.patient_id != patient.pk:
        raise ValueError("product belongs to another patient")
    if lot is not None and lot.product_id != product.pk:
        raise ValueError("the lot is of another product")
    return DoseEntry(
        patient=patient,
        product=product,
        lot=lot,
        checkin=checkin,
        taken_at=checked.taken_at,
        amount=checked.quantity.amount,
        unit=checked.quantity.unit.value,
        preparation=preparation,
        route=route,
        leaf_equivalent_g=checked.exposure.leaf_equivalent_g,
        mitragynine_mg=checked.exposure.mitragynine_mg,
        hydroxymitragynine_mg=checked.exposure.hydroxymitragynine_mg,
        confirmed_warnings=sorted({c.code for c in checked.confirmations}),
        source=source,
        entered_by=entered_by,
        idempotency_key=idempotency_key,
    )


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
    checkin: CheckIn | None = None,
    lot: ProductLot | None = None,
    ip: str | None = None,
) -> tuple[DoseEntry, bool]:
    """Store a checked dose once per idempotency key. Returns the entry and whether it is new.

    One transaction (a savepoint inside a caller's, such as a check-in's): the dose, saved
    so that its signal marks the patient for screening, and its audit event. A repeated
    idempotency key is caught by the unique constraint, with no look-up on the common path,
    and answered with the entry first stored under it.
    """
    entry = dose_entry(
        patient=patient,
        product=product,
        checked=checked,
        idempotency_key=idempotency_key,
        entered_by=entered_by,
        source=source,
        preparation=preparation,
        route=route,
        checkin=checkin,
        lot=lot,
    )

    def store() -> DoseEntry:
        entry.save(force_insert=True)
        audit_chain.append(
            entered_by,
            "dose.create",
            patient=patient,
            object_type="dose",
            object_uuid=entry.uuid,
            ip=ip,
        )
        return entry

    return create_once(
        patient.doses.select_related("product"), idempotency_key, store, look_first=False
    )
