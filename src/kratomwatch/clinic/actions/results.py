"""Recording results (liver tests, QTc, drug screens): one batch in one transaction."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.db import IntegrityError, transaction

from kratomwatch.clinic import audit_chain
from kratomwatch.clinic.models import (
    EntrySource,
    LabResult,
    PatientProfile,
    ResultKind,
    User,
)
from kratomwatch.domain.results import Batch, load_lab_tests

_PLACES = Decimal("0.0001")


def do_record_results(
    *,
    patient: PatientProfile,
    user: User | None,
    batch: Batch,
    source: str = EntrySource.WEB,
    key: str = "",
    ip: str | None = None,
) -> tuple[list[LabResult], bool]:
    """Store a checked batch and audit it; screening follows on commit (the model is
    screened, see ``signals``). With ``key``, a batch already stored under it is returned
    instead (``created`` False)."""
    if key:
        existing = list(patient.results.filter(idempotency_key=key))
        if existing:
            return existing, False
    analytes = load_lab_tests().analytes
    group = uuid.uuid4()
    common = {
        "patient": patient,
        "batch": group,
        "taken_at": batch.taken_at,
        "source": source,
        "entered_by": user,
        "idempotency_key": key,
        "note": batch.note,
    }
    rows = [
        LabResult(
            kind=ResultKind.MEASUREMENT,
            analyte=analyte,
            value=checked.value.quantize(_PLACES),
            unit=analytes[analyte].unit,
            value_entered=checked.entered.quantize(_PLACES),
            unit_entered=checked.entered_unit,
            upper_limit=None
            if checked.upper_limit is None
            else checked.upper_limit.quantize(_PLACES),
            specimen="ecg" if analytes[analyte].group == "ecg" else "blood",
            **common,
        )
        for analyte, checked in batch.values.items()
    ] + [
        LabResult(
            kind=ResultKind.SCREEN, analyte=item, outcome=outcome, specimen=batch.specimen, **common
        )
        for item, outcome in batch.screens.items()
    ]
    try:
        with transaction.atomic():
            for row in rows:
                row.save()  # one by one: each save schedules the patient's screening on commit
            audit_chain.append(
                user,
                "result.create",
                patient=patient,
                object_type="result",
                object_uuid=group,
                ip=ip,
            )
    except IntegrityError:
        # The same key stored by a request that ran at the same time: its results stand.
        existing = list(patient.results.filter(idempotency_key=key)) if key else []
        if not existing:
            raise
        return existing, False
    return rows, True
