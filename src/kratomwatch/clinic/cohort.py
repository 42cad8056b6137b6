"""Cohort statistics over a whole clinic: aggregate figures only, computed in the database.

No names and no per-patient rows leave this module: every figure is a count, a share or a
mean over the clinic's patients. A fixed number of aggregate queries is run whatever the
number of patients (5 on PostgreSQL, 6 on SQLite, where the median needs one more); the
only values brought into Python beyond the totals are, on SQLite, one percent change per
patient for the median.

Definitions (also listed in :meth:`CohortStatistics.to_dict` under ``notes``):

- **Patients**: profiles of the clinic whose user account is active. Deactivated and erased
  accounts are left out of every figure, numerators and denominators alike.
- **Windows** end at ``now`` (excluded) and are rolling periods of 24-hour days: check-ins in
  the last 14 days; trends compare the last 28 days with the 28 days before.
- **Open finding**: a finding with status *open* (not acknowledged or resolved by a
  clinician) whose cause is present now (``active``). Open findings whose cause has gone
  stay open until a clinician reviews them; they are counted separately as
  ``..._incl_cause_gone`` (the clinician panel's count) and left out of the categories.
- **Dose trend**: per patient, the sum of leaf-equivalent grams in each window. A patient is
  compared only with doses in both windows, every one of which has a known leaf-equivalent
  (a dose of unknown potency has none, stored as NULL); summing only the known ones would
  show a change that did not happen when a patient switches products. Patients with doses
  of unknown potency, or with doses in one window only, are counted as not compared.
  Rose/fell: change above +25 % / below -25 %; otherwise steady (±25 % included).
- **Pain trend**: mean of the daily pain score (``kw-daily-pain`` total, 0-10) over all
  responses in each window, so patients who answer more often weigh more.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Case,
    Count,
    FloatField,
    Q,
    QuerySet,
    Sum,
    When,
)
from django.db.models.functions import Cast
from django.utils import timezone

from kratomwatch.clinic.models import (
    CheckIn,
    Clinic,
    DoseEntry,
    Finding,
    FindingSeverity,
    FindingStatus,
    PatientProfile,
    QuestionnaireResponse,
)

DAILY = "kw-daily-pain"
CHECKIN_DAYS = 14
TREND_DAYS = 28
CHANGE_PCT = 25
SEVERITIES: tuple[str, ...] = tuple(FindingSeverity.values)  # high, moderate, low

NOTES = (
    "Patients: the clinic's patients with an active account; others are left out of every figure.",
    f"Windows end at as_of: check-ins in the last {CHECKIN_DAYS} days; trends compare the last "
    f"{TREND_DAYS} days with the {TREND_DAYS} days before.",
    "Open finding: status open (not yet acknowledged or resolved) and cause present now; "
    "'incl_cause_gone' also counts open findings whose cause has gone.",
    "Dose trend: total leaf-equivalent grams per patient in each window; compared only when "
    "the patient has doses in both windows and every one has a known leaf-equivalent. "
    f"Rose/fell: by more than {CHANGE_PCT}%; shares are of the patients compared.",
    "Pain trend: mean daily pain score (0-10) over all responses in each window.",
)


class _Median(Aggregate):
    """PostgreSQL's ordered-set aggregate for the median (NULLs are ignored)."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _share(n: int, of: int) -> float | None:
    return round(n / of, 4) if of else None


def _float(value: Any, digits: int) -> float | None:
    return None if value is None else round(float(value), digits)


@dataclass(frozen=True)
class DoseTrend:
    compared: int = 0
    rose: int = 0
    fell: int = 0
    steady: int = 0
    median_change_pct: float | None = None
    only_recent: int = 0
    only_before: int = 0
    unknown_potency: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "patients_compared": self.compared,
            "rose": {"patients": self.rose, "share": _share(self.rose, self.compared)},
            "fell": {"patients": self.fell, "share": _share(self.fell, self.compared)},
            "steady": {"patients": self.steady, "share": _share(self.steady, self.compared)},
            "median_change_pct": self.median_change_pct,
            "not_compared": {
                "doses_only_in_last_window": self.only_recent,
                "doses_only_in_earlier_window": self.only_before,
                "some_doses_of_unknown_potency": self.unknown_potency,
            },
        }


@dataclass(frozen=True)
class PainTrend:
    mean_recent: float | None = None
    mean_before: float | None = None
    responses_recent: int = 0
    responses_before: int = 0
    patients_recent: int = 0
    patients_before: int = 0

    @property
    def change(self) -> float | None:
        if self.mean_recent is None or self.mean_before is None:
            return None
        return round(self.mean_recent - self.mean_before, 2)

    def to_dict(self) -> dict[str, Any]:
        return {
            "instrument": DAILY,
            "mean_last_window": self.mean_recent,
            "mean_earlier_window": self.mean_before,
            "change": self.change,
            "responses_last_window": self.responses_recent,
            "responses_earlier_window": self.responses_before,
            "patients_last_window": self.patients_recent,
            "patients_earlier_window": self.patients_before,
        }


@dataclass(frozen=True)
class CohortStatistics:
    clinic: str
    as_of: datetime
    patients: int
    checked_in: int
    #: Patients with at least one open finding whose cause is present, by severity and "any".
    open_findings: dict[str, int] = field(default_factory=dict)
    #: The same, counting open findings whose cause has gone too.
    open_findings_incl_cause_gone: dict[str, int] = field(default_factory=dict)
    #: Patients with at least one open finding (cause present) in each category.
    categories: dict[str, int] = field(default_factory=dict)
    dose: DoseTrend = field(default_factory=DoseTrend)
    pain: PainTrend = field(default_factory=PainTrend)

    def share(self, n: int) -> float | None:
        """``n`` as a fraction of the clinic's patients (4 decimals), None without patients."""
        return _share(n, self.patients)

    def to_dict(self) -> dict[str, Any]:
        return {
            "clinic": self.clinic,
            "as_of": self.as_of.isoformat(),
            "windows": {
                "checkin_days": CHECKIN_DAYS,
                "trend_days": TREND_DAYS,
                "change_threshold_pct": CHANGE_PCT,
            },
            "patients": self.patients,
            "checked_in": {"patients": self.checked_in, "share": self.share(self.checked_in)},
            "open_findings": {
                level: {
                    "patients": self.open_findings.get(level, 0),
                    "share": self.share(self.open_findings.get(level, 0)),
                    "patients_incl_cause_gone": self.open_findings_incl_cause_gone.get(level, 0),
                    "share_incl_cause_gone": self.share(
                        self.open_findings_incl_cause_gone.get(level, 0)
                    ),
                }
                for level in (*SEVERITIES, "any")
            },
            "open_findings_by_category": dict(self.categories),
            "dose_trend": self.dose.to_dict(),
            "pain_trend": self.pain.to_dict(),
            "notes": list(NOTES),
        }


def clinic_patients(clinic: Clinic) -> QuerySet[PatientProfile]:
    """The patients counted: the clinic's profiles whose account is active."""
    return PatientProfile.objects.filter(clinic=clinic, user__is_active=True)


def cohort_statistics(clinic: Clinic, now: datetime | None = None) -> CohortStatistics:
    now = now or timezone.now()
    patients = clinic_patients(clinic)

    checked_in = CheckIn.objects.filter(
        submitted_at__gte=now - timedelta(days=CHECKIN_DAYS), submitted_at__lt=now
    ).values("patient_id")
    counts = patients.order_by().aggregate(
        patients=Count("pk"), checked_in=Count("pk", filter=Q(pk__in=checked_in))
    )

    open_findings, incl_gone = _findings(patients)
    categories = {
        row["category"]: row["patients"]
        for row in Finding.objects.filter(
            patient__in=patients, status=FindingStatus.OPEN, active=True
        )
        .values("category")
        .annotate(patients=Count("patient_id", distinct=True))
        .order_by("-patients", "category")
    }
    return CohortStatistics(
        clinic=clinic.slug,
        as_of=now,
        patients=counts["patients"],
        checked_in=counts["checked_in"],
        open_findings=open_findings,
        open_findings_incl_cause_gone=incl_gone,
        categories=categories,
        dose=_dose_trend(patients, now),
        pain=_pain_trend(patients, now),
    )


def _findings(patients: QuerySet[PatientProfile]) -> tuple[dict[str, int], dict[str, int]]:
    """Patients with an open finding per severity: cause present, and cause present or gone."""
    levels: dict[str, Q | None] = {level: Q(severity=level) for level in SEVERITIES}
    levels["any"] = None
    aggregates: dict[str, Aggregate] = {}
    for level, where in levels.items():
        current = Q(active=True) if where is None else where & Q(active=True)
        aggregates[f"{level}__now"] = Count("patient_id", distinct=True, filter=current)
        aggregates[f"{level}__all"] = Count("patient_id", distinct=True, filter=where)
    row = (
        Finding.objects.filter(patient__in=patients, status=FindingStatus.OPEN)
        .order_by()
        .aggregate(**aggregates)
    )
    return (
        {level: row[f"{level}__now"] for level in levels},
        {level: row[f"{level}__all"] for level in levels},
    )


def _dose_trend(patients: QuerySet[PatientProfile], now: datetime) -> DoseTrend:
    """One grouped query: per-patient window sums, classified and counted in the database."""
    split, start = now - timedelta(days=TREND_DAYS), now - timedelta(days=2 * TREND_DAYS)
    recent, before = Q(taken_at__gte=split), Q(taken_at__lt=split)
    comparable = Q(n_recent__gt=0, n_before__gt=0, unknown=0, before__gt=0)
    per_patient = (
        DoseEntry.objects.filter(taken_at__gte=start, taken_at__lt=now, patient__in=patients)
        .order_by()
        .values("patient_id")
        .annotate(
            n_recent=Count("pk", filter=recent),
            n_before=Count("pk", filter=before),
            unknown=Count("pk", filter=Q(leaf_equivalent_g__isnull=True)),
            recent=Sum("leaf_equivalent_g", filter=recent),
            before=Sum("leaf_equivalent_g", filter=before),
        )
        .annotate(
            change=Case(
                When(
                    comparable,
                    then=(Cast("recent", FloatField()) - Cast("before", FloatField()))
                    * 100.0
                    / Cast("before", FloatField()),
                ),
                output_field=FloatField(),
            )
        )
    )
    postgres = connection.vendor == "postgresql"
    aggregates: dict[str, Aggregate] = {
        "compared": Count("patient_id", filter=Q(change__isnull=False)),
        "rose": Count("patient_id", filter=Q(change__gt=CHANGE_PCT)),
        "fell": Count("patient_id", filter=Q(change__lt=-CHANGE_PCT)),
        "only_recent": Count("patient_id", filter=Q(n_recent__gt=0, n_before=0)),
        "only_before": Count("patient_id", filter=Q(n_before__gt=0, n_recent=0)),
        "unknown_potency": Count(
            "patient_id", filter=Q(n_recent__gt=0, n_before__gt=0, unknown__gt=0)
        ),
    }
    if postgres:
        aggregates["median"] = _Median("change")
    row = per_patient.aggregate(**aggregates)
    if postgres:
        median = row["median"]
    else:  # one number per patient compared, never a dose row
        changes = [
            float(c) for c in per_patient.filter(comparable).values_list("change", flat=True)
        ]
        median = statistics.median(changes) if changes else None
    compared, rose, fell = row["compared"], row["rose"], row["fell"]
    return DoseTrend(
        compared=compared,
        rose=rose,
        fell=fell,
        steady=compared - rose - fell,
        median_change_pct=_float(median, 1),
        only_recent=row["only_recent"],
        only_before=row["only_before"],
        unknown_potency=row["unknown_potency"],
    )


def _pain_trend(patients: QuerySet[PatientProfile], now: datetime) -> PainTrend:
    split, start = now - timedelta(days=TREND_DAYS), now - timedelta(days=2 * TREND_DAYS)
    recent, before = Q(taken_at__gte=split), Q(taken_at__lt=split)
    row = (
        QuestionnaireResponse.objects.filter(
            taken_at__gte=start,
            taken_at__lt=now,
            instrument_id=DAILY,
            total__isnull=False,
            patient__in=patients,
        )
        .order_by()
        .aggregate(
            mean_recent=Avg("total", filter=recent),
            mean_before=Avg("total", filter=before),
            responses_recent=Count("pk", filter=recent),
            responses_before=Count("pk", filter=before),
            patients_recent=Count("patient_id", distinct=True, filter=recent),
            patients_before=Count("patient_id", distinct=True, filter=before),
        )
    )
    return PainTrend(
        mean_recent=_float(row["mean_recent"], 2),
        mean_before=_float(row["mean_before"], 2),
        responses_recent=row["responses_recent"],
        responses_before=row["responses_before"],
        patients_recent=row["patients_recent"],
        patients_before=row["patients_before"],
    )
