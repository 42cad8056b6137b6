"""PyMC reference for the personal dose-response model: NUTS against the closed form.

Usage: python bench/analysis_pymc.py [--days 365] [--draws 1000] [--tune 1000] [--chains 4]
                                     [--cores 2] [--seed 1] [--runs 200] [--json OUT.json]

Needs PyMC, which is not a dependency of the project (install it by hand:
``.venv/bin/pip install pymc``). Fits the linear dose-response model of
``kratomwatch.domain.analysis`` to the seeded synthetic diary of ``bench/analysis.py``
(365 days by default) twice:

- in closed form, as ``analyse_dose_response()`` does (rho integrated over the 41-point grid);
- with PyMC's NUTS, with the same likelihood and priors:

      pain_i = b0 + b_trend (t_i - mean t)/30 + b_same (d_i - dbar) + b_prev (d_(i-1) - dbar) + e_i
      e_1 ~ N(0, sigma^2),  e_i | e_(i-1) ~ N(r e_(i-1), sigma^2 (1 - r^2)),
      r = rho^(t_i - t_(i-1))
      sigma^2 ~ InvGamma(1, 1)
      b0 | sigma ~ N(5, (10 sigma)^2);  b_trend, b_same, b_prev | sigma ~ N(0, sigma^2)
      rho ~ Uniform(-0.95, 0.95)   (the closed form uses 41 equally spaced points of it)

and reports the wall time of each, their ratio (target >= 100x), and for each coefficient,
the sustained effect (b_same + b_prev), rho and sigma^2 the difference of the posterior
means in units of the closed-form posterior SD (target: within 0.1), with NUTS's Monte
Carlo standard error in the same units, R-hat and effective sample size.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import math
import platform
import time
import warnings
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from kratomwatch.domain.analysis import DayRecord, Mixture, Prewhitened, analyse_dose_response
from kratomwatch.domain.analysis.dose_response import LINEAR_PRIOR

HERE = Path(__file__).resolve().parent

#: The coefficients compared, as contrasts of (b0, b_trend, b_same, b_prev).
CONTRASTS: dict[str, tuple[float, float, float, float]] = {
    "intercept": (1.0, 0.0, 0.0, 0.0),
    "trend_per_30_days": (0.0, 1.0, 0.0, 0.0),
    "same_day_per_g": (0.0, 0.0, 1.0, 0.0),
    "previous_day_per_g": (0.0, 0.0, 0.0, 1.0),
    "effect_per_g": (0.0, 0.0, 1.0, 1.0),
}


def bench_analysis() -> ModuleType:
    """``bench/analysis.py`` (the seeded synthetic diary and the timer)."""
    spec = importlib.util.spec_from_file_location("bench_analysis", HERE / "analysis.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def design(days: Sequence[DayRecord]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(y, X, t)`` exactly as ``analyse_dose_response()`` builds them for pain: usable days
    have pain, that day's dose and the previous calendar day's dose; X = [1, trend per 30
    days (centred), dose - dbar, previous dose - dbar] with dbar the mean dose of usable days."""
    ordered = sorted(days, key=lambda r: r.day)
    doses = {r.day: r.dose for r in ordered if r.dose is not None}
    rows = [
        (r.day, r.pain, r.dose, doses[r.day - timedelta(days=1)])
        for r in ordered
        if r.pain is not None and r.dose is not None and r.day - timedelta(days=1) in doses
    ]
    first = rows[0][0]
    t = np.array([(r[0] - first).days for r in rows], dtype=np.float64)
    y = np.array([r[1] for r in rows], dtype=np.float64)
    dose = np.array([r[2] for r in rows], dtype=np.float64)
    prev = np.array([r[3] for r in rows], dtype=np.float64)
    dbar = dose.mean()
    X = np.column_stack([np.ones_like(y), (t - t.mean()) / 30.0, dose - dbar, prev - dbar])
    return y, X, t


def closed_form(y: np.ndarray, X: np.ndarray, t: np.ndarray) -> Mixture:
    return Prewhitened(y, X, t.astype(np.int64)).fit([0, 1, 2, 3], LINEAR_PRIOR)


def closed_form_moments(fit: Mixture) -> dict[str, tuple[float, float]]:
    """Exact posterior mean and SD of each contrast, rho and sigma^2 under the closed form."""
    w = fit.weights[0]  # (G,)
    df = fit.df
    out: dict[str, tuple[float, float]] = {}
    for name, c in CONTRASTS.items():
        cv = np.asarray(c)
        loc = fit.mean[0] @ cv
        var = np.einsum("p,gpq,q->g", cv, fit.scale[0], cv) * df / (df - 2.0)  # Student-t
        mean = float(w @ loc)
        out[name] = (mean, math.sqrt(float(w @ (var + loc**2)) - mean**2))
    rho_mean = float(w @ fit.rho)
    out["rho"] = (rho_mean, math.sqrt(float(w @ fit.rho**2) - rho_mean**2))
    # sigma^2 | rho ~ InvGamma(a_n, b_n): mean b_n / (a_n - 1), variance mean^2 / (a_n - 2)
    a_n = df / 2.0
    m = fit.sigma2_mean[0]
    s2_mean = float(w @ m)
    s2_second = float(w @ (m**2 * (a_n - 1.0) / (a_n - 2.0)))
    out["sigma2"] = (s2_mean, math.sqrt(s2_second - s2_mean**2))
    return out


def pymc_model(y: np.ndarray, X: np.ndarray, t: np.ndarray) -> Any:
    """The closed-form model's likelihood and priors, written out for PyMC."""
    import pymc as pm
    import pytensor.tensor as pt

    m0 = np.asarray(LINEAR_PRIOR.mean)
    sd0 = np.sqrt(np.asarray(LINEAR_PRIOR.var))
    gaps = np.diff(t).astype(np.int64)
    with pm.Model() as model:
        sigma2 = pm.InverseGamma("sigma2", alpha=LINEAR_PRIOR.a0, beta=LINEAR_PRIOR.b0)
        sigma = pt.sqrt(sigma2)
        beta = pm.Normal("beta", mu=m0, sigma=sd0 * sigma, shape=X.shape[1])
        rho = pm.Uniform("rho", lower=-0.95, upper=0.95)
        pm.Deterministic("effect_per_g", beta[2] + beta[3])
        mu = pt.dot(X, beta)
        r = rho**gaps
        # stationary AR(1): the first error has the marginal variance, each later one is
        # normal given the previous (its exact conditional over a gap of k days)
        pm.Normal("y_first", mu=mu[0], sigma=sigma, observed=y[0])
        pm.Normal(
            "y_rest",
            mu=mu[1:] + r * (y[:-1] - mu[:-1]),
            sigma=sigma * pt.sqrt(1.0 - r**2),
            observed=y[1:],
        )
    return model


def _quiet() -> None:
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", message=".*BLAS.*")
    warnings.filterwarnings("ignore", message=".*PyTensor.*")
    for name in ("pymc", "pymc.sampling", "pytensor"):
        logging.getLogger(name).setLevel(logging.ERROR)


def compare(
    days: int = 365,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    cores: int = 2,
    seed: int = 1,
    runs: int = 200,
) -> dict[str, Any]:
    """Fit both ways on the seeded diary of ``days`` days and return the figures."""
    _quiet()
    import arviz as az
    import pymc as pm

    bench = bench_analysis()
    diary = bench.synthetic_diary(days)
    y, X, t = design(diary)
    fit = closed_form(y, X, t)
    # the design above is the one analyse_dose_response() uses
    result = analyse_dose_response(diary)
    assert result.effect is not None and result.n_days == y.size
    assert abs(fit.mean_of(CONTRASTS["effect_per_g"]) - result.effect.mean) < 1e-9
    ours = closed_form_moments(fit)

    model = pymc_model(y, X, t)
    start = time.perf_counter()
    idata = pm.sample(
        draws=draws,
        tune=tune,
        chains=chains,
        cores=cores,
        random_seed=seed,
        progressbar=False,
        compute_convergence_checks=False,
        model=model,
    )
    pymc_s = time.perf_counter() - start
    sampling_s = float(idata.posterior.attrs.get("sampling_time", float("nan")))
    divergences = int(idata.sample_stats["diverging"].values.sum())

    post = idata.posterior
    samples: dict[str, Any] = {
        "intercept": post["beta"].sel(beta_dim_0=0),
        "trend_per_30_days": post["beta"].sel(beta_dim_0=1),
        "same_day_per_g": post["beta"].sel(beta_dim_0=2),
        "previous_day_per_g": post["beta"].sel(beta_dim_0=3),
        "effect_per_g": post["effect_per_g"],
        "rho": post["rho"],
        "sigma2": post["sigma2"],
    }
    quantities: dict[str, dict[str, float]] = {}
    for name, draws_x in samples.items():
        mean, sd = ours[name]
        values = draws_x.values
        pymc_mean = float(values.mean())
        mcse = float(az.mcse(draws_x.to_dataset(name="x"))["x"])
        quantities[name] = {
            "closed_form_mean": mean,
            "closed_form_sd": sd,
            "pymc_mean": pymc_mean,
            "pymc_sd": float(values.std()),
            "diff_in_sd": (pymc_mean - mean) / sd,
            "mcse_in_sd": mcse / sd,
            "r_hat": float(az.rhat(draws_x.to_dataset(name="x"))["x"]),
            "ess_bulk": float(az.ess(draws_x.to_dataset(name="x"))["x"]),
        }

    full = bench.timed(lambda: analyse_dose_response(diary), runs)
    linear = bench.timed(
        lambda: closed_form(*design(diary)).summary(CONTRASTS["effect_per_g"]), runs
    )
    return {
        "benchmark": "PyMC NUTS reference for the dose-response model",
        "days": days,
        "usable_days": int(y.size),
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "cores": cores,
        "seed": seed,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pymc": pm.__version__,
        "machine": platform.machine(),
        "pymc_wall_s": round(pymc_s, 3),
        "pymc_sampling_s": round(sampling_s, 3),
        "divergences": divergences,
        "ours_full_median_ms": full["median_ms"],
        "ours_linear_median_ms": linear["median_ms"],
        "speed_ratio_full": round(pymc_s * 1000 / full["median_ms"]),
        "speed_ratio_linear": round(pymc_s * 1000 / linear["median_ms"]),
        "speed_ratio_sampling_only": round(sampling_s * 1000 / full["median_ms"]),
        "max_abs_diff_in_sd": max(abs(q["diff_in_sd"]) for q in quantities.values()),
        "quantities": quantities,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=200, help="timing runs of the closed form")
    parser.add_argument("--json", metavar="OUT.json")
    args = parser.parse_args()
    f = compare(args.days, args.draws, args.tune, args.chains, args.cores, args.seed, args.runs)
    print(
        f"{f['days']}-day diary ({f['usable_days']} usable days); NUTS {f['chains']} chains x "
        f"({f['tune']} tune + {f['draws']} draws) on {f['cores']} cores, seed {f['seed']}, "
        f"{f['divergences']} divergences"
    )
    print(
        f"PyMC pm.sample wall time {f['pymc_wall_s']:.2f} s "
        f"(of which sampling {f['pymc_sampling_s']:.2f} s)"
    )
    print(
        f"closed form: analyse_dose_response() median {f['ours_full_median_ms']} ms "
        f"(with the plateau comparison), linear model alone {f['ours_linear_median_ms']} ms"
    )
    print(
        f"speed ratio: {f['speed_ratio_full']}x (full analysis), "
        f"{f['speed_ratio_linear']}x (same model only), "
        f"{f['speed_ratio_sampling_only']}x (NUTS sampling time only, full analysis); "
        "target >= 100x"
    )
    print(
        f"{'quantity':<20} {'closed form':>18} {'PyMC NUTS':>18} {'diff/SD':>8} "
        f"{'MCSE/SD':>8} {'R-hat':>6} {'ESS':>6}"
    )
    for name, q in f["quantities"].items():
        print(
            f"{name:<20} {q['closed_form_mean']:>9.4f} ({q['closed_form_sd']:.4f})"
            f" {q['pymc_mean']:>9.4f} ({q['pymc_sd']:.4f}) {q['diff_in_sd']:>+8.3f}"
            f" {q['mcse_in_sd']:>8.3f} {q['r_hat']:>6.3f} {q['ess_bulk']:>6.0f}"
        )
    print(f"largest |difference| {f['max_abs_diff_in_sd']:.3f} posterior SD (target <= 0.1)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(f, fh, indent=2)


if __name__ == "__main__":
    main()
