"""Compare recorded doses with the limits of the clinician's active plan.

These findings measure deviations from the clinician's own plan; they make no clinical
claim of their own, so their reference is the plan itself. Limits are in grams of
leaf-equivalent; a dose whose leaf-equivalent is unknown cannot be compared and is
reported as such rather than ignored.
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


def _trigger(dose: DoseEvent) -> dict[str, str | None]:
    return {
        "type": "dose",
        "id": dose.id,
        "taken_at": dose.taken_at.isoformat(),
        "leaf_equivalent_g": None if dose.leaf_equivalent_g is None else str(dose.leaf_equivalent_g),
    }


def _plan_text(plan: PlanLimits) -> str:
    return f"plan version {plan.version}"


def check_plan(plan: PlanLimits, doses: Iterable[DoseEvent], tz: tzinfo) -> list[Finding]:
    """Return one finding per broken limit per day, plus one for doses that cannot be checked."""
    ordered = sorted(doses, key=lambda d: d.taken_at)
    by_day: dict[date, list[DoseEvent]] = defaultdict(list)
    for dose in ordered:
        by_day[dose.taken_at.astimezone(tz).date()].append(dose)
    findings: list[Finding] = []
    unknown: list[DoseEvent] = []
    for day, day_doses in sorted(by_day.items()):
        unknown.extend(d for d in day_doses if d.leaf_equivalent_g is None)
        findings.extend(_single(plan, day, day_doses))
        findings.extend(_daily(plan, day, day_doses))
        findings.extend(_count(plan, day, day_doses))
    findings.extend(_interval(plan, ordered, tz))
    if unknown and (plan.max_single_dose_g is not None or plan.max_daily_dose_g is not None):
        findings.append(
            Finding(
                code="plan.unchecked_doses",
                severity=Severity.LOW,
                category="plan",
                title="Some doses could not be checked against the plan",
                rationale=(
                    f"{len(unknown)} dose(s) have no known leaf-equivalent amount (product "
                    f"potency or unit size unknown), so the gram limits of "
                    f"{_plan_text(plan)} could not be applied to them."
                ),
                management="Record the product's potency or unit size to allow checking.",
                patient_message=None,
                references=(PLAN_REFERENCE,),
                triggers=tuple(_trigger(d) for d in unknown),
                key=f"v{plan.version}",
            )
        )
    return findings


def _single(plan: PlanLimits, day: date, doses: Sequence[DoseEvent]) -> list[Finding]:
    limit = plan.max_single_dose_g
    if limit is None:
        return []
    over = [d for d in doses if d.leaf_equivalent_g is not None and d.leaf_equivalent_g > limit]
    if not over:
        return []
    largest = max(d.leaf_equivalent_g or Decimal(0) for d in over)
    return [
        Finding(
            code="plan.single_dose_exceeded",
            severity=Severity.MODERATE,
            category="plan",
            title="Single dose above the plan's limit",
            rationale=(
                f"On {day.isoformat()}, {len(over)} dose(s) were above the {_plan_text(plan)} "
                f"single-dose limit of {limit} g leaf-equivalent (largest {largest} g)."
            ),
            management="Review with the patient; consider whether the plan or support needs change.",
            patient_message=(
                f"A dose on {day.isoformat()} was above your plan's limit of {limit} g per dose. "
                "It has been recorded and your care team will see it."
            ),
            references=(PLAN_REFERENCE,),
            triggers=tuple(_trigger(d) for d in over),
            key=f"{day.isoformat()}",
        )
    ]


def _daily(plan: PlanLimits, day: date, doses: Sequence[DoseEvent]) -> list[Finding]:
    limit = plan.max_daily_dose_g
    if limit is None:
        return []
    known = [d.leaf_equivalent_g for d in doses if d.leaf_equivalent_g is not None]
    total = sum(known, Decimal(0))
    if total <= limit:
        return []
    return [
        Finding(
            code="plan.daily_total_exceeded",
            severity=Severity.MODERATE,
            category="plan",
            title="Daily total above the plan's limit",
            rationale=(
                f"On {day.isoformat()} the recorded doses add up to {total} g leaf-equivalent, "
                f"above the {_plan_text(plan)} daily limit of {limit} g."
            ),
            management="Review the day's doses with the patient.",
            patient_message=(
                f"Your doses on {day.isoformat()} added up to {total} g, above your plan's daily "
                f"limit of {limit} g. Your care team will see this."
            ),
            references=(PLAN_REFERENCE,),
            triggers=tuple(_trigger(d) for d in doses),
            key=f"{day.isoformat()}",
        )
    ]


def _count(plan: PlanLimits, day: date, doses: Sequence[DoseEvent]) -> list[Finding]:
    limit = plan.max_doses_per_day
    if limit is None or len(doses) <= limit:
        return []
    return [
        Finding(
            code="plan.dose_count_exceeded",
            severity=Severity.LOW,
            category="plan",
            title="More doses in a day than the plan allows",
            rationale=(
                f"On {day.isoformat()} {len(doses)} doses were recorded; "
                f"the {_plan_text(plan)} allows {limit}."
            ),
            management="Review dosing frequency with the patient.",
            patient_message=(
                f"You recorded {len(doses)} doses on {day.isoformat()}; your plan allows {limit}."
            ),
            references=(PLAN_REFERENCE,),
            triggers=tuple(_trigger(d) for d in doses),
            key=f"{day.isoformat()}",
        )
    ]


def _interval(plan: PlanLimits, doses: Sequence[DoseEvent], tz: tzinfo) -> list[Finding]:
    """Pairs of consecutive doses closer than allowed, reported on the later dose's day."""
    limit = plan.min_hours_between
    if limit is None:
        return []
    close_by_day: dict[date, list[tuple[DoseEvent, DoseEvent]]] = defaultdict(list)
    for earlier, later in zip(doses, doses[1:], strict=False):
        hours = Decimal((later.taken_at - earlier.taken_at).total_seconds()) / Decimal(3600)
        if hours < limit:
            close_by_day[later.taken_at.astimezone(tz).date()].append((earlier, later))
    findings = []
    for day, close in sorted(close_by_day.items()):
        involved = {d.id: d for pair in close for d in pair}
        findings.append(
            Finding(
                code="plan.interval_too_short",
                severity=Severity.LOW,
                category="plan",
                title="Doses closer together than the plan allows",
                rationale=(
                    f"On {day.isoformat()}, {len(close)} pair(s) of doses were less than "
                    f"{limit} h apart ({_plan_text(plan)})."
                ),
                management="Review timing of doses with the patient.",
                patient_message=(
                    f"On {day.isoformat()} some doses were less than {limit} hours apart, "
                    "closer than your plan allows."
                ),
                references=(PLAN_REFERENCE,),
                triggers=tuple(_trigger(d) for d in involved.values()),
                key=day.isoformat(),
            )
        )
    return findings
