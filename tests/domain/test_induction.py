"""The buprenorphine transition checklist and the induction monitoring, from facts alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from kratomwatch.domain.induction import (
    COWS_FRESH_HOURS,
    BuprenorphineDose,
    CowsScore,
    InductionRecord,
    Level,
    MedicationFacts,
    Observation,
    ReadinessFacts,
    Status,
    cows_rise_after_dose,
    hours_between,
    kratom_after_first_dose,
    readiness,
    sedated,
)
from kratomwatch.domain.safety import Medication, Snapshot, screen

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def facts(**overrides: object) -> ReadinessFacts:
    values: dict[str, object] = {
        "now": NOW,
        "last_kratom_dose_at": NOW - timedelta(hours=10),
        "min_hours_since_kratom": Decimal(8),
        "cows_threshold": 8,
        "cows": (CowsScore(NOW - timedelta(minutes=30), 9),),
    }
    values.update(overrides)
    return ReadinessFacts(**values)  # type: ignore[arg-type]


def test_all_requirements_met_with_the_facts_shown() -> None:
    result = readiness(facts())
    assert result.requirements_met
    time = result.item("time_since_kratom")
    assert time.status is Status.MET
    assert time.facts["hours"] == Decimal(10)
    assert time.facts["last_dose_at"] == NOW - timedelta(hours=10)
    cows = result.item("objective_withdrawal")
    assert cows.status is Status.MET and cows.facts["score"] == 9


@pytest.mark.parametrize(
    "hours_ago, status",
    [(8, Status.MET), (Decimal("7.9"), Status.NOT_MET), (Decimal("8.1"), Status.MET)],
)
def test_time_since_the_last_kratom_dose_boundary(hours_ago: object, status: Status) -> None:
    last = NOW - timedelta(hours=float(hours_ago))  # type: ignore[arg-type]
    item = readiness(facts(last_kratom_dose_at=last)).item("time_since_kratom")
    assert item.status is status


def test_no_kratom_dose_recorded_is_unknown_not_met() -> None:
    result = readiness(facts(last_kratom_dose_at=None))
    assert result.item("time_since_kratom").status is Status.UNKNOWN
    assert not result.requirements_met


def test_the_clinicians_own_hours_apply() -> None:
    item = readiness(facts(min_hours_since_kratom=Decimal(12))).item("time_since_kratom")
    assert item.status is Status.NOT_MET and item.facts["min_hours"] == 12


@pytest.mark.parametrize("total, status", [(8, Status.MET), (7, Status.NOT_MET), (12, Status.MET)])
def test_cows_threshold_boundary(total: int, status: Status) -> None:
    cows = (CowsScore(NOW - timedelta(minutes=5), total),)
    assert readiness(facts(cows=cows)).item("objective_withdrawal").status is status


def test_the_clinicians_cows_threshold_applies() -> None:
    item = readiness(facts(cows_threshold=12)).item("objective_withdrawal")
    assert item.status is Status.NOT_MET and item.facts["threshold"] == 12


def test_a_cows_before_the_last_kratom_dose_does_not_count() -> None:
    cows = (CowsScore(NOW - timedelta(hours=11), 15),)
    item = readiness(facts(cows=cows)).item("objective_withdrawal")
    assert item.status is Status.UNKNOWN
    assert item.facts["older_score"] == 15


def test_a_stale_cows_does_not_count_and_the_newest_is_used() -> None:
    stale = CowsScore(NOW - timedelta(hours=COWS_FRESH_HOURS, minutes=1), 15)
    fresh = CowsScore(NOW - timedelta(hours=COWS_FRESH_HOURS), 15)
    assert (
        readiness(facts(cows=(stale,), last_kratom_dose_at=None))
        .item("objective_withdrawal")
        .status
        is Status.UNKNOWN
    )
    item = readiness(facts(cows=(fresh,), last_kratom_dose_at=None)).item("objective_withdrawal")
    assert item.status is Status.MET
    newer = CowsScore(NOW - timedelta(minutes=1), 4)
    item = readiness(facts(cows=(fresh, newer), last_kratom_dose_at=None)).item(
        "objective_withdrawal"
    )
    assert item.status is Status.NOT_MET and item.facts["score"] == 4


def test_naltrexone_blocks_but_naloxone_does_not() -> None:
    naltrexone = MedicationFacts("Vivitrol 380 mg", frozenset({"naltrexone"}))
    naloxone = MedicationFacts("Narcan nasal spray", frozenset({"naloxone"}))
    result = readiness(facts(medications=(naltrexone, naloxone)))
    item = result.item("no_antagonist")
    assert item.status is Status.NOT_MET and item.facts["entries"] == ["Vivitrol 380 mg"]
    assert not result.requirements_met
    assert readiness(facts(medications=(naloxone,))).item("no_antagonist").status is Status.MET


def test_other_depressants_warn_without_blocking() -> None:
    meds = (
        MedicationFacts("Xanax 1 mg", frozenset({"alprazolam"}), frozenset({"benzodiazepine"})),
        MedicationFacts("Lyrica", frozenset({"pregabalin"}), frozenset({"gabapentinoid"})),
        MedicationFacts("metformin", frozenset({"metformin"}), frozenset()),
    )
    result = readiness(facts(medications=meds))
    item = result.item("other_depressants")
    assert item.level is Level.WARNING and item.status is Status.NOT_MET
    assert item.facts["entries"] == ["Xanax 1 mg", "Lyrica"]
    assert result.requirements_met
    assert readiness(facts()).item("other_depressants").status is Status.MET


def test_pregnancy_is_a_note() -> None:
    item = readiness(facts(pregnant=True)).item("pregnancy")
    assert item.level is Level.NOTE and item.status is Status.NOT_MET
    assert readiness(facts(pregnant=True)).requirements_met


def test_hours_are_rounded_down_to_tenths() -> None:
    assert hours_between(NOW - timedelta(minutes=59), NOW) == Decimal("0.9")


# ------------------------------------------------------------------ during the induction

FIRST = NOW - timedelta(hours=5)


def record(
    *observations: Observation, doses: tuple[BuprenorphineDose, ...] = ()
) -> InductionRecord:
    return InductionRecord(
        NOW - timedelta(days=1), doses or (BuprenorphineDose(FIRST, Decimal(2)),), observations
    )


@pytest.mark.parametrize("after, fires", [(16, True), (15, False), (20, True)])
def test_cows_rise_boundary(after: int, fires: bool) -> None:
    rec = record(
        Observation(FIRST - timedelta(minutes=30), cows=10),
        Observation(FIRST + timedelta(hours=1), cows=after),
    )
    found = cows_rise_after_dose(rec, min_rise=6, within_hours=6, before_hours=24)
    assert (found is not None) is fires
    if found:
        assert found.before.total == 10 and found.after.total == after
        assert found.dose.at == FIRST


def test_cows_rise_needs_a_score_before_the_dose_and_within_the_window() -> None:
    late = record(
        Observation(FIRST - timedelta(minutes=30), cows=10),
        Observation(FIRST + timedelta(hours=6, minutes=1), cows=20),
    )
    assert cows_rise_after_dose(late, min_rise=6, within_hours=6, before_hours=24) is None
    no_baseline = record(Observation(FIRST + timedelta(hours=1), cows=20))
    assert cows_rise_after_dose(no_baseline, min_rise=6, within_hours=6, before_hours=24) is None
    old_baseline = record(
        Observation(FIRST - timedelta(hours=25), cows=10),
        Observation(FIRST + timedelta(hours=1), cows=20),
    )
    assert cows_rise_after_dose(old_baseline, min_rise=6, within_hours=6, before_hours=24) is None


def test_cows_falling_after_the_dose_does_not_fire() -> None:
    rec = record(
        Observation(FIRST - timedelta(minutes=30), cows=14),
        Observation(FIRST + timedelta(hours=1), cows=5),
    )
    assert cows_rise_after_dose(rec, min_rise=6, within_hours=6, before_hours=24) is None


def test_questionnaire_cows_counts_as_the_score_before() -> None:
    rec = InductionRecord(
        NOW - timedelta(days=1),
        (BuprenorphineDose(FIRST, Decimal(2)),),
        (Observation(FIRST + timedelta(hours=2), cows=18),),
        (CowsScore(FIRST - timedelta(hours=1), 9),),
    )
    found = cows_rise_after_dose(rec, min_rise=6, within_hours=6, before_hours=24)
    assert found is not None and found.rise == 9


def test_sedation_boundary() -> None:
    rec = record(
        Observation(FIRST + timedelta(hours=1), sedation=2),
        Observation(FIRST + timedelta(hours=2), sedation=3),
    )
    assert [o.sedation for o in sedated(rec, min_level=3)] == [3]
    assert sedated(rec, min_level=4) == []


def test_kratom_after_the_first_dose_only() -> None:
    rec = record()
    before, after = FIRST - timedelta(minutes=1), FIRST + timedelta(minutes=1)
    assert kratom_after_first_dose(rec, [before, after]) == [after]
    assert kratom_after_first_dose(rec, [FIRST]) == []
    no_dose = InductionRecord(NOW - timedelta(days=1))
    assert kratom_after_first_dose(no_dose, [after]) == []


def test_rules_fire_only_with_an_active_induction() -> None:
    meds = (Medication("clonazepam 0.5 mg"),)
    codes = {f.code for f in screen(Snapshot(as_of=NOW, medications=meds)).findings}
    assert "dependence.induction_depressants" not in codes
    active = Snapshot(as_of=NOW, medications=meds, induction=record())
    finding = next(
        f for f in screen(active).findings if f.code == "dependence.induction_depressants"
    )
    assert "buprenorphine transition" in finding.rationale


def test_precipitated_withdrawal_finding_names_the_scores_and_the_dose() -> None:
    rec = record(
        Observation(FIRST - timedelta(minutes=30), cows=9),
        Observation(FIRST + timedelta(hours=1), cows=17),
    )
    finding = next(
        f
        for f in screen(Snapshot(as_of=NOW, induction=rec)).findings
        if f.code == "dependence.induction_precipitated"
    )
    assert finding.severity.value == "high"
    assert "from 9" in finding.rationale and "to 17" in finding.rationale
    assert "2 mg" in finding.rationale
    assert "dunn2023" in finding.references
    assert finding.cause_times() == (FIRST + timedelta(hours=1), FIRST + timedelta(hours=1))
