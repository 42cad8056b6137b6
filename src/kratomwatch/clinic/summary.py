"""The top of the clinician's patient page: what a clinician needs at a glance.

- **The active plan** and **adherence over the last 7 days** (today included), counted by the
  limits the plan findings apply (:func:`kratomwatch.domain.plan_check.adherence`).
- **Dose and pain since the last visit.** The *last visit* is the day of the latest clinical
  note written on the record before today (notes are what a clinician writes at a visit).
  Only complete days count: today, partly over, is left out. "Then" is the 14 days up to and
  including that day; "now" is the days since it up to yesterday, at most the last 14. With no
  note yet, "then" is the 14 days before the last 14. The mean daily dose is over the days
  logged (a check-in with no dose is a day of 0 g), not over days with nothing recorded; a day
  with a dose of unknown amount has an unknown total and is left out, never guessed, and its
  doses are counted apart. Mean pain is over one rating a day (the day's own, as on the
  timeline). Each mean says how many days it rests on.
- **New findings since the clinician last looked**: open findings whose cause last happened,
  or that reached the record, after this clinician last saw the findings
  (:func:`.attention.since_looked`).
- **Next questionnaires due**, from the schedules the plan set.

Latest labs and the drug screen have a slot of their own in the template
(``clinic/_summary_results.html``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Max
from django.utils import timezone

from kratomwatch.clinic import attention
from kratomwatch.clinic.actions.induction import open_plan
from kratomwatch.clinic.actions.screening import active_plan
from kratomwatch.clinic.lab_results import LatestResult, latest_results
from kratomwatch.clinic.models import FindingStatus, PatientProfile, Plan, User
from kratomwatch.clinic.panel import Row
from kratomwatch.clinic.screening_input import plan_limits
from kratomwatch.clinic.trends import daily_series
from kratomwatch.domain.plan_check import Adherence, DoseEvent, adherence

WEEK_DAYS = 7
TREND_DAYS = 14
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
    dose_g: Decimal | None  # mean grams of leaf-equivalent a day over the days counted
    dose_days: int  # days logged whose every dose has a known amount
    unknown_doses: int
    pain: Decimal | None  # mean of the daily pain ratings, 0-10
    pain_days: int

    @property
    def days(self) -> int:
        return max(0, (self.last - self.first).days + 1)


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

    @property
    def due_today(self) -> bool:
        return self.due_on == timezone.localdate()


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
    """Complete days only: today, partly over, is in neither period."""
    last = today - timedelta(days=1)
    recent_first = today - timedelta(days=TREND_DAYS)
    if visit is None:
        return (recent_first - timedelta(days=TREND_DAYS), recent_first - timedelta(days=1)), (
            recent_first,
            last,
        )
    return (visit - timedelta(days=TREND_DAYS - 1), visit), (
        max(visit + timedelta(days=1), recent_first),
        last,
    )


def _period(patient: PatientProfile, first: date, last: date) -> Period:
    """The period's means over the days that can be counted: a day's dose total when every
    dose of it has a known amount (a check-in with no dose is a day of 0 g); its pain, the
    day's own rating (the latest, as the timeline shows)."""
    if first > last:
        return Period(first, last, None, 0, 0, None, 0)
    tz = timezone.get_current_timezone()
    grams: dict[date, Decimal] = defaultdict(Decimal)
    unknown_days: set[date] = set()
    unknown = 0
    for taken_at, leaf_g in patient.doses.filter(
        taken_at__date__gte=first, taken_at__date__lte=last
    ).values_list("taken_at", "leaf_equivalent_g"):
        day = taken_at.astimezone(tz).date()
        if leaf_g is None:
            unknown += 1
            unknown_days.add(day)
        else:
            grams[day] += leaf_g
    for day in patient.checkins.filter(day__gte=first, day__lte=last).values_list("day", flat=True):
        grams.setdefault(day, Decimal(0))
    counted = [g for day, g in grams.items() if day not in unknown_days]
    pain = [v for v in daily_series(patient, first, last).pain if v is not None]
    return Period(
        first=first,
        last=last,
        dose_g=None if not counted else sum(counted, Decimal(0)) / len(counted),
        dose_days=len(counted),
        unknown_doses=unknown,
        pain=None if not pain else Decimal(str(sum(pain) / len(pain))),
        pain_days=len(pain),
    )


def change_since_visit(patient: PatientProfile, today: date) -> Change:
    """Mean daily dose and mean daily pain, then and now."""
    visit = last_visit(patient, today)
    (t0, t1), (n0, n1) = _periods(visit, today)
    return Change(visit, _period(patient, t0, t1), _period(patient, n0, n1))


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
        if attention.since_looked(f.status, attention.arrived_at(f), looked)
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
