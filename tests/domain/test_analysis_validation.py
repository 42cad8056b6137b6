"""Statistical validation by simulation: series with a known effect, trend and AR(1) errors.

Every simulation is seeded, so the figures are reproducible; they are the ones quoted in
docs/analysis.md ("Validation"). The 90% credible interval should cover the true value in
about 90% of replications (85-95% allowing for Monte Carlo error with 200 replications).
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from kratomwatch.domain.analysis import (
    DayRecord,
    TrialObservation,
    analyse_dose_response,
    analyse_trial,
    design_trial,
)

START = date(2026, 1, 1)
REPS = 200


def ar1(rng: np.random.Generator, reps: int, n: int, rho: float, sigma: float) -> np.ndarray:
    """Stationary AR(1) errors with marginal SD sigma, one series per row."""
    e = np.empty((reps, n))
    e[:, 0] = rng.standard_normal(reps) * sigma
    innov = rng.standard_normal((reps, n)) * sigma * np.sqrt(1 - rho**2)
    for i in range(1, n):
        e[:, i] = rho * e[:, i - 1] + innov[:, i]
    return e


def diaries(
    seed: int,
    reps: int = REPS,
    n: int = 90,
    same: float = -0.4,
    prev: float = -0.2,
    trend: float = 0.3,
    rho: float = 0.5,
    sigma: float = 1.0,
    keep: float = 1.0,
) -> list[list[DayRecord]]:
    """``reps`` diaries with ``n`` usable days (one extra first day supplies the lag).
    Dose ~ 4 + 1.5 N(0, 1) g (>= 0); pain = 6 + trend/30 d + same * dose + prev * lagged
    dose (centred at 4 g) + AR(1). ``keep`` < 1 drops pain on random days (gaps)."""
    rng = np.random.default_rng(seed)
    m = n + 1
    dose = np.clip(4 + 1.5 * rng.standard_normal((reps, m)), 0, None).round(2)
    lag = np.concatenate([np.full((reps, 1), 4.0), dose[:, :-1]], axis=1)
    t = np.arange(m)
    mu = 6 + trend * (t - t.mean()) / 30 + same * (dose - 4) + prev * (lag - 4)
    pain = np.clip(mu + ar1(rng, reps, m, rho, sigma), 0, 10)
    present = rng.random((reps, m)) < keep
    return [
        [
            DayRecord(
                START + timedelta(days=i),
                float(pain[r, i]) if present[r, i] else None,
                float(dose[r, i]),
            )
            for i in range(m)
        ]
        for r in range(reps)
    ]


def test_dose_response_coverage_bias_and_rho_recovery_at_n90() -> None:
    truth = -0.6  # sustained effect per g: same day -0.4, previous day -0.2
    results = [analyse_dose_response(d) for d in diaries(seed=20261124)]
    assert all(r.sufficient and r.n_days == 90 for r in results)
    means = np.array([r.effect.mean for r in results if r.effect])
    lo = np.array([r.effect.ci90[0] for r in results if r.effect])
    hi = np.array([r.effect.ci90[1] for r in results if r.effect])
    coverage = float(np.mean((lo <= truth) & (truth <= hi)))
    assert 0.85 <= coverage <= 0.95, coverage
    # unbiased within Monte Carlo error plus the slight shrinkage of the prior
    assert abs(means.mean() - truth) < 0.03, means.mean()
    # the interval width matches the spread of the estimates (calibrated, not just wide)
    assert np.median(hi - lo) / (2 * 1.645) == pytest.approx(means.std(), rel=0.2)
    rho = np.array([r.ar1.mean for r in results if r.ar1])
    assert abs(rho.mean() - 0.5) < 0.08, rho.mean()
    rho_cover = np.mean([r.ar1.ci90[0] <= 0.5 <= r.ar1.ci90[1] for r in results if r.ar1])
    assert 0.80 <= rho_cover <= 0.97, rho_cover
    same = np.mean([r.effect_same_day.mean for r in results if r.effect_same_day])
    assert abs(same - (-0.4)) < 0.03
    trend = np.array([r.trend_per_30_days.mean for r in results if r.trend_per_30_days])
    assert abs(trend.mean() - 0.3) < 0.06
    # a true benefit of 0.6 per g over a typical range of ~3.8 g is ~2.3 points
    assert np.median([r.prob_benefit_points for r in results]) > 0.95


def test_with_zero_effect_benefit_is_improbable_and_coverage_holds() -> None:
    results = [analyse_dose_response(d) for d in diaries(seed=7, same=0.0, prev=0.0)]
    p = np.array([r.prob_benefit_points for r in results], dtype=float)
    assert np.median(p) < 0.01 and np.mean(p > 0.5) <= 0.02
    q = np.array([r.prob_benefit_fraction for r in results], dtype=float)
    assert np.median(q) < 0.01
    coverage = np.mean([r.effect.ci90[0] <= 0 <= r.effect.ci90[1] for r in results if r.effect])
    assert 0.85 <= coverage <= 0.95, coverage
    assert sum(r.plateau is not None for r in results) <= 0.02 * REPS


def test_coverage_holds_with_missing_days_and_strong_autocorrelation() -> None:
    results = [
        analyse_dose_response(d)
        for d in diaries(seed=99, reps=120, n=120, rho=0.8, keep=0.75, sigma=1.2)
    ]
    ok = [r for r in results if r.effect]
    assert len(ok) == 120 and min(r.n_days for r in ok) >= 70
    coverage = np.mean([r.effect.ci90[0] <= -0.6 <= r.effect.ci90[1] for r in ok])
    assert 0.85 <= coverage <= 0.96, coverage
    assert abs(np.mean([r.ar1.mean for r in ok if r.ar1]) - 0.8) < 0.08


def _shaped(seed: int, reps: int, n: int, curve: object) -> list[list[DayRecord]]:
    rng = np.random.default_rng(seed)
    dose = rng.uniform(0, 8, (reps, n + 1)).round(2)
    pain = np.clip(curve(dose) + ar1(rng, reps, n + 1, 0.3, 1.0), 0, 10)  # type: ignore[operator]
    return [
        [
            DayRecord(START + timedelta(days=i), float(pain[r, i]), float(dose[r, i]))
            for i in range(n + 1)
        ]
        for r in range(reps)
    ]


def test_no_plateau_is_reported_for_a_linear_response() -> None:
    results = [analyse_dose_response(d) for d in _shaped(3, 40, 180, lambda d: 7 - 0.4 * d)]
    assert sum(r.plateau is not None for r in results) <= 2
    assert all(r.comparison and r.comparison.log_bf_linear_vs_none for r in results)


def test_a_clear_plateau_is_found_near_the_true_breakpoint() -> None:
    results = [
        analyse_dose_response(d)
        for d in _shaped(4, 30, 180, lambda d: 8 - 1.0 * np.minimum(d, 4.0))
    ]
    found = [r.plateau for r in results if r.plateau is not None]
    assert len(found) >= 0.4 * len(results)  # 15 of 30 with this seed
    assert abs(float(np.median(found)) - 4.0) < 0.5
    assert all(r.comparison and r.comparison.selected != "linear" for r in results if r.plateau)


def test_an_emax_plateau_is_found_near_its_90_percent_point() -> None:
    """Pain = 8 - 4 d / (d + 0.3): 90% of the maximum benefit is reached at 2.7 g."""
    results = [
        analyse_dose_response(d) for d in _shaped(6, 30, 180, lambda d: 8 - 4.0 * d / (d + 0.3))
    ]
    found = [r.plateau for r in results if r.plateau is not None]
    assert len(found) >= 0.7 * len(results)
    assert abs(float(np.median(found)) - 2.7) < 0.6


def test_insufficient_data_below_the_minimum() -> None:
    short = diaries(seed=1, reps=1, n=27)[0]
    result = analyse_dose_response(short)
    assert not result.sufficient and result.n_days == 27 and result.effect is None
    assert any("Insufficient data" in n and "28" in n for n in result.notes)
    enough = diaries(seed=1, reps=1, n=28)[0]
    assert analyse_dose_response(enough).sufficient


def test_trial_analysis_recovers_a_known_difference_with_calibrated_intervals() -> None:
    """B lowers pain by 1.5 points; 3 pairs of 14-day periods, 2 washout days, AR(0.5)."""
    truth = -1.5
    rng = np.random.default_rng(2026)
    covered, means, p_b = 0, [], []
    for rep in range(REPS):
        schedule = design_trial("usual", "alternative", 14, 3, 2, START, seed=rep)
        days = schedule.days()
        e = ar1(rng, 1, len(days), 0.5, 1.0)[0]
        t = np.arange(len(days))
        obs = [
            TrialObservation(
                d.day,
                float(np.clip(6 + 0.2 * t[i] / 30 + (truth if d.arm == "B" else 0) + e[i], 0, 10)),
            )
            for i, d in enumerate(days)
        ]
        r = analyse_trial(schedule, obs)
        assert r.difference is not None and r.prob_b_better is not None
        covered += r.difference.ci90[0] <= truth <= r.difference.ci90[1]
        means.append(r.difference.mean)
        p_b.append(r.prob_b_better)
    assert 0.85 <= covered / REPS <= 0.95, covered / REPS
    assert abs(float(np.mean(means)) - truth) < 0.05
    assert np.median(p_b) > 0.8


def test_trial_with_no_true_difference_favours_no_important_difference() -> None:
    rng = np.random.default_rng(5)
    none, a_wins, b_wins = [], 0, 0
    for rep in range(100):
        schedule = design_trial("usual", "alternative", 14, 4, 0, START, seed=rep)
        days = schedule.days()
        e = ar1(rng, 1, len(days), 0.4, 1.0)[0]
        obs = [TrialObservation(d.day, float(np.clip(6 + e[i], 0, 10))) for i, d in enumerate(days)]
        r = analyse_trial(schedule, obs)
        assert r.prob_no_important_difference is not None
        none.append(r.prob_no_important_difference)
        a_wins += (r.prob_a_better or 0) > 0.8
        b_wins += (r.prob_b_better or 0) > 0.8
    assert np.median(none) > 0.8
    assert a_wins + b_wins <= 2
