"""Doses compared with the clinician's plan limits."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from kratomwatch.domain.plan_check import DoseEvent, PlanLimits, adherence, check_plan

UTC_TZ = UTC
NY = ZoneInfo("America/New_York")


def dose(i: int, at: datetime, grams: str | None) -> DoseEvent:
    return DoseEvent(
        id=f"d{i}", taken_at=at, leaf_equivalent_g=None if grams is None else Decimal(grams)
    )


def codes(findings: list) -> list[str]:  # type: ignore[type-arg]
    return sorted(f.code for f in findings)


T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def test_doses_within_every_limit_raise_nothing() -> None:
    plan = PlanLimits(1, Decimal("3"), Decimal("6"), 2, Decimal("4"))
    doses = [dose(1, T0, "3"), dose(2, T0 + timedelta(hours=4), "3")]
    assert check_plan(plan, doses, UTC_TZ) == []


def test_a_single_dose_just_over_the_limit_is_flagged_with_its_trigger() -> None:
    plan = PlanLimits(2, max_single_dose_g=Decimal("3"))
    findings = check_plan(plan, [dose(1, T0, "3.001")], UTC_TZ)
    assert codes(findings) == ["plan.single_dose_exceeded"]
    assert findings[0].triggers[0]["id"] == "d1"
    assert "plan version 2" in findings[0].rationale and "3" in findings[0].rationale
    assert "2026-11-02" in findings[0].rationale
    assert findings[0].patient_message


def test_the_daily_total_counts_the_patients_local_day() -> None:
    plan = PlanLimits(1, max_daily_dose_g=Decimal("6"))
    # 03:00 UTC is still the previous evening in New York.
    doses = [
        dose(1, datetime(2026, 11, 3, 3, 0, tzinfo=UTC), "4"),
        dose(2, datetime(2026, 11, 3, 15, 0, tzinfo=UTC), "4"),
    ]
    assert check_plan(plan, doses, NY) == []
    flagged = check_plan(plan, doses, UTC_TZ)
    assert codes(flagged) == ["plan.daily_total_exceeded"]
    assert "8" in flagged[0].rationale


def test_too_many_doses_and_too_close_together() -> None:
    plan = PlanLimits(1, max_doses_per_day=2, min_hours_between=Decimal("4"))
    doses = [dose(i, T0 + timedelta(hours=2 * i), "1") for i in range(3)]
    assert codes(check_plan(plan, doses, UTC_TZ)) == [
        "plan.dose_count_exceeded",
        "plan.interval_too_short",
    ]


def test_the_interval_is_checked_across_midnight() -> None:
    plan = PlanLimits(1, min_hours_between=Decimal("4"))
    doses = [
        dose(1, datetime(2026, 11, 2, 23, 0, tzinfo=UTC), "1"),
        dose(2, datetime(2026, 11, 3, 1, 0, tzinfo=UTC), "1"),
    ]
    findings = check_plan(plan, doses, UTC_TZ)
    assert codes(findings) == ["plan.interval_too_short"]
    assert "2026-11-03" in findings[0].rationale
    assert findings[0].key == "v1:2026-W45"


def test_doses_of_unknown_amount_are_reported_not_ignored() -> None:
    plan = PlanLimits(1, max_single_dose_g=Decimal("3"))
    findings = check_plan(plan, [dose(1, T0, None), dose(2, T0 + timedelta(hours=5), "2")], UTC_TZ)
    assert codes(findings) == ["plan.unchecked_doses"]
    assert findings[0].triggers[0]["id"] == "d1"


def test_order_of_input_does_not_matter() -> None:
    plan = PlanLimits(1, Decimal("3"), Decimal("5"), 2, Decimal("4"))
    doses = [dose(i, T0 + timedelta(hours=3 * i), str(1 + i)) for i in range(4)]
    forward = [f.to_dict() for f in check_plan(plan, doses, UTC_TZ)]
    backward = [f.to_dict() for f in check_plan(plan, list(reversed(doses)), UTC_TZ)]
    assert forward == backward and forward


def test_breaches_in_one_week_make_one_finding_naming_each_day() -> None:
    plan = PlanLimits(3, max_daily_dose_g=Decimal("6"))
    # Mon 2 Nov to Mon 9 Nov 2026: seven days in ISO week 45, one in week 46.
    doses = [dose(i, T0 + timedelta(days=i), "7.50") for i in range(8)]
    findings = check_plan(plan, doses, UTC_TZ)
    assert [f.key for f in findings] == ["v3:2026-W45", "v3:2026-W46"]
    first = findings[0]
    assert "On 7 day(s)" in first.rationale and "2026-11-07" in first.rationale
    assert "7.5 g" in first.rationale and "6 g" in first.rationale  # tidy numbers
    assert len(first.triggers) == 7


def test_taper_steps_set_the_daily_limit_from_their_first_day() -> None:
    steps = ((date(2026, 11, 2), Decimal("8")), (date(2026, 11, 9), Decimal("6")))
    plan = PlanLimits(4, max_daily_dose_g=Decimal("10"), steps=steps)
    assert plan.daily_limit(date(2026, 11, 1)) == Decimal("10")
    assert plan.daily_limit(date(2026, 11, 8)) == Decimal("8")
    assert plan.daily_limit(date(2026, 11, 20)) == Decimal("6")
    seven = [
        dose(1, datetime(2026, 11, 8, 9, tzinfo=UTC), "7"),
        dose(2, datetime(2026, 11, 10, 9, tzinfo=UTC), "7"),
    ]
    findings = check_plan(plan, seven, UTC_TZ)
    assert [f.code for f in findings] == ["plan.daily_total_exceeded"]
    assert "2026-11-10" in findings[0].rationale and "2026-11-08" not in findings[0].rationale
    assert "limit of 6 g" in findings[0].rationale


def test_a_weekly_increase_above_the_limit_is_flagged() -> None:
    plan = PlanLimits(1, max_weekly_increase_pct=Decimal("10"))
    start = datetime(2026, 11, 2, 9, tzinfo=UTC)
    doses = [dose(i, start + timedelta(days=i), "2" if i < 7 else "2.5") for i in range(14)]
    findings = check_plan(plan, doses, UTC_TZ)
    assert [f.code for f in findings] == ["plan.weekly_increase_exceeded"]
    assert "up 25%" in findings[0].rationale
    gentle = [dose(i, start + timedelta(days=i), "2" if i < 7 else "2.2") for i in range(14)]
    assert check_plan(plan, gentle, UTC_TZ) == []
    assert check_plan(plan, doses[:10], UTC_TZ) == []  # too few days to compare


APPROVED = T0 + timedelta(hours=12)  # Mon 2 Nov 2026, 20:00 UTC


def test_doses_taken_before_the_plan_was_approved_are_not_checked() -> None:
    plan = PlanLimits(
        2,
        max_single_dose_g=Decimal("3"),
        max_daily_dose_g=Decimal("6"),
        max_doses_per_day=2,
        min_hours_between=Decimal("4"),
        starts_at=APPROVED,
    )
    # Under the previous plan: a 5 g dose, 11 g on the day, three doses, 2 h apart.
    before = [dose(i, T0 + timedelta(hours=2 * i), g) for i, g in enumerate(["5", "4", "2"])]
    assert check_plan(plan, before, UTC_TZ) == []
    # The same day, after approval: one 2 g dose 8 h after the last one is within every limit.
    after = dose(9, APPROVED + timedelta(hours=1), "2")
    assert check_plan(plan, [*before, after], UTC_TZ) == []


def test_a_deviation_after_approval_names_only_the_doses_under_the_plan() -> None:
    plan = PlanLimits(2, max_single_dose_g=Decimal("3"), starts_at=APPROVED)
    early = dose(1, APPROVED - timedelta(minutes=1), "5")
    late = dose(2, APPROVED, "5")  # from the instant of approval on
    findings = check_plan(plan, [early, late], UTC_TZ)
    assert codes(findings) == ["plan.single_dose_exceeded"]
    assert [t["id"] for t in findings[0].triggers] == ["d2"]


def test_the_interval_before_approval_and_unknown_amounts_before_it_are_not_held_against_it() -> (
    None
):
    plan = PlanLimits(2, max_single_dose_g=Decimal("3"), min_hours_between=Decimal("4"),
                      starts_at=APPROVED)  # fmt: skip
    doses = [
        dose(1, APPROVED - timedelta(hours=3), None),
        dose(2, APPROVED + timedelta(hours=1), "2"),
    ]
    assert check_plan(plan, doses, UTC_TZ) == []


def test_the_weekly_increase_compares_two_weeks_under_the_plan() -> None:
    plan = PlanLimits(2, max_weekly_increase_pct=Decimal("10"), starts_at=T0 + timedelta(days=7))
    doses = [dose(i, T0 + timedelta(days=i), "2" if i < 7 else "4") for i in range(14)]
    assert check_plan(plan, doses, UTC_TZ) == []
    assert codes(
        check_plan(PlanLimits(1, max_weekly_increase_pct=Decimal("10")), doses, UTC_TZ)
    ) == ["plan.weekly_increase_exceeded"]


def week(first: date) -> list[date]:
    return [first + timedelta(days=i) for i in range(7)]


def test_adherence_counts_days_within_over_and_unchecked_by_the_same_rules() -> None:
    plan = PlanLimits(2, Decimal("3"), Decimal("6"), 3, Decimal("4"))
    monday = date(2026, 11, 2)
    doses = [
        dose(1, T0, "3"),  # Monday: within
        dose(2, T0 + timedelta(days=1), "4"),  # Tuesday: one dose over the single limit
        dose(3, T0 + timedelta(days=1, hours=5), "1.5"),  # 5.5 g: the total is within
        dose(4, T0 + timedelta(days=2), "3"),  # Wednesday: 3 + 3 + 1 = 7 g, daily total over
        dose(5, T0 + timedelta(days=2, hours=4), "3"),
        dose(6, T0 + timedelta(days=2, hours=8), "1"),
        dose(7, T0 + timedelta(days=3), None),  # Thursday: amount unknown
        dose(8, T0 + timedelta(days=9), "9"),  # outside the week: not counted
    ]
    logged = [monday + timedelta(days=4)]  # Friday: a check-in with no dose
    result = adherence(plan, doses, UTC_TZ, week(monday), logged)
    assert result.days == 7
    assert result.days_logged == 5
    assert result.days_within == 2  # Monday and Friday
    assert result.days_over == 2 and result.days_unchecked == 1
    assert result.doses_over_single == 1 and result.days_over_daily == 1
    assert result.unchecked_doses == 1


def test_adherence_leaves_out_days_and_doses_before_the_plan() -> None:
    approved = T0 + timedelta(days=2, hours=2)  # Wednesday 10:00
    plan = PlanLimits(1, max_single_dose_g=Decimal("2"), starts_at=approved)
    doses = [dose(1, T0, "9"), dose(2, T0 + timedelta(days=2), "9"), dose(3, approved, "1")]
    result = adherence(plan, doses, UTC_TZ, week(date(2026, 11, 2)), [date(2026, 11, 2)])
    assert result.days == 5  # Wednesday to Sunday
    assert result.days_logged == 1 and result.days_within == 1
    assert result.doses_over_single == 0
