"""A patient's latest results for pages and summaries: one row per analyte or screen item,
with the upper limit of normal used and a flag."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from kratomwatch.clinic.models import LabResult, PatientProfile, ResultKind
from kratomwatch.domain.results import POSITIVE, latest_by, load_lab_tests


@dataclass(frozen=True)
class LatestResult:
    analyte: str
    label: str
    kind: str
    taken_at: datetime
    value: Decimal | None  # in ``unit``
    unit: str
    entered: str  # the value and unit as entered, when they differ from the stored ones
    upper_limit: Decimal | None
    outcome: str  # drug screens: positive / negative / not_tested
    outcome_label: str
    specimen_label: str
    flag: str  # "high", "positive" or ""
    result: LabResult


def latest_results(patient: PatientProfile) -> list[LatestResult]:
    """The latest result of each analyte and screen item the patient has, liver tests and
    QTc first (in the catalogue's order), then the screen items."""
    catalogue = load_lab_tests()
    latest = latest_by(patient.results.all(), "analyte")
    order = [*catalogue.analytes, *catalogue.screen_items]
    rows = []
    for analyte in sorted(latest, key=lambda a: order.index(a) if a in order else len(order)):
        r: LabResult = latest[analyte]
        if r.kind == ResultKind.MEASUREMENT:
            info = catalogue.analytes.get(analyte)
            uln = (
                r.upper_limit
                if r.upper_limit is not None
                else (info.upper_limit_of_normal if info else None)
            )
            entered = ""
            if r.unit_entered and r.unit_entered != r.unit:
                entered = f"{_plain(r.value_entered)} {r.unit_entered}"
            flag = "high" if uln is not None and r.value is not None and r.value > uln else ""
            label = info.label if info else analyte
            rows.append(
                LatestResult(
                    analyte, label, r.kind, r.taken_at, r.value, r.unit, entered, uln,
                    "", "", r.get_specimen_display(), flag, r,
                )
            )  # fmt: skip
        else:
            item = catalogue.screen_items.get(analyte)
            label = item.label if item else analyte
            flag = "positive" if r.outcome == POSITIVE else ""
            rows.append(
                LatestResult(
                    analyte, label, r.kind, r.taken_at, None, "", "", None, r.outcome,
                    r.get_outcome_display(), r.get_specimen_display(), flag, r,
                )
            )  # fmt: skip
    return rows


def _plain(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"
