"""Conjugate Bayesian linear regression with AR(1) errors, in closed form.

The model for an outcome ``y`` observed on (possibly non-consecutive) days ``t``::

    y_i = x_i' beta + e_i,   e_i = rho^k e_(i-1) + u_i  (k = days since the previous row)

with stationary errors of variance ``sigma^2``. For a fixed ``rho`` the exact
(Prais-Winsten) transform ``y~_1 = y_1``, ``y~_i = (y_i - rho^k y_(i-1)) / sqrt(1 - rho^2k)``
(and the same for each column of ``X``) turns the errors into independent ``N(0, sigma^2)``
draws, so the normal-inverse-gamma prior

    sigma^2 ~ InvGamma(a0, b0),   beta | sigma^2 ~ N(m0, sigma^2 diag(v0))

is conjugate: the posterior of ``beta`` is a multivariate Student-t and the marginal
likelihood ``p(y | rho)`` is exact (including the Jacobian of the transform). ``rho`` is
integrated over a grid (uniform prior), which gives the posterior as a finite mixture of
Student-t distributions. Nothing is sampled, so results are exact and reproducible, and a
fit takes milliseconds.

Several models that use different columns of the same design (a linear model and a family
of non-linear alternatives) share one transform: the Gram matrix of all columns is computed
once per ``rho`` and each model reads its sub-matrix.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import special  # type: ignore[import-untyped]

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Grid for the AR(1) coefficient: 41 points from -0.95 to 0.95 (step 0.0475), uniform prior.
RHO_GRID: Array = np.linspace(-0.95, 0.95, 41)
CI_LEVEL = 0.90
_LOG_2PI = math.log(2 * math.pi)


@dataclass(frozen=True)
class Summary:
    """Posterior mean and central 90% credible interval of a scalar."""

    mean: float
    ci90: tuple[float, float]

    def to_dict(self, digits: int = 3) -> dict[str, Any]:
        return {
            "mean": round(self.mean, digits),
            "ci90": [round(self.ci90[0], digits), round(self.ci90[1], digits)],
        }


@dataclass(frozen=True)
class Prior:
    """Normal-inverse-gamma prior: ``beta_j | sigma^2 ~ N(mean_j, sigma^2 * var_j)``."""

    mean: tuple[float, ...]
    var: tuple[float, ...]
    a0: float = 1.0
    b0: float = 1.0

    def __post_init__(self) -> None:
        if len(self.mean) != len(self.var):
            raise ValueError("prior mean and variance must have the same length")
        if any(v <= 0 for v in self.var) or self.a0 <= 0 or self.b0 <= 0:
            raise ValueError("prior variances and a0, b0 must be positive")


class Prewhitened:
    """Sufficient statistics of the Prais-Winsten-transformed regression, for each rho."""

    def __init__(
        self,
        y: npt.ArrayLike,
        X: npt.ArrayLike,
        t: npt.ArrayLike,
        rho_grid: npt.ArrayLike = RHO_GRID,
    ) -> None:
        yv = np.asarray(y, dtype=np.float64)
        Xm = np.asarray(X, dtype=np.float64)
        tv = np.asarray(t, dtype=np.int64)
        rho = np.asarray(rho_grid, dtype=np.float64).reshape(-1)
        if Xm.ndim != 2 or yv.ndim != 1 or tv.ndim != 1:
            raise ValueError("y and t must be vectors and X a matrix")
        n = yv.shape[0]
        if Xm.shape[0] != n or tv.shape[0] != n or n < 2:
            raise ValueError("y, X and t must have the same number (>= 2) of rows")
        gaps = np.diff(tv)
        if np.any(gaps <= 0):
            raise ValueError("days must be strictly increasing")
        if rho.size == 0 or np.any(np.abs(rho) >= 1):
            raise ValueError("every rho must lie strictly between -1 and 1")
        if not (np.all(np.isfinite(yv)) and np.all(np.isfinite(Xm))):
            raise ValueError("y and X must be finite")

        # Each transformed row is (z_i - r z_(i-1)) / sqrt(1 - r^2) with r = rho^gap, so the
        # Gram matrix of the transformed data is, for every rho, a combination of three
        # cross-product matrices per distinct gap, computed once (fast for any grid size).
        Zr = np.concatenate([Xm, yv[:, None]], axis=1)  # transform X and y together
        cur, prev = Zr[1:], Zr[:-1]
        distinct, which = np.unique(gaps, return_inverse=True)
        r = rho[:, None] ** distinct[None, :]  # (G, K)
        one_minus = 1.0 - r * r
        c1 = Zr.shape[1]
        parts = np.empty((3 * distinct.size, c1 * c1))
        coef = np.empty((rho.size, 3 * distinct.size))
        for k in range(distinct.size):
            sel = which == k
            a, b = cur[sel], prev[sel]
            ab = _cross(a, b)
            parts[3 * k] = _cross(a, a).ravel()
            parts[3 * k + 1] = (ab + ab.T).ravel()
            parts[3 * k + 2] = _cross(b, b).ravel()
            w = 1.0 / one_minus[:, k]
            coef[:, 3 * k] = w
            coef[:, 3 * k + 1] = -w * r[:, k]
            coef[:, 3 * k + 2] = w * r[:, k] ** 2
        full = np.einsum("gk,kc->gc", coef, parts).reshape(rho.size, c1, c1) + np.outer(
            Zr[0], Zr[0]
        )
        counts = np.bincount(which, minlength=distinct.size)
        c = Xm.shape[1]
        self.rho: Array = rho
        self.n: int = n
        self.n_columns: int = c
        self.gram: Array = full[:, :c, :c]
        self.xty: Array = full[:, :c, c]
        self.yty: Array = full[:, c, c]
        #: log |d y~ / d y| for each rho: p(y | rho) = p(y~ | rho) * |Jacobian|
        self.log_jacobian: Array = -0.5 * (np.log(one_minus) * counts[None, :]).sum(axis=1)

    def fit(self, columns: Sequence[int], prior: Prior) -> Mixture:
        """One model using ``columns`` of the design."""
        return self.fit_family([list(columns)], prior)

    def fit_family(
        self,
        columns: Sequence[Sequence[int]],
        prior: Prior,
    ) -> Mixture:
        """A family of models (same number of columns each, same prior), with a uniform
        prior over the family's members and over rho. The result is their posterior mixture;
        ``Mixture.log_ml_models`` holds each member's marginal likelihood."""
        idx = np.asarray(columns, dtype=np.int64)
        if idx.ndim != 2 or idx.shape[1] != len(prior.mean):
            raise ValueError("each model needs one prior entry per column")
        if np.any(idx < 0) or np.any(idx >= self.n_columns):
            raise ValueError("column index out of range")
        m0 = np.asarray(prior.mean, dtype=np.float64)
        p0 = 1.0 / np.asarray(prior.var, dtype=np.float64)  # prior precisions (/ sigma^2)

        # (M, G, p, p) and (M, G, p)
        gram = self.gram[:, idx[:, :, None], idx[:, None, :]].transpose(1, 0, 2, 3)
        xty = self.xty[:, idx].transpose(1, 0, 2)
        precision = gram + np.diag(p0)
        rhs = xty + p0 * m0
        chol = np.linalg.cholesky(precision)
        inv = np.linalg.inv(precision)
        mean = np.einsum("mgij,mgj->mgi", inv, rhs)
        a_n = prior.a0 + self.n / 2.0
        quad = self.yty[None, :] + float(np.sum(m0 * m0 * p0)) - np.sum(mean * rhs, axis=-1)
        b_n = prior.b0 + 0.5 * np.maximum(quad, 0.0)
        logdet = 2.0 * np.sum(np.log(np.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)
        log_ml = (
            -0.5 * self.n * _LOG_2PI
            + 0.5 * float(np.sum(np.log(p0)))
            - 0.5 * logdet
            + prior.a0 * math.log(prior.b0)
            - a_n * np.log(b_n)
            + math.lgamma(a_n)
            - math.lgamma(prior.a0)
            + self.log_jacobian[None, :]
        )  # (M, G)
        return Mixture(
            rho=self.rho,
            log_ml=log_ml,
            mean=mean,
            scale=(b_n / a_n)[:, :, None, None] * inv,
            df=2.0 * a_n,
            sigma2_mean=b_n / (a_n - 1.0),
            unscaled=np.asarray(inv, dtype=np.float64),
        )


def _cross(a: Array, b: Array, rows: int = 48) -> Array:
    """``a' b`` summed over blocks of rows. Each block is small enough for OpenBLAS to run
    it on the calling thread: a threaded product of this size costs more in hand-over (and
    in waiting for a busy core) than it saves."""
    out = np.zeros((a.shape[1], b.shape[1]))
    for i in range(0, a.shape[0], rows):
        out += a[i : i + rows].T @ b[i : i + rows]
    return out


def _logsumexp(x: Array, axis: int | None = None) -> Array:
    top = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True)) + top
    return np.asarray(np.squeeze(out, axis=axis) if axis is not None else out.reshape(()))


class Mixture:
    """Posterior of ``beta``: a mixture over models (M) and rho values (G) of multivariate
    Student-t distributions with ``df`` degrees of freedom."""

    def __init__(
        self,
        rho: Array,
        log_ml: Array,
        mean: Array,
        scale: Array,
        df: float,
        sigma2_mean: Array,
        unscaled: Array | None = None,
    ) -> None:
        self.rho = rho
        self.log_ml_components = log_ml  # (M, G)
        self.mean = mean  # (M, G, p)
        self.scale = scale  # (M, G, p, p)
        self.df = df
        self.sigma2_mean = sigma2_mean  # (M, G)
        #: posterior covariance of beta divided by sigma^2 (M, G, p, p)
        self.unscaled = unscaled
        total = _logsumexp(log_ml)
        self.weights: Array = np.exp(log_ml - total)  # (M, G), sums to 1
        m, g = log_ml.shape
        #: log marginal likelihood of each model (uniform prior over rho)
        self.log_ml_models: Array = _logsumexp(log_ml, axis=1) - math.log(g)
        #: log marginal likelihood of the family (uniform prior over models and rho)
        self.log_ml: float = float(total) - math.log(m * g)

    @property
    def model_weights(self) -> Array:
        return np.asarray(self.weights.sum(axis=1), dtype=np.float64)

    def _contrast(self, c: npt.ArrayLike) -> tuple[Array, Array]:
        cv = np.asarray(c, dtype=np.float64)
        if cv.ndim == 1:
            cv = np.broadcast_to(cv, (self.mean.shape[0], cv.shape[0]))
        loc = np.einsum("mgp,mp->mg", self.mean, cv)
        var = np.einsum("mp,mgpq,mq->mg", cv, self.scale, cv)
        return loc, np.sqrt(np.maximum(var, 1e-300))

    def cdf(self, c: npt.ArrayLike, x: npt.ArrayLike) -> Array:
        """P(c' beta <= x) for each x. ``c`` is one contrast or one per model (M, p)."""
        loc, sd = self._contrast(c)
        xs = np.atleast_1d(np.asarray(x, dtype=np.float64))
        z = (xs[:, None, None] - loc[None]) / sd[None]
        p = special.stdtr(self.df, z)
        return np.asarray(np.sum(p * self.weights[None], axis=(1, 2)), dtype=np.float64)

    def prob_le(self, c: npt.ArrayLike, x: float) -> float:
        return float(self.cdf(c, x)[0])

    def summary(self, c: npt.ArrayLike) -> Summary:
        loc, sd = self._contrast(c)
        mean = float(np.sum(self.weights * loc))
        tail = (1.0 - CI_LEVEL) / 2.0
        lo, hi = self._quantiles(loc, sd, np.array([tail, 1.0 - tail]))
        return Summary(mean, (lo, hi))

    def _quantiles(self, loc: Array, sd: Array, probs: Array) -> tuple[float, float]:
        """Two quantiles of the mixture at once, by safeguarded Newton steps on its CDF."""
        w = self.weights
        keep = w > 1e-12 * float(np.max(w))  # negligible components do not move a quantile
        w, loc, sd = w[keep], loc[keep], sd[keep]
        df = self.df
        log_norm = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
        mean = float(np.sum(w * loc))
        spread = float(np.sqrt(np.sum(w * (sd * sd + (loc - mean) ** 2))))
        a = np.full(probs.shape, float(np.min(loc - 40.0 * sd)))
        b = np.full(probs.shape, float(np.max(loc + 40.0 * sd)))
        x = mean + spread * np.asarray(special.stdtrit(df, probs), dtype=np.float64)
        wd = w / sd
        tol = 1e-10 * (1.0 + spread)
        for _ in range(100):
            z = (x[:, None] - loc) / sd
            f = special.stdtr(df, z) @ w - probs
            a = np.where(f < 0, x, a)
            b = np.where(f < 0, b, x)
            dens = np.exp(log_norm - (df + 1) / 2 * np.log1p(z * z / df)) @ wd
            with np.errstate(divide="ignore", invalid="ignore"):
                nxt = x - f / dens
            bad = ~((nxt > a) & (nxt < b))
            nxt = np.where(bad, 0.5 * (a + b), nxt)
            done = float(np.max(np.abs(nxt - x))) < tol
            x = nxt
            if done:
                break
        return float(x[0]), float(x[1])

    def mean_of(self, c: npt.ArrayLike) -> float:
        """Posterior mean of ``c' beta``."""
        loc, _ = self._contrast(c)
        return float(np.sum(self.weights * loc))

    def rho_summary(self) -> Summary:
        """Posterior of rho (discrete on the grid): mean and the 5th/95th percentile points."""
        w = self.weights.sum(axis=0)
        cum = np.cumsum(w)
        tail = (1.0 - CI_LEVEL) / 2.0
        lo = self.rho[int(np.searchsorted(cum, tail))]
        hi = self.rho[min(int(np.searchsorted(cum, 1.0 - tail)), self.rho.size - 1)]
        return Summary(float(np.sum(w * self.rho)), (float(lo), float(hi)))

    def sd_ratio(self, c: npt.ArrayLike, prior: Prior) -> float:
        """How much the data narrowed ``c' beta``: posterior SD over prior SD given sigma
        (1 = the data say nothing about it; averaged over the posterior of rho)."""
        if self.unscaled is None:
            raise ValueError("no unscaled covariance stored")
        cv = np.asarray(c, dtype=np.float64)
        prior_var = float(np.sum(cv * cv * np.asarray(prior.var)))
        post_var = np.einsum("p,mgpq,q->mg", cv, self.unscaled, cv)
        return float(np.sum(self.weights * np.sqrt(post_var / prior_var)))

    def sigma_mean(self) -> float:
        """Posterior mean of sigma^2 (stationary residual variance), as an SD."""
        return math.sqrt(float(np.sum(self.weights * self.sigma2_mean)))
