"""The dose-response model against reference implementations (docs/analysis.md, "Reference fits").

- statsmodels' GLSAR (feasible GLS with AR(1) errors, iterated Yule-Walker estimate of rho) on
  seeded simulated diaries of 90 and 365 days: our posterior mean effect and rho, and the
  width of the 90% interval, agree with GLSAR's within the tolerances stated below.
- PyMC's NUTS with the same likelihood and priors (optional: only with PyMC installed, which
  is not a project dependency, and ``KRATOMWATCH_SLOW`` set): posterior means agree within
  0.1 posterior SD.
"""

from __future__ import annotations

import importlib.util
import os
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from scipy import stats
from statsmodels.regression.linear_model import GLSAR

from kratomwatch.domain.analysis import DayRecord, analyse_dose_response

START = date(2026, 1, 1)
BENCH = Path(__file__).resolve().parents[2] / "bench"
RHOS = (0.2, 0.5, 0.8)
SEEDS = range(10)

#: Tolerances, per diary length (reasoning in docs/analysis.md, "Reference fits"):
#: |our posterior mean effect - GLSAR's estimate| in GLSAR standard errors, for every diary
#: and as the median over diaries; |our posterior mean rho - GLSAR's rho|; and the ratio of
#: our 90% credible interval's width to GLSAR's 90% confidence interval's width.
TOLERANCES: dict[int, dict[str, Any]] = {
    90: {"effect_se": 0.75, "effect_se_median": 0.1, "rho": 0.08, "width": (0.90, 1.10)},
    365: {"effect_se": 0.25, "effect_se_median": 0.05, "rho": 0.03, "width": (0.95, 1.05)},
}


def simulate(seed: int, n: int, rho: float) -> list[DayRecord]:
    """``n`` usable days (plus a first day that supplies the lag), every day recorded (GLSAR
    has no notion of gaps). Dose ~ 4 + 1.5 N(0, 1) g (>= 0); pain = 6 + 0.3 per 30 days
    - 0.4 per g that day - 0.2 per g the day before + stationary AR(1) errors (SD 1),
    clipped to 0-10."""
    rng = np.random.default_rng(seed)
    m = n + 1
    dose = np.clip(4 + 1.5 * rng.standard_normal(m), 0, None).round(2)
    lag = np.concatenate([[4.0], dose[:-1]])
    t = np.arange(m)
    e = np.empty(m)
    e[0] = rng.standard_normal()
    innov = rng.standard_normal(m) * np.sqrt(1 - rho**2)
    for i in range(1, m):
        e[i] = rho * e[i - 1] + innov[i]
    pain = np.clip(6 + 0.3 * (t - t.mean()) / 30 - 0.4 * (dose - 4) - 0.2 * (lag - 4) + e, 0, 10)
    return [DayRecord(START + timedelta(days=i), float(pain[i]), float(dose[i])) for i in range(m)]


def glsar(days: list[DayRecord]) -> dict[str, float]:
    """GLSAR on the design analyse_dose_response() uses: intercept, trend per 30 days
    (centred), dose and previous day's dose (centred at the mean dose of usable days)."""
    y = np.array([d.pain for d in days[1:]], dtype=float)
    dose = np.array([d.dose for d in days[1:]], dtype=float)
    prev = np.array([d.dose for d in days[:-1]], dtype=float)
    t = np.arange(y.size, dtype=float)
    X = np.column_stack(
        [np.ones_like(y), (t - t.mean()) / 30, dose - dose.mean(), prev - dose.mean()]
    )
    res = GLSAR(y, X, rho=1).iterative_fit(maxiter=100, rtol=1e-8)
    assert res.converged
    c = np.array([0.0, 0.0, 1.0, 1.0])
    se = float(np.sqrt(c @ res.cov_params() @ c))
    return {
        "effect": float(c @ res.params),
        "se": se,
        "width": 2 * float(stats.t.ppf(0.95, res.df_resid)) * se,
        "rho": float(res.model.rho[0]),
    }


def comparisons(n: int) -> dict[str, np.ndarray]:
    diff_se, diff_rho, width = [], [], []
    for rho in RHOS:
        for seed in SEEDS:
            days = simulate(10_000 * n + 100 * round(10 * rho) + seed, n, rho)
            ours = analyse_dose_response(days, assess_plateau=False)
            ref = glsar(days)
            assert ours.n_days == n and ours.effect is not None and ours.ar1 is not None
            diff_se.append((ours.effect.mean - ref["effect"]) / ref["se"])
            diff_rho.append(ours.ar1.mean - ref["rho"])
            width.append((ours.effect.ci90[1] - ours.effect.ci90[0]) / ref["width"])
    return {"effect_se": np.array(diff_se), "rho": np.array(diff_rho), "width": np.array(width)}


@pytest.mark.parametrize("n", [90, 365])
def test_effect_rho_and_interval_width_agree_with_statsmodels_glsar(n: int) -> None:
    tol = TOLERANCES[n]
    got = comparisons(n)
    assert got["effect_se"].size == len(RHOS) * len(SEEDS)
    assert np.max(np.abs(got["effect_se"])) <= tol["effect_se"], got["effect_se"]
    assert np.median(np.abs(got["effect_se"])) <= tol["effect_se_median"]
    assert np.max(np.abs(got["rho"])) <= tol["rho"], got["rho"]
    lo, hi = tol["width"]
    assert lo <= np.min(got["width"]) and np.max(got["width"]) <= hi, got["width"]


def load_bench(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(
    not os.environ.get("KRATOMWATCH_SLOW"), reason="slow (PyMC NUTS): set KRATOMWATCH_SLOW=1"
)
def test_pymc_nuts_posterior_means_agree_with_the_closed_form() -> None:
    pytest.importorskip("pymc")
    figures = load_bench("analysis_pymc").compare(
        days=365, draws=1000, tune=1000, chains=2, cores=1, seed=2026, runs=5
    )
    assert figures["divergences"] == 0
    for name, q in figures["quantities"].items():
        assert q["r_hat"] < 1.01, name
        assert abs(q["diff_in_sd"]) <= 0.1, (name, q)
