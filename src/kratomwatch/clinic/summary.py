"""The top of the clinician's patient page: what a clinician needs at a glance.

- **The active plan** and **adherence over the last 7 days** (today included), counted by the
  limits the plan findings apply (:func:`kratomwatch.domain.plan_check.adherence`).
- **Dose and pain since the last visit.** The *last visit* is the day of the latest clinical
  note written on the record before today (notes are what a clinician writes at a visit).
  "Then" is the 14 days up to and including that day; "now" is the days since it, at most the
  last 14. With no note yet, "then" is the 14 days before the last 14. The mean daily dose is
  the grams of leaf-equivalent recorded in the period divided by its days; doses of unknown
  amount are counted apart, never guessed. Mean pain is the mean of the daily pain scores.
- **New findings since the clinician last looked**: open findings whose cause last happened
  after this clinician last opened the record (:func:`.attention.since_looked`).
- **Next questionnaires due**, from the schedules the plan set.

Latest labs and the drug screen have a slot of their own in the template
(``clinic/_summary_results.html``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, Max, Q, Sum
from django.utils import timezone

from kratomwatch.clinic import attention
from kratomwatch.clinic.actions.induction import open_plan
from kratomwatch.clinic.actions.screening import active_plan
from kratomwatch.clinic.lab_results import LatestResult, latest_results
from kratomwatch.clinic.models import FindingStatus, PatientProfile, Plan, User
from kratomwatch.clinic.panel import Row
from kratomwatch.clinic.screening_input import plan_limits
from kratomwatch.domain.plan_check import Adherence, DoseEvent, adherence

WEEK_DAYS = 7
TREND_DAYS = 14
DAILY = "kw-daily-pain"
WITHDRAWAL = "kw-withdrawal"
#: How many new findings are named; the rest are counted.
NAMED_FINDINGS = 3
#: How many scheduled questionnaires are listed, soonest due first; the rest are counted (all
#: are in the Plan & medications section).
NAMED_DUE = 3


@dataclass(frozen=True)
class Period:
    first: date
    last: date
    dose_g: Decimal | None  # mean grams of leaf-equivalent a day, known amounts only
    unknown_doses: int
    pain: Decimal | None  # mean daily pain score, 0-10
    pain_days: int

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


@dataclass(frozen=True)
class Change:
    visit: date | None
    then: Period
    now: Period

    @property
    def dose_trend(self) -> str:
        """ "up", "down", "steady" or "—", with the panel's tolerances."""
        base = self.then.dose_g or Decimal(0)
        return Row.trend(self.now.dose_g, self.then.dose_g, max(Decimal("0.5"), base / 10))

    @property
    def pain_trend(self) -> str:
        return Row.trend(self.now.pain, self.then.pain, Decimal("0.5"))


@dataclass(frozen=True)
class Due:
    instrument_id: str
    every_days: int
    last_taken: datetime | None
    due_on: date | None  # None: never answered, due now

    @property
    def overdue(self) -> bool:
        return self.due_on is None or self.due_on <= timezone.localdate()


@dataclass
class Summary:
    plan: Plan | None
    week_first: date
    week_last: date
    adherence: Adherence | None
    change: Change
    looked: datetime | None
    new_findings: list[Any] = field(default_factory=list)
    due: list[Due] = field(default_factory=list)
    #: The open buprenorphine transition plan, if any (``actions.induction.open_plan``).
    transition: Any = None
    #: The latest result of each test and drug-screen item (``lab_results.latest_results``).
    results: list[LatestResult] = field(default_factory=list)

    @property
    def measurements(self) -> list[LatestResult]:
        return [r for r in self.results if r.kind == "measurement"]

    @property
    def screen(self) -> dict[str, Any] | None:
        """The latest drug screen: its day, what was positive and how many items were not."""
        items = [r for r in self.results if r.kind != "measurement" and r.outcome != "not_tested"]
        if not items:
            return None
        latest = max(r.taken_at for r in items)
        same = [r for r in items if r.taken_at == latest]
        return {
            "taken_at": latest,
            "specimen": same[0].specimen_label,
            "positive": [r.label for r in same if r.flag == "positive"],
            "negative": sum(1 for r in same if r.flag != "positive"),
        }

    @property
    def named_findings(self) -> list[Any]:
        return self.new_findings[:NAMED_FINDINGS]

    @property
    def more_findings(self) -> int:
        return max(0, len(self.new_findings) - NAMED_FINDINGS)

    @property
    def due_first(self) -> list[Due]:
        return self.due[:NAMED_DUE]

    @property
    def more_due(self) -> int:
        return max(0, len(self.due) - NAMED_DUE)


def last_visit(patient: PatientProfile, today: date) -> date | None:
    """The day of the latest clinical note written before ``today``."""
    latest = patient.notes.filter(created__date__lt=today).aggregate(at=Max("created"))["at"]
    return None if latest is None else timezone.localtime(latest).date()


def _periods(visit: date | None, today: date) -> tuple[tuple[date, date], tuple[date, date]]:
    recent_first = today - timedelta(days=TREND_DAYS - 1)
    if visit is None:
        return (recent_first - timedelta(days=TREND_DAYS), recent_first - timedelta(days=1)), (
            recent_first,
            today,
        )
    return (visit - timedelta(days=TREND_DAYS - 1), visit), (
        max(visit + timedelta(days=1), recent_first),
        today,
    )


def change_since_visit(patient: PatientProfile, today: date) -> Change:
    """Mean daily dose and mean pain, then and now (two queries)."""
    visit = last_visit(patient, today)
    (t0, t1), (n0, n1) = _periods(visit, today)
    then_q = Q(taken_at__date__gte=t0, taken_at__date__lte=t1)
    now_q = Q(taken_at__date__gte=n0, taken_at__date__lte=n1)
    doses = patient.doses.filter(then_q | now_q).aggregate(
        then_g=Sum("leaf_equivalent_g", filter=then_q),
        now_g=Sum("leaf_equivalent_g", filter=now_q),
        then_unknown=Count("id", filter=then_q & Q(leaf_equivalent_g__isnull=True)),
        now_unknown=Count("id", filter=now_q & Q(leaf_equivalent_g__isnull=True)),
        then_n=Count("id", filter=then_q & Q(leaf_equivalent_g__isnull=False)),
        now_n=Count("id", filter=now_q & Q(leaf_equivalent_g__isnull=False)),
    )
    pain = patient.responses.filter(Q(instrument_id=DAILY) & (then_q | now_q)).aggregate(
        then=Avg("total", filter=then_q),
        now=Avg("total", filter=now_q),
        then_days=Count("taken_at__date", filter=then_q, distinct=True),
        now_days=Count("taken_at__date", filter=now_q, distinct=True),
    )

    def period(first: date, last: date, key: str) -> Period:
        grams = doses[f"{key}_g"]
        days = (last - first).days + 1
        mean_pain = pain[key]
        return Period(
            first=first,
            last=last,
            # No dose of known amount: no mean, rather than a mean of zero from unknowns.
            dose_g=None if not doses[f"{key}_n"] else Decimal(grams) / days,
            unknown_doses=doses[f"{key}_unknown"],
            pain=None if mean_pain is None else Decimal(str(mean_pain)),
            pain_days=pain[f"{key}_days"],
        )

    return Change(visit, period(t0, t1, "then"), period(n0, n1, "now"))


def week_adherence(patient: PatientProfile, plan: Plan, first: date, last: date) -> Adherence:
    tz = timezone.get_current_timezone()
    doses = [
        DoseEvent(str(uuid), taken_at, leaf)
        for uuid, taken_at, leaf in patient.doses.filter(
            # The day before too: the hours between doses are checked across midnight.
            taken_at__date__gte=first - timedelta(days=1),
            taken_at__date__lte=last,
        ).values_list("uuid", "taken_at", "leaf_equivalent_g")
    ]
    logged = patient.checkins.filter(day__gte=first, day__lte=last).values_list("day", flat=True)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return adherence(plan_limits(plan), doses, tz, days, logged)


def new_findings(patient: PatientProfile, looked: datetime | None) -> list[Any]:
    """Open findings new since the clinician last looked, most urgent first."""
    found = [
        f
        for f in patient.findings.filter(status=FindingStatus.OPEN)
        if attention.since_looked(f.status, f.last_caused_at, looked)
    ]
    return attention.annotate(found, {patient.pk: looked} if looked else {})


def next_due(patient: PatientProfile) -> list[Due]:
    """Each scheduled questionnaire with the day it is next due, soonest first; the withdrawal
    checklist asked daily in the check-in is left out, as on the patient's own page."""
    last = dict(patient.responses.values_list("instrument_id").annotate(Max("taken_at")))
    due = []
    for schedule in patient.questionnaire_schedules.filter(active=True):
        if schedule.instrument_id == WITHDRAWAL and schedule.every_days == 1:
            continue
        taken = last.get(schedule.instrument_id)
        due_on = (
            None
            if taken is None
            else timezone.localtime(taken).date() + timedelta(days=schedule.every_days)
        )
        due.append(Due(schedule.instrument_id, schedule.every_days, taken, due_on))
    return sorted(due, key=lambda d: (d.due_on or date.min, d.instrument_id))


_UNSET: Any = object()


def patient_summary(
    patient: PatientProfile,
    viewer: User,
    today: date | None = None,
    looked: datetime | None = _UNSET,
) -> Summary:
    """Everything the summary shows. ``looked`` (when ``viewer`` last opened the record) is
    read before this view is recorded in the audit trail, or nothing would ever be new."""
    today = today or timezone.localdate()
    plan = active_plan(patient)
    week_first = today - timedelta(days=WEEK_DAYS - 1)
    if looked is _UNSET:
        looked = attention.last_looked(viewer, [patient.pk]).get(patient.pk)
    return Summary(
        plan=plan,
        week_first=week_first,
        week_last=today,
        adherence=None if plan is None else week_adherence(patient, plan, week_first, today),
        change=change_since_visit(patient, today),
        looked=looked,
        new_findings=new_findings(patient, looked),
        due=next_due(patient),
        transition=open_plan(patient),
        results=latest_results(patient),
    )
