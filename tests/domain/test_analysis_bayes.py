"""The closed-form AR(1) Bayesian regression, checked by hand-checkable cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from kratomwatch.domain.analysis.bayes import RHO_GRID, Prewhitened, Prior

WEAK = Prior(mean=(0.0, 0.0, 0.0), var=(1e10, 1e10, 1e10))


def design(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    X = np.column_stack([np.ones(n), (t - t.mean()) / 30, rng.uniform(0, 8, n)])
    y = X @ [6.0, 0.2, -0.4] + rng.normal(0, 1, n)
    return y, X, t


def test_rho_zero_and_a_very_weak_prior_give_exactly_least_squares() -> None:
    y, X, t = design(60)
    fit = Prewhitened(y, X, t, rho_grid=[0.0]).fit([0, 1, 2], WEAK)
    ols, rss, *_ = np.linalg.lstsq(X, y, rcond=None)
    np.testing.assert_allclose(fit.mean[0, 0], ols, rtol=0, atol=1e-7)
    # the posterior scale of each coefficient is the OLS standard error (with df = n + 2a0)
    s2 = (1.0 + 0.5 * float(rss[0])) / (1.0 + 60 / 2)
    se = np.sqrt(s2 * np.diag(np.linalg.inv(X.T @ X)))
    np.testing.assert_allclose(np.sqrt(np.diag(fit.scale[0, 0])), se, rtol=1e-6)
    # the 90% interval is the Student-t interval around the OLS estimate
    summary = fit.summary([0.0, 0.0, 1.0])
    q = stats.t.ppf(0.95, df=fit.df)
    assert summary.mean == pytest.approx(ols[2], abs=1e-7)
    assert summary.ci90[0] == pytest.approx(ols[2] - q * se[2], abs=1e-6)
    assert summary.ci90[1] == pytest.approx(ols[2] + q * se[2], abs=1e-6)


def test_the_transform_is_the_exact_ar1_transform_even_with_gaps() -> None:
    rng = np.random.default_rng(3)
    t = np.sort(rng.choice(120, 70, replace=False))
    X = np.column_stack([np.ones(70), rng.normal(size=70)])
    y = rng.normal(size=70)
    rho = 0.6
    Z = np.column_stack([X, y])
    Zt = Z.copy()
    for i in range(1, 70):
        r = rho ** (t[i] - t[i - 1])
        Zt[i] = (Z[i] - r * Z[i - 1]) / math.sqrt(1 - r * r)
    pw = Prewhitened(y, X, t, rho_grid=[rho])
    np.testing.assert_allclose(pw.gram[0], Zt[:, :2].T @ Zt[:, :2], atol=1e-9)
    np.testing.assert_allclose(pw.xty[0], Zt[:, :2].T @ Zt[:, 2], atol=1e-9)
    assert pw.yty[0] == pytest.approx(Zt[:, 2] @ Zt[:, 2])


@pytest.mark.parametrize("rho", [-0.5, 0.0, 0.35, 0.9])
def test_the_marginal_likelihood_is_the_exact_multivariate_t_density(rho: float) -> None:
    """p(y | rho) in closed form equals the dense-covariance density, gaps included:
    y ~ t_{2a0}(X m0, (b0/a0) (R + X V0 X'))."""
    rng = np.random.default_rng(11)
    t = np.sort(rng.choice(60, 40, replace=False))
    X = np.column_stack([np.ones(40), (t - t.mean()) / 30, rng.uniform(0, 6, 40)])
    y = X @ [5.0, 0.1, -0.3] + rng.normal(size=40)
    prior = Prior(mean=(5.0, 0.0, 0.0), var=(100.0, 1.0, 1.0), a0=2.0, b0=1.5)
    R = rho ** np.abs(t[:, None] - t[None, :]).astype(float)
    cov = (prior.b0 / prior.a0) * (R + X @ np.diag(prior.var) @ X.T)
    dense = stats.multivariate_t(loc=X @ prior.mean, shape=cov, df=2 * prior.a0).logpdf(y)
    fit = Prewhitened(y, X, t, rho_grid=[rho]).fit([0, 1, 2], prior)
    assert fit.log_ml_components[0, 0] == pytest.approx(dense, abs=1e-8)


def test_rho_is_integrated_by_its_marginal_likelihood() -> None:
    y, X, t = design(80)
    pw = Prewhitened(y, X, t)
    fit = pw.fit([0, 1, 2], Prior((5.0, 0.0, 0.0), (100.0, 1.0, 1.0)))
    assert fit.weights.shape == (1, RHO_GRID.size) and fit.weights.sum() == pytest.approx(1.0)
    expected = np.exp(fit.log_ml_components[0] - fit.log_ml_components[0].max())
    np.testing.assert_allclose(fit.weights[0], expected / expected.sum())
    # and the family log marginal likelihood averages over the uniform rho prior
    top = fit.log_ml_components.max()
    avg = top + math.log(np.mean(np.exp(fit.log_ml_components - top)))
    assert fit.log_ml == pytest.approx(avg)


def test_mixture_quantiles_and_probabilities_agree() -> None:
    y, X, t = design(50, seed=5)
    fit = Prewhitened(y, X, t).fit([0, 1, 2], Prior((5.0, 0.0, 0.0), (100.0, 1.0, 1.0)))
    c = [0.0, 0.0, 1.0]
    s = fit.summary(c)
    assert fit.prob_le(c, s.ci90[0]) == pytest.approx(0.05, abs=1e-6)
    assert fit.prob_le(c, s.ci90[1]) == pytest.approx(0.95, abs=1e-6)
    rho = fit.rho_summary()
    assert -0.95 <= rho.ci90[0] <= rho.mean <= rho.ci90[1] <= 0.95


def test_bad_inputs_are_refused() -> None:
    y, X, t = design(10)
    with pytest.raises(ValueError, match="strictly increasing"):
        Prewhitened(y, X, np.zeros(10))
    with pytest.raises(ValueError, match="between -1 and 1"):
        Prewhitened(y, X, t, rho_grid=[1.0])
    with pytest.raises(ValueError, match="finite"):
        Prewhitened(np.full(10, np.nan), X, t)
    with pytest.raises(ValueError, match="same length"):
        Prior(mean=(0.0,), var=(1.0, 1.0))
    with pytest.raises(ValueError, match="positive"):
        Prior(mean=(0.0,), var=(0.0,))
    with pytest.raises(ValueError, match="one prior entry per column"):
        Prewhitened(y, X, t).fit([0, 1], WEAK)
