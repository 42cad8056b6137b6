"""Compare recorded doses with the limits of the clinician's active plan.

These findings measure deviations from the clinician's own plan; they make no clinical
claim of their own, so their reference is the plan itself. Limits are in grams of
leaf-equivalent; a dose whose leaf-equivalent is unknown cannot be compared and is
reported as such rather than ignored. Deviations are grouped into one finding per rule
per ISO week, so that a clinician sees "on 4 days in week 45" rather than four alerts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal

from .findings import Finding, Severity

PLAN_REFERENCE = "clinician-plan"


@dataclass(frozen=True)
class PlanLimits:
    version: int
    max_single_dose_g: Decimal | None = None
    max_daily_dose_g: Decimal | None = None
    max_doses_per_day: int | None = None
    min_hours_between: Decimal | None = None


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
    """One finding per broken limit per ISO week, plus one for doses that cannot be checked."""
    ordered = sorted(doses, key=lambda d: d.taken_at)
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


def _finding(
    plan: PlanLimits,
    rule: _Rule,
    name: str,
    week: str,
    items: Sequence[_Breach],
    limit: Decimal | int | None,
) -> Finding:
    worst = min(b.value for b in items) if name == "interval" else max(b.value for b in items)
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
    limit = plan.max_daily_dose_g
    if limit is None:
        return None
    total = sum((d.leaf_equivalent_g for d in doses if d.leaf_equivalent_g is not None), Decimal(0))
    return _Breach(day, total, tuple(doses)) if total > limit else None


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
