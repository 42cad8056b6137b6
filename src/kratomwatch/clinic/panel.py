"""The clinician's panel: patients ranked by open findings, with two-week trends.

A fixed number of grouped queries whatever the number of patients (tested), merged in Python;
the trend columns and the reason in words are computed only for the rows shown. Among
patients whose most severe open finding is equally severe, those with a red flag new since the
clinician last looked come first (see :mod:`.attention`), then the longest waiting, counted
from the finding's cause.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from kratomwatch.clinic import attention
from kratomwatch.clinic.models import (
    CheckIn,
    DoseEntry,
    Finding,
    FindingStatus,
    PatientProfile,
    QuestionnaireResponse,
    User,
)

DAILY = "kw-daily-pain"


@dataclass
class Row:
    patient: PatientProfile
    high: int = 0
    moderate: int = 0
    low: int = 0
    oldest_open: datetime | None = None
    oldest_by_severity: dict[str, datetime] = field(default_factory=dict)
    last_checkin: datetime | None = None
    checkin_days: int = 0
    pain_now: Decimal | None = None
    pain_before: Decimal | None = None
    dose_now: Decimal | None = None
    dose_before: Decimal | None = None
    categories: set[str] = field(default_factory=set)
    new_at: set[str] = field(default_factory=set)
    """Severities at which the patient has a red flag new since the clinician last looked."""
    top: Finding | None = None
    """The most urgent open finding, for the reason in words."""
    reason: str = ""

    @property
    def is_new(self) -> bool:
        return bool(self.new_at)

    @property
    def open_total(self) -> int:
        return self.high + self.moderate + self.low

    @property
    def adherence_pct(self) -> int:
        return min(100, round(100 * self.checkin_days / 14))

    @staticmethod
    def trend(now: Decimal | None, before: Decimal | None, tolerance: Decimal) -> str:
        if now is None or before is None:
            return "—"
        if now > before + tolerance:
            return "up"
        if now < before - tolerance:
            return "down"
        return "steady"

    @property
    def pain_trend(self) -> str:
        return self.trend(self.pain_now, self.pain_before, Decimal("0.5"))

    @property
    def dose_trend(self) -> str:
        base = self.dose_before or Decimal(0)
        return self.trend(self.dose_now, self.dose_before, max(Decimal("0.5"), base / 10))


def filtered(patients: QuerySet[PatientProfile], params: Any) -> QuerySet[PatientProfile]:
    q = (params.get("q") or "").strip()
    if q:
        patients = patients.filter(Q(display_name__icontains=q) | Q(user__username__icontains=q))
    if params.get("condition"):
        patients = patients.filter(conditions__code=params["condition"], conditions__active=True)
    if params.get("form"):
        patients = patients.filter(products__form=params["form"], products__archived=False)
    if params.get("category"):
        patients = patients.filter(
            findings__category=params["category"], findings__status=FindingStatus.OPEN
        )
    return patients.distinct()


def panel_rows(
    patients: QuerySet[PatientProfile],
    now: datetime | None = None,
    shown: int | None = None,
    viewer: User | None = None,
) -> list[Row]:
    """Every patient, ranked; the two-week columns filled for the first ``shown`` (or all).

    The ranking needs only the open findings, so the heavier queries of the trend columns run
    for the rows on the page, not for a whole panel of hundreds. ``viewer`` is the clinician
    looking: what is new is new to them.
    """
    now = now or timezone.now()
    rows = {p.pk: Row(p) for p in patients.only("id", "uuid", "display_name", "year_of_birth")}
    ids = list(rows)
    looked = attention.last_looked(viewer, ids)
    open_findings = (
        Finding.objects.filter(patient_id__in=ids, status=FindingStatus.OPEN)
        .values("patient_id", "severity")
        .annotate(n=Count("id"), oldest=Min(Coalesce("cause_first_at", "first_seen")))
    )
    for f in open_findings:
        row = rows[f["patient_id"]]
        setattr(row, f["severity"], f["n"])
        row.oldest_by_severity[f["severity"]] = f["oldest"]
        if row.oldest_open is None or f["oldest"] < row.oldest_open:
            row.oldest_open = f["oldest"]
    for f in (
        Finding.objects.filter(patient_id__in=ids, status=FindingStatus.OPEN)
        .values_list("patient_id", "category")
        .distinct()
    ):
        rows[f[0]].categories.add(f[1])
    red_flags = (
        Finding.objects.filter(
            patient_id__in=ids, status=FindingStatus.OPEN, category=attention.RED_FLAG
        )
        .values("patient_id", "severity")
        .annotate(latest=Max(attention.arrived_expression()))
    )
    for f in red_flags:
        pid = f["patient_id"]
        if attention.is_new(attention.RED_FLAG, FindingStatus.OPEN, f["latest"], looked.get(pid)):
            rows[pid].new_at.add(f["severity"])
    far_future = now + timedelta(days=3650)

    def rank(r: Row) -> tuple[int, int, datetime, int, str]:
        """Most severe open finding first; among equals, a new red flag, then the one
        waiting longest."""
        for level, severity in enumerate(("high", "moderate", "low")):
            if severity in r.oldest_by_severity:
                return (
                    level,
                    0 if severity in r.new_at else 1,
                    r.oldest_by_severity[severity],
                    -r.open_total,
                    r.patient.display_name,
                )
        return (3, 1, far_future, 0, r.patient.display_name)

    ranked = sorted(rows.values(), key=rank)
    page = {r.patient.pk: r for r in ranked[:shown]}
    _fill_reasons(page, looked, now)
    _fill_trends(page, now)
    return ranked


def _fill_reasons(rows: dict[int, Row], looked: dict[int, datetime], now: datetime) -> None:
    """The most urgent open finding of each row, and its cause in words."""
    for finding in Finding.objects.filter(
        patient_id__in=[pk for pk, r in rows.items() if r.open_total], status=FindingStatus.OPEN
    ).only(
        "patient_id",
        "severity",
        "category",
        "status",
        "title",
        "triggers",
        "first_seen",
        "cause_first_at",
        "cause_last_at",
        "active",
        "modified",
    ):
        row = rows[finding.patient_id]
        if row.top is None or attention.urgency(finding, looked) < attention.urgency(
            row.top, looked
        ):
            row.top = finding
    for row in rows.values():
        if row.top is not None:
            row.reason = attention.reason(row.top, now)


def _fill_trends(rows: dict[int, Row], now: datetime) -> None:
    """Check-ins, pain and dose over the last two weeks, for these rows."""
    week_ago, two_weeks_ago = now - timedelta(days=7), now - timedelta(days=14)
    ids = list(rows)
    pain = (
        QuestionnaireResponse.objects.filter(
            patient_id__in=ids, instrument_id=DAILY, taken_at__gte=two_weeks_ago
        )
        .values("patient_id")
        .annotate(
            now=Avg("total", filter=Q(taken_at__gte=week_ago)),
            before=Avg("total", filter=Q(taken_at__lt=week_ago)),
            days=Count("taken_at__date", distinct=True),
            last=Max("taken_at"),
        )
    )
    for p in pain:
        row = rows[p["patient_id"]]
        row.pain_now, row.pain_before = p["now"], p["before"]
        row.checkin_days, row.last_checkin = p["days"], p["last"]
    for c in (
        CheckIn.objects.filter(patient_id__in=ids)
        .values("patient_id")
        .annotate(last=Max("submitted_at"))
    ):
        row = rows[c["patient_id"]]
        if row.last_checkin is None or c["last"] > row.last_checkin:
            row.last_checkin = c["last"]
    doses = (
        DoseEntry.objects.filter(patient_id__in=ids, taken_at__gte=two_weeks_ago)
        .values("patient_id")
        .annotate(
            now=Sum("leaf_equivalent_g", filter=Q(taken_at__gte=week_ago)),
            before=Sum("leaf_equivalent_g", filter=Q(taken_at__lt=week_ago)),
        )
    )
    for d in doses:
        row = rows[d["patient_id"]]
        row.dose_now = None if d["now"] is None else Decimal(d["now"]) / 7
        row.dose_before = None if d["before"] is None else Decimal(d["before"]) / 7
