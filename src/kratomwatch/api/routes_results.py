"""A patient's results (liver tests, QTc, drug screens): read by the patient and their
clinicians, recorded by their clinicians. Access is decided by kratomwatch.clinic.access."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Status

from kratomwatch.clinic import access
from kratomwatch.clinic.actions.results import do_record_results
from kratomwatch.clinic.models import EntrySource, LabResult
from kratomwatch.domain.doses import FieldError
from kratomwatch.domain.results import ResultRejected, check_batch, load_lab_tests

from .auth import read_auth, user_of, write_auth
from .idempotency import IdempotencyKey, idempotency_key, once
from .pagination import Cursor, Limit, page_of
from .problems import Problem
from .routes_patients import ERRORS
from .schemas import ResultPage, ResultsIn, ResultsOut

router = Router(tags=["results"])


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def result_out(r: LabResult) -> dict[str, Any]:
    catalogue = load_lab_tests()
    info = catalogue.analytes.get(r.analyte) or catalogue.screen_items.get(r.analyte)
    return {
        "uuid": r.uuid,
        "batch": r.batch,
        "kind": r.kind,
        "analyte": r.analyte,
        "label": info.label if info else r.analyte,
        "taken_at": r.taken_at,
        "value": _text(r.value),
        "unit": r.unit,
        "value_entered": _text(r.value_entered),
        "unit_entered": r.unit_entered,
        "upper_limit": _text(r.upper_limit),
        "outcome": r.outcome,
        "specimen": r.specimen,
        "source": r.source,
        "note": r.note,
        "created": r.created,
    }


def _field(name: str) -> str:
    """A domain field ("alt.unit", "cocaine.result") as the request document names it."""
    head, _, tail = name.partition(".")
    catalogue = load_lab_tests()
    if tail == "analyte":
        return f"values.{head}.analyte"
    if tail == "item":
        return f"screens.{head}.item"
    if head in catalogue.analytes:
        return f"values.{head}.{tail}"
    if head in catalogue.screen_items:
        return f"screens.{head}.outcome"
    return name


@router.get(
    "/patients/{patient_uuid}/results", response={200: ResultPage, **ERRORS}, auth=read_auth
)
def list_results(
    request: HttpRequest, patient_uuid: UUID, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    """Every result of the patient, oldest first."""
    patient = access.patient_for(user_of(request), patient_uuid)
    return page_of(request, patient.results.all(), cursor, limit, result_out)


@router.post(
    "/patients/{patient_uuid}/results",
    response={200: ResultsOut, 201: ResultsOut, **ERRORS},
    auth=write_auth,
)
def record_results(
    request: HttpRequest,
    patient_uuid: UUID,
    payload: ResultsIn,
    key: IdempotencyKey = None,
) -> Status:
    """A clinician records results taken together: values with their units, and drug-screen
    items. Each is checked as in the web form; the patient is screened again after."""
    user = user_of(request)
    patient = access.clinician_record(user, patient_uuid)  # 404, 403
    stored_key = idempotency_key(key)
    values: dict[str, dict[str, Any]] = {}
    screens: dict[str, Any] = {}
    duplicates = []
    for v in payload.values:
        if v.analyte in values:
            duplicates.append(FieldError(f"values.{v.analyte}", "given twice", "duplicate"))
        values[v.analyte] = {"value": v.value, "unit": v.unit, "upper_limit": v.upper_limit}
    for s in payload.screens:
        if s.item in screens:
            duplicates.append(FieldError(f"screens.{s.item}", "given twice", "duplicate"))
        screens[s.item] = s.outcome
    try:
        if duplicates:
            raise ResultRejected([])
        batch = check_batch(
            taken_at=payload.taken_at,
            values=values,
            screens=screens,
            specimen=payload.specimen,
            now=timezone.now(),
            note=payload.note,
        )
    except ResultRejected as exc:
        errors = duplicates + [FieldError(_field(f), m, "invalid_result") for f, m in exc.errors]
        raise Problem(422, "The results were not recorded.", errors=errors) from exc
    ip = request.META.get("REMOTE_ADDR")

    def record() -> tuple[int, Any]:
        rows, created = do_record_results(
            patient=patient,
            user=user,
            batch=batch,
            source=EntrySource.API,
            key="api:" + stored_key,
            ip=ip,
        )
        return (201 if created else 200), {"items": [result_out(r) for r in rows]}

    return once(
        user=user,
        operation=f"results:{patient.uuid}",
        key=stored_key,
        payload=payload,
        out=ResultsOut,
        change=record,
    )
