"""Compare recorded doses with the limits of the clinician's active plan.

These findings measure deviations from the clinician's own plan; they make no clinical
claim of their own, so their reference is the plan itself. Limits are in grams of
leaf-equivalent; a dose whose leaf-equivalent is unknown cannot be compared and is
reported as such rather than ignored. Deviations are grouped into one finding per rule
per ISO week, so that a clinician sees "on 4 days in week 45" rather than four alerts.

A plan applies from the moment it is approved (``PlanLimits.starts_at``): doses taken before
then are not held against it, so approving a new or changed plan raises no deviation (and no
message to the patient) for what was done under the previous one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal

from .findings import Finding, Severity

PLAN_REFERENCE = "clinician-plan"
#: What the plan findings cite, in the shape of a resolved reference.
PLAN_CITATION: dict[str, str | None] = {
    "id": PLAN_REFERENCE,
    "citation": "The patient's plan, as approved by their clinician in KratomWatch.",
    "pmid": None,
    "doi": None,
    "url": None,
}


@dataclass(frozen=True)
class PlanLimits:
    version: int
    max_single_dose_g: Decimal | None = None
    max_daily_dose_g: Decimal | None = None
    max_doses_per_day: int | None = None
    min_hours_between: Decimal | None = None
    max_weekly_increase_pct: Decimal | None = None
    steps: tuple[tuple[date, Decimal], ...] = ()
    """Taper or titration steps: (first day, daily limit in g), in force until the next step."""
    starts_at: datetime | None = None
    """When the plan was approved: only doses from this instant on are checked against it."""

    def applies_to(self, dose: DoseEvent) -> bool:
        return self.starts_at is None or dose.taken_at >= self.starts_at

    def daily_limit(self, day: date) -> Decimal | None:
        """The daily limit on ``day``: the step in force, else the plan's maximum."""
        current = [limit for start, limit in sorted(self.steps) if start <= day]
        return current[-1] if current else self.max_daily_dose_g


@dataclass(frozen=True)
class DoseEvent:
    id: str
    taken_at: datetime
    leaf_equivalent_g: Decimal | None


@dataclass(frozen=True)
class _Breach:
    day: date
    value: Decimal  # the day's worst value for this rule
    doses: tuple[DoseEvent, ...]
    limit: Decimal | None = None  # the limit in force that day, when it varies (taper steps)


@dataclass(frozen=True)
class _Rule:
    code: str
    severity: Severity
    title: str
    clinician: str  # "{days}", "{limit}", "{worst}", "{plan}" are filled in
    patient: str
    management: str


RULES = {
    "single": _Rule(
        "plan.single_dose_exceeded",
        Severity.MODERATE,
        "Single dose above the plan's limit",
        "On {n} day(s) ({days}) a dose was above the {plan} single-dose limit of {limit} g "
        "leaf-equivalent; the largest was {worst} g.",
        "On {days} a dose was above your plan's limit of {limit} g per dose. It has been "
        "recorded and your care team will see it.",
        "Review with the patient; consider whether the plan or the support needs to change.",
    ),
    "daily": _Rule(
        "plan.daily_total_exceeded",
        Severity.MODERATE,
        "Daily total above the plan's limit",
        "On {n} day(s) ({days}) the recorded doses added up to more than the {plan} daily "
        "limit of {limit} g leaf-equivalent; the highest day was {worst} g.",
        "On {days} your doses added up to more than your plan's daily limit of {limit} g "
        "(highest {worst} g). Your care team will see this.",
        "Review the days' doses with the patient.",
    ),
    "count": _Rule(
        "plan.dose_count_exceeded",
        Severity.LOW,
        "More doses in a day than the plan allows",
        "On {n} day(s) ({days}) more doses were recorded than the {plan} allows ({limit} a "
        "day); the most was {worst}.",
        "On {days} you recorded more doses than your plan allows ({limit} a day).",
        "Review dosing frequency with the patient; frequent dosing is associated with "
        "withdrawal and dependence.",
    ),
    "interval": _Rule(
        "plan.interval_too_short",
        Severity.LOW,
        "Doses closer together than the plan allows",
        "On {n} day(s) ({days}) doses were less than {limit} h apart ({plan}); the shortest "
        "gap was {worst} h.",
        "On {days} some doses were less than {limit} hours apart, closer than your plan allows.",
        "Review the timing of doses with the patient.",
    ),
}


def fmt(value: Decimal) -> str:
    """A decimal without trailing zeros or exponent: 4.000 -> "4", 29.50 -> "29.5"."""
    text = f"{value.quantize(Decimal('0.01')).normalize():f}"
    return text


def _trigger(dose: DoseEvent) -> dict[str, str | None]:
    return {
        "type": "dose",
        "id": dose.id,
        "taken_at": dose.taken_at.isoformat(),
        "leaf_equivalent_g": None
        if dose.leaf_equivalent_g is None
        else str(dose.leaf_equivalent_g),
    }


def check_plan(plan: PlanLimits, doses: Iterable[DoseEvent], tz: tzinfo) -> list[Finding]:
    """One finding per broken limit per ISO week, plus one for doses that cannot be checked.

    Only doses taken from the plan's approval on count, for every limit: the daily total and
    the number of doses of the day of approval, the gap between doses and the weekly increase
    look only at doses taken under this plan."""
    ordered, by_day, breaches = _breaches(plan, doses, tz)
    weekly = _weekly_increase(plan, by_day)
    limits = {
        "single": plan.max_single_dose_g,
        "daily": plan.max_daily_dose_g,
        "count": plan.max_doses_per_day,
        "interval": plan.min_hours_between,
    }
    findings: list[Finding] = []
    for name, rule in RULES.items():
        weeks: dict[str, list[_Breach]] = defaultdict(list)
        for breach in breaches[name]:
            iso = breach.day.isocalendar()
            weeks[f"{iso.year}-W{iso.week:02d}"].append(breach)
        for week_id, items in sorted(weeks.items()):
            findings.append(_finding(plan, rule, name, week_id, items, limits[name]))
    if weekly is not None:
        findings.append(weekly)
    unknown = [d for d in ordered if d.leaf_equivalent_g is None]
    if unknown and (plan.max_single_dose_g is not None or plan.max_daily_dose_g is not None):
        findings.append(
            Finding(
                code="plan.unchecked_doses",
                severity=Severity.LOW,
                category="plan",
                title="Some doses could not be checked against the plan",
                rationale=(
                    f"{len(unknown)} dose(s) have no known leaf-equivalent amount (product "
                    f"potency or unit size unknown), so the gram limits of plan version "
                    f"{plan.version} could not be applied to them."
                ),
                management="Record the product's potency or unit size to allow checking.",
                patient_message=None,
                references=(PLAN_REFERENCE,),
                triggers=tuple(_trigger(d) for d in unknown),
                key=f"v{plan.version}",
            )
        )
    return findings


def _breaches(
    plan: PlanLimits, doses: Iterable[DoseEvent], tz: tzinfo
) -> tuple[list[DoseEvent], dict[date, list[DoseEvent]], dict[str, list[_Breach]]]:
    """The doses under the plan in time order, by local day, and each limit's broken days."""
    ordered = sorted((d for d in doses if plan.applies_to(d)), key=lambda d: d.taken_at)
    by_day: dict[date, list[DoseEvent]] = defaultdict(list)
    for dose in ordered:
        by_day[dose.taken_at.astimezone(tz).date()].append(dose)
    breaches: dict[str, list[_Breach]] = defaultdict(list)
    for day, day_doses in sorted(by_day.items()):
        for name, found in (
            ("single", _single(plan, day, day_doses)),
            ("daily", _daily(plan, day, day_doses)),
            ("count", _count(plan, day, day_doses)),
        ):
            if found is not None:
                breaches[name].append(found)
    breaches["interval"].extend(_interval(plan, ordered, tz))
    return ordered, by_day, breaches


@dataclass(frozen=True)
class Adherence:
    """How a run of days went against the plan, counted with the same rules as the findings.

    A day is *logged* when the patient recorded a check-in or a dose on it. A logged day is
    *within the plan* when none of its doses broke a limit (single dose, daily total, number
    of doses, hours between doses) and every dose had a known amount; a day with a dose of
    unknown amount and no broken limit is *unchecked*, never counted as within."""

    days: int
    days_logged: int
    days_within: int
    days_over: int
    days_unchecked: int
    doses_over_single: int
    days_over_daily: int
    unchecked_doses: int


def adherence(
    plan: PlanLimits,
    doses: Iterable[DoseEvent],
    tz: tzinfo,
    days: Sequence[date],
    logged: Iterable[date],
) -> Adherence:
    """Adherence over ``days`` (local dates), for the days logged (``logged``, plus every day
    with a dose). Days before the plan's approval day are left out, as are doses taken before
    its approval."""
    if plan.starts_at is not None:
        approved = plan.starts_at.astimezone(tz).date()
        days = [d for d in days if d >= approved]
    window = set(days)
    _, by_day, breaches = _breaches(plan, doses, tz)
    logged_days = (set(logged) | set(by_day)) & window
    over = {b.day for found in breaches.values() for b in found} & window
    unknown = {
        day
        for day, day_doses in by_day.items()
        if day in window and any(d.leaf_equivalent_g is None for d in day_doses)
    }
    single = plan.max_single_dose_g
    return Adherence(
        days=len(window),
        days_logged=len(logged_days),
        days_within=len(logged_days - over - unknown),
        days_over=len(over),
        days_unchecked=len(unknown - over),
        doses_over_single=0
        if single is None
        else sum(
            1
            for day, day_doses in by_day.items()
            if day in window
            for d in day_doses
            if d.leaf_equivalent_g is not None and d.leaf_equivalent_g > single
        ),
        days_over_daily=len({b.day for b in breaches["daily"]} & window),
        unchecked_doses=sum(
            1
            for day, day_doses in by_day.items()
            if day in window
            for d in day_doses
            if d.leaf_equivalent_g is None
        ),
    )


def _finding(
    plan: PlanLimits,
    rule: _Rule,
    name: str,
    week: str,
    items: Sequence[_Breach],
    limit: Decimal | int | None,
) -> Finding:
    worst_breach = (min if name == "interval" else max)(items, key=lambda b: b.value)
    worst = worst_breach.value
    if worst_breach.limit is not None:
        limit = worst_breach.limit
    days = ", ".join(b.day.isoformat() for b in items)
    values = {
        "n": len(items),
        "days": days,
        "limit": fmt(Decimal(limit or 0)),
        "worst": fmt(worst),
        "plan": f"plan version {plan.version}",
    }
    doses = {d.id: d for b in items for d in b.doses}
    return Finding(
        code=rule.code,
        severity=rule.severity,
        category="plan",
        title=rule.title,
        rationale=rule.clinician.format(**values),
        management=rule.management,
        patient_message=rule.patient.format(**values),
        references=(PLAN_REFERENCE,),
        triggers=tuple(_trigger(d) for d in doses.values()),
        key=f"v{plan.version}:{week}",
    )


def _single(plan: PlanLimits, day: date, doses: Sequence[DoseEvent]) -> _Breach | None:
    limit = plan.max_single_dose_g
    if limit is None:
        return None
    over = [d for d in doses if d.leaf_equivalent_g is not None and d.leaf_equivalent_g > limit]
    if not over:
        return None
    return _Breach(day, max(d.leaf_equivalent_g or Decimal(0) for d in over), tuple(over))


def _daily(plan: PlanLimits, day: date, doses: Sequence[DoseEvent]) -> _Breach | None:
    limit = plan.daily_limit(day)
    if limit is None:
        return None
    total = sum((d.leaf_equivalent_g for d in doses if d.leaf_equivalent_g is not None), Decimal(0))
    return _Breach(day, total, tuple(doses), limit) if total > limit else None


def _weekly_increase(plan: PlanLimits, by_day: dict[date, list[DoseEvent]]) -> Finding | None:
    """Mean daily dose of the last 7 days against the 7 days before, ending on the last dose."""
    limit = plan.max_weekly_increase_pct
    if limit is None or not by_day:
        return None
    end = max(by_day)
    recent = [end - timedelta(days=i) for i in range(7)]
    before = [end - timedelta(days=7 + i) for i in range(7)]

    def total(days: list[date]) -> tuple[Decimal, int]:
        doses = [d for day in days for d in by_day.get(day, [])]
        known = [d.leaf_equivalent_g for d in doses if d.leaf_equivalent_g is not None]
        return sum(known, Decimal(0)), sum(1 for day in days if by_day.get(day))

    now_g, now_days = total(recent)
    then_g, then_days = total(before)
    if now_days < 4 or then_days < 4 or then_g == 0:
        return None
    rise = (now_g - then_g) / then_g * 100
    if rise <= limit:
        return None
    iso = end.isocalendar()
    doses = tuple(d for day in recent for d in by_day.get(day, []))
    return Finding(
        code="plan.weekly_increase_exceeded",
        severity=Severity.MODERATE,
        category="plan",
        title="Weekly increase above the plan's limit",
        rationale=(
            f"Total dose in the 7 days to {end.isoformat()} was {fmt(now_g)} g leaf-equivalent "
            f"against {fmt(then_g)} g the week before: up {fmt(rise)}%, more than the "
            f"{fmt(limit)}% a week that plan version {plan.version} allows."
        ),
        management="Review the escalation with the patient before any further increase.",
        patient_message=(
            f"Your doses this week went up by more than your plan allows ({fmt(limit)}% a "
            "week). Your care team will see this."
        ),
        references=(PLAN_REFERENCE,),
        triggers=tuple(_trigger(d) for d in doses),
        key=f"v{plan.version}:{iso.year}-W{iso.week:02d}",
    )


def _count(plan: PlanLimits, day: date, doses: Sequence[DoseEvent]) -> _Breach | None:
    limit = plan.max_doses_per_day
    if limit is None or len(doses) <= limit:
        return None
    return _Breach(day, Decimal(len(doses)), tuple(doses))


def _interval(plan: PlanLimits, doses: Sequence[DoseEvent], tz: tzinfo) -> list[_Breach]:
    """Consecutive doses closer than allowed, counted on the later dose's day."""
    limit = plan.min_hours_between
    if limit is None:
        return []
    by_day: dict[date, list[tuple[Decimal, DoseEvent, DoseEvent]]] = defaultdict(list)
    for earlier, later in zip(doses, doses[1:], strict=False):
        hours = Decimal((later.taken_at - earlier.taken_at).total_seconds()) / Decimal(3600)
        if hours < limit:
            by_day[later.taken_at.astimezone(tz).date()].append((hours, earlier, later))
    return [
        _Breach(day, min(h for h, _, _ in pairs), tuple(d for _, a, b in pairs for d in (a, b)))
        for day, pairs in sorted(by_day.items())
    ]
