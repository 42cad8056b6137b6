"""Observational dose-response: inputs, minimum data, labelling and side effects."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from kratomwatch.domain.analysis import (
    MIN_DAYS,
    DayRecord,
    DiaryError,
    DoseUnit,
    analyse_diary,
    analyse_dose_response,
    analyse_side_effects,
)
from kratomwatch.domain.analysis.dose_response import ASSOCIATION_NOTE

START = date(2026, 3, 1)


def diary(n: int = 60, seed: int = 0, effect: float = -0.5, **extra: object) -> list[DayRecord]:
    rng = np.random.default_rng(seed)
    dose = np.clip(4 + 1.5 * rng.standard_normal(n), 0, None).round(1)
    pain = np.clip(6 + effect * (dose - 4) + rng.normal(0, 0.8, n), 0, 10).round(1)
    return [
        DayRecord(START + timedelta(days=i), float(pain[i]), float(dose[i]), **extra)  # type: ignore[arg-type]
        for i in range(n)
    ]


def test_a_sufficient_analysis_reports_everything_with_its_labels() -> None:
    r = analyse_dose_response(diary())
    assert r.sufficient and r.n_days == 59  # the first day has no previous-day dose
    assert r.window == (START + timedelta(days=1), START + timedelta(days=59))
    assert r.effect and r.effect.ci90[0] < r.effect.mean < r.effect.ci90[1] < 0
    assert r.ar1 and r.trend_per_30_days and r.effect_same_day and r.effect_previous_day
    assert r.typical_dose and r.typical_dose[0] < r.typical_dose[1]
    assert 0 <= (r.prob_benefit_points or 0) <= 1 and 0 <= (r.prob_benefit_fraction or 0) <= 1
    assert r.notes[0] == ASSOCIATION_NOTE and "not causation" in r.notes[0]
    assert "n = 59 days (2026-03-02 to 2026-04-29)" in r.notes[1]
    assert any("does not recommend any dose" in n for n in r.notes)
    data = r.to_dict()
    assert data["effect"]["ci90"][0] < data["effect"]["mean"]
    assert data["plateau"] is None and data["model_comparison"]["selected"] == "linear"


def test_fewer_than_the_minimum_days_is_insufficient_and_says_so() -> None:
    r = analyse_dose_response(diary(MIN_DAYS))  # 28 records give 27 usable days
    assert not r.sufficient and r.n_days == MIN_DAYS - 1
    assert r.effect is None and r.prob_benefit_points is None and r.plateau is None
    assert any("Insufficient data" in n and f"at least {MIN_DAYS}" in n for n in r.notes)
    assert ASSOCIATION_NOTE in r.notes and any(n.startswith("n = 27 days") for n in r.notes)
    assert r.to_dict()["effect"] == {"mean": None, "ci90": None}
    assert analyse_dose_response(diary(MIN_DAYS + 1)).sufficient


def test_too_little_dose_variation_is_insufficient() -> None:
    days = [
        DayRecord(START + timedelta(days=i), 5.0 + (i % 3) * 0.5, 4.0 + (i % 2) * 0.2)
        for i in range(60)
    ]
    r = analyse_dose_response(days)
    assert not r.sufficient and r.n_days == 59
    assert any("too little dose variation" in n for n in r.notes)


def test_doses_alternating_between_days_do_not_identify_a_sustained_effect() -> None:
    """2 g and 6 g on alternate days: today's plus yesterday's dose is always 8 g, so the
    data say nothing about a sustained difference; the result says so instead of
    repeating the prior."""
    rng = np.random.default_rng(0)
    days = [
        DayRecord(START + timedelta(days=i), float(rng.integers(3, 8)), 2.0 if i % 2 else 6.0)
        for i in range(60)
    ]
    r = analyse_dose_response(days)
    assert not r.sufficient and r.effect is None and r.prob_benefit_points is None
    assert any("does not separate an association with dose" in n for n in r.notes)


def test_an_empty_diary_is_insufficient_not_an_error() -> None:
    r = analyse_dose_response([])
    assert not r.sufficient and r.n_days == 0 and r.window is None
    assert any("the diary is empty" in n for n in r.notes)


def test_usable_days_need_pain_and_both_days_doses() -> None:
    days = diary(60)
    days[10] = DayRecord(days[10].day, days[10].pain, None)  # no dose: days 10 and 11 lost
    days[20] = DayRecord(days[20].day, None, days[20].dose)  # no pain: day 20 lost
    r = analyse_dose_response(days)
    assert r.n_days == 59 - 3


def test_gaps_in_the_diary_are_allowed() -> None:
    days = [d for i, d in enumerate(diary(120)) if i % 7 not in (3, 4)]
    r = analyse_dose_response(days)
    assert r.sufficient and r.effect and r.effect.mean < 0


def test_invalid_records_are_rejected_with_their_position() -> None:
    days = diary(30)
    bad = [*days[:5], DayRecord(days[6].day, 11.0, 2.0), *days[5:]]
    with pytest.raises(DiaryError) as exc:
        analyse_dose_response(bad)
    assert exc.value.index == 5 and exc.value.field == "pain"
    with pytest.raises(DiaryError, match="dose"):
        analyse_dose_response([DayRecord(START, 3.0, -1.0)])
    with pytest.raises(DiaryError, match="already recorded"):
        analyse_dose_response([DayRecord(START, 3.0, 1.0), DayRecord(START, 4.0, 1.0)])
    with pytest.raises(DiaryError, match="interference"):
        analyse_dose_response([DayRecord(START, 3.0, 1.0, interference=float("nan"))])
    with pytest.raises(ValueError, match="outcome"):
        analyse_dose_response(days, outcome="mood")


def test_mitragynine_doses_give_the_effect_per_10_mg() -> None:
    """The same diary in mg mitragynine (15 mg/g leaf): per 10 mg = per g x 10/15."""
    days = diary(90, seed=4)
    mg = [DayRecord(d.day, d.pain, None if d.dose is None else d.dose * 15) for d in days]
    per_g = analyse_dose_response(days)
    per_10mg = analyse_dose_response(mg, dose_unit=DoseUnit.MITRAGYNINE_MG)
    assert per_g.effect and per_10mg.effect
    # not exactly proportional because the prior is per unit, but very close at n = 89
    assert per_10mg.effect.mean == pytest.approx(per_g.effect.mean * 10 / 15, rel=0.02)
    assert per_10mg.prob_benefit_points == pytest.approx(per_g.prob_benefit_points, abs=0.02)
    assert "10 mg mitragynine" in " ".join(per_10mg.notes)


def test_benefit_probabilities_follow_the_definition() -> None:
    """A large true benefit over the typical range: both probabilities near 1; none: near 0."""
    strong = analyse_dose_response(diary(120, seed=2, effect=-1.0))
    assert (strong.prob_benefit_points or 0) > 0.99
    assert (strong.prob_benefit_fraction or 0) > 0.9
    flat = analyse_dose_response(diary(120, seed=2, effect=0.0))
    assert (flat.prob_benefit_points or 1) < 0.05 and (flat.prob_benefit_fraction or 1) < 0.05
    assert flat.baseline == pytest.approx(6.0, abs=0.4)


def test_side_effects_by_dose_third_and_logistic_trend() -> None:
    rng = np.random.default_rng(8)
    days = []
    for i in range(120):
        dose = float(rng.uniform(1, 9))
        hit = bool(rng.random() < 1 / (1 + np.exp(-(dose - 6))))
        days.append(DayRecord(START + timedelta(days=i), None, dose, side_effect=hit))
    r = analyse_side_effects(days)
    assert r.sufficient and r.n_days == 120 and len(r.bands) == 3
    assert sum(b.n_days for b in r.bands) == 120
    assert r.bands[0].proportion < r.bands[2].proportion
    assert r.bands[0].dose_max <= r.bands[1].dose_min
    assert r.odds_ratio_per_unit and r.odds_ratio_per_unit.ci90[0] > 1
    assert (r.prob_increase or 0) > 0.99
    assert r.notes[0] == ASSOCIATION_NOTE
    flat = [DayRecord(d.day, None, d.dose, side_effect=False) for d in days]
    r2 = analyse_side_effects(flat)
    assert r2.sufficient and r2.odds_ratio_per_unit is None
    assert any("No trend estimated" in n for n in r2.notes)
    short = analyse_side_effects(days[:20])
    assert not short.sufficient and short.bands == ()


def test_analyse_diary_runs_what_is_recorded() -> None:
    only_pain = analyse_diary(diary(40))
    assert only_pain.interference is None and only_pain.side_effects is None
    full = analyse_diary(diary(40, interference=3.0, side_effect=False))
    assert full.interference is not None and full.side_effects is not None
    assert full.interference.outcome == "interference"
