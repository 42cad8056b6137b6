"""Personal dose-response: daily pain (or interference) against daily normalized dose.

Observational, one person, Bayesian. For each usable day ``i`` (pain recorded, that day's
dose and the previous calendar day's dose recorded)::

    pain_i = b0 + b_trend * (t_i - mean t) / 30 + b_same * (d_i - dbar)
             + b_prev * (d_(i-1) - dbar) + e_i,      e_i AR(1) over calendar days

fitted in closed form by :mod:`.bayes` with rho integrated over a grid. The reported
``effect`` is ``b_same + b_prev``: the difference in expected pain between days on which
that day's and the previous day's dose are both one unit higher (a sustained change of one
gram, or of 10 mg mitragynine). Negative means less pain.

Everything here is an association in one person's diary, never the effect of a dose
change, and nothing here recommends a dose. See ``docs/analysis.md`` for the model, the
priors, the minimum data, the plateau criterion and the validation results.

About 650 lines: data preparation, the model, its diagnostics and the wording of its
result are one analysis, each part validated against the next.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

import numpy as np
from scipy import special  # type: ignore[import-untyped]

from .bayes import Array, Mixture, Prewhitened, Prior, Summary

#: Fewer usable days than this is "insufficient data".
MIN_DAYS = 28
#: The 10th-90th percentile range of daily dose must be at least this (1 g leaf-equivalent,
#: or 10 mg mitragynine); less is "too little dose variation".
MIN_DOSE_SPREAD = 1.0
#: The data must narrow the sustained effect to at most half its prior SD (given sigma);
#: otherwise the estimate would mostly repeat the prior.
MAX_SD_RATIO = 0.5
#: A clinically important benefit: at least 1 point on 0-10 ...
BENEFIT_POINTS = 1.0
#: ... or, separately, at least 30% of the baseline.
BENEFIT_FRACTION = 0.30
#: A plateau is reported only when a non-linear model is favoured over the linear one by a
#: Bayes factor of at least 10, ...
PLATEAU_BAYES_FACTOR = 10.0
#: ... the posterior probability of benefit below the plateau is at least 0.9, ...
PLATEAU_MIN_PROB_BENEFIT_BELOW = 0.90
#: ... and the probability of a further benefit of >= 1 point beyond it is below 0.1.
PLATEAU_MAX_PROB_FURTHER = 0.10
#: Candidate plateau doses: 12 points from the 15th to the 85th percentile of daily dose,
#: each with at least this many usable days on each side.
PLATEAU_CANDIDATES = 12
PLATEAU_MIN_SIDE = 5
#: Side effects: minimum days with dose and side effect recorded, and minimum days with and
#: without a side effect for the logistic trend.
MIN_SIDE_EFFECT_DAYS = 28
MIN_SIDE_EFFECT_EACH = 3

#: Priors (variances are multiples of sigma^2, the residual variance): intercept ~ N(5, 10
#: sigma), trend per 30 days, same-day and previous-day slopes per unit ~ N(0, sigma),
#: sigma^2 ~ InvGamma(1, 1).
LINEAR_PRIOR = Prior(mean=(5.0, 0.0, 0.0, 0.0), var=(100.0, 1.0, 1.0, 1.0))
PIECEWISE_PRIOR = Prior(mean=(5.0, 0.0, 0.0, 0.0, 0.0, 0.0), var=(100.0, 1.0, 1.0, 1.0, 1.0, 1.0))
EMAX_PRIOR = Prior(mean=(5.0, 0.0, 0.0, 0.0), var=(100.0, 1.0, 25.0, 25.0))
NO_EFFECT_PRIOR = Prior(mean=(5.0, 0.0), var=(100.0, 1.0))

ASSOCIATION_NOTE = (
    "Association, not causation: this is an observational analysis of one person's diary. "
    "Days with more kratom can differ in other ways (more is often taken on worse days), "
    "so this is not the effect of changing the dose."
)
NO_ADVICE_NOTE = "This analysis does not recommend any dose; discuss any change with the clinician."

OUTCOMES = ("pain", "interference")


class DoseUnit(StrEnum):
    """How the daily dose is expressed. ``LEAF_G``: leaf-equivalent grams, effect per gram.
    ``MITRAGYNINE_MG``: mg of mitragynine, effect per 10 mg."""

    LEAF_G = "g"
    MITRAGYNINE_MG = "mitragynine_mg"

    @property
    def per(self) -> float:
        return 1.0 if self is DoseUnit.LEAF_G else 10.0

    @property
    def label(self) -> str:
        return "g" if self is DoseUnit.LEAF_G else "10 mg mitragynine"


@dataclass(frozen=True)
class DayRecord:
    """One diary day. ``dose`` is the day's total in the unit's input scale (leaf-equivalent
    grams, or mg mitragynine); ``None`` means not recorded (0 means none taken)."""

    day: date
    pain: float | None = None
    dose: float | None = None
    interference: float | None = None
    side_effect: bool | None = None


class DiaryError(ValueError):
    """A diary record is invalid. ``index`` is its position in the input, ``field`` the
    offending field."""

    def __init__(self, index: int, field: str, message: str) -> None:
        super().__init__(f"record {index}, {field}: {message}")
        self.index = index
        self.field = field
        self.message = message


def validate_days(days: Sequence[DayRecord]) -> list[DayRecord]:
    """Check every record and return them sorted by day. Raises :class:`DiaryError`."""
    seen: dict[date, int] = {}
    for i, rec in enumerate(days):
        if not isinstance(rec.day, date):
            raise DiaryError(i, "day", "not a date")
        if rec.day in seen:
            raise DiaryError(i, "day", f"{rec.day} already recorded in record {seen[rec.day]}")
        seen[rec.day] = i
        for name in OUTCOMES:
            value = getattr(rec, name)
            if value is not None and not (math.isfinite(value) and 0 <= value <= 10):
                raise DiaryError(i, name, f"{value} is outside 0-10")
        if rec.dose is not None and not (math.isfinite(rec.dose) and rec.dose >= 0):
            raise DiaryError(i, "dose", f"{rec.dose} is not a non-negative number")
    return sorted(days, key=lambda r: r.day)


@dataclass(frozen=True)
class ModelComparison:
    """Log Bayes factors (natural log) of the non-linear families against the linear model
    and of the linear model against no dose effect; the selected model; and, for the better
    non-linear family (``candidate``), the plateau criteria."""

    log_bf_piecewise: float | None
    log_bf_emax: float | None
    log_bf_linear_vs_none: float | None
    selected: str  # "linear", "piecewise" or "emax"
    candidate: str | None = None
    prob_benefit_below: float | None = None
    prob_further_benefit: float | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "log_bf_piecewise_vs_linear": _r(self.log_bf_piecewise),
            "log_bf_emax_vs_linear": _r(self.log_bf_emax),
            "log_bf_linear_vs_no_effect": _r(self.log_bf_linear_vs_none),
            "selected": self.selected,
            "nonlinear_candidate": self.candidate,
            "prob_benefit_below_plateau": _r(self.prob_benefit_below),
            "prob_further_benefit_beyond_plateau": _r(self.prob_further_benefit),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class DoseResponseResult:
    """Dose-response of one outcome. Fields other than ``outcome``, ``dose_unit``,
    ``sufficient``, ``n_days``, ``window`` and ``notes`` are ``None`` when data are
    insufficient."""

    outcome: str
    dose_unit: DoseUnit
    sufficient: bool
    n_days: int
    window: tuple[date, date] | None
    effect: Summary | None = None  # per unit, sustained (same day + previous day)
    effect_same_day: Summary | None = None
    effect_previous_day: Summary | None = None
    trend_per_30_days: Summary | None = None
    ar1: Summary | None = None
    residual_sd: float | None = None
    typical_dose: tuple[float, float] | None = None  # 10th and 90th percentile
    baseline: float | None = None  # expected outcome at the low end of the typical range
    prob_benefit_points: float | None = None  # P(benefit >= 1 point over the typical range)
    prob_benefit_fraction: float | None = None  # P(benefit >= 30% of baseline)
    plateau: float | None = None
    comparison: ModelComparison | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        def s(x: Summary | None) -> dict[str, Any]:
            return x.to_dict() if x is not None else {"mean": None, "ci90": None}

        return {
            "outcome": self.outcome,
            "dose_unit": self.dose_unit.label,
            "sufficient": self.sufficient,
            "n_days": self.n_days,
            "window": [d.isoformat() for d in self.window] if self.window else None,
            "effect": s(self.effect),
            "effect_same_day": s(self.effect_same_day),
            "effect_previous_day": s(self.effect_previous_day),
            "trend_per_30_days": s(self.trend_per_30_days),
            "ar1": self.ar1.to_dict() if self.ar1 else None,
            "residual_sd": _r(self.residual_sd),
            "typical_dose": [_r(v) for v in self.typical_dose] if self.typical_dose else None,
            "baseline": _r(self.baseline),
            "prob_benefit": _r(self.prob_benefit_points),
            "prob_benefit_30pct": _r(self.prob_benefit_fraction),
            "plateau": _r(self.plateau),
            "model_comparison": self.comparison.to_dict() if self.comparison else None,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class DoseBand:
    """Side-effect frequency among days in one dose third."""

    label: str
    dose_min: float
    dose_max: float
    n_days: int
    n_with_side_effect: int

    @property
    def proportion(self) -> float:
        return self.n_with_side_effect / self.n_days

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "dose_min": _r(self.dose_min),
            "dose_max": _r(self.dose_max),
            "n_days": self.n_days,
            "n_with_side_effect": self.n_with_side_effect,
            "proportion": _r(self.proportion),
        }


@dataclass(frozen=True)
class SideEffectResult:
    """Side-effect frequency against same-day dose: by dose third, and a Bayesian logistic
    trend (odds ratio per unit of dose)."""

    dose_unit: DoseUnit
    sufficient: bool
    n_days: int
    window: tuple[date, date] | None
    bands: tuple[DoseBand, ...] = ()
    odds_ratio_per_unit: Summary | None = None
    prob_increase: float | None = None  # P(odds of a side effect rise with dose)
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sufficient": self.sufficient,
            "n_days": self.n_days,
            "window": [d.isoformat() for d in self.window] if self.window else None,
            "by_dose_third": [b.to_dict() for b in self.bands],
            "odds_ratio_per_unit": (
                self.odds_ratio_per_unit.to_dict() if self.odds_ratio_per_unit else None
            ),
            "prob_increase": _r(self.prob_increase),
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class DiaryAnalysis:
    pain: DoseResponseResult
    interference: DoseResponseResult | None
    side_effects: SideEffectResult | None


def _r(x: float | None, digits: int = 3) -> float | None:
    return None if x is None else round(x, digits)


def _window_note(
    n: int, window: tuple[date, date] | None, what: str, records: Sequence[DayRecord]
) -> str:
    if window is not None:
        return f"n = {n} days ({window[0].isoformat()} to {window[1].isoformat()}) with {what}."
    if records:
        first, last = records[0].day.isoformat(), records[-1].day.isoformat()
        return f"n = 0 days with {what} (diary dates {first} to {last})."
    return f"n = 0 days with {what} (the diary is empty)."


@dataclass(frozen=True)
class _Rows:
    days: list[date]
    t: Array
    y: Array
    dose: Array
    prev: Array


def _usable_rows(days: Sequence[DayRecord], outcome: str, unit: DoseUnit) -> _Rows:
    per = unit.per
    doses = {r.day: r.dose / per for r in days if r.dose is not None}
    picked: list[tuple[date, float, float, float]] = []
    for rec in days:
        value = getattr(rec, outcome)
        if value is None or rec.dose is None:
            continue
        previous = doses.get(rec.day - timedelta(days=1))
        if previous is None:
            continue
        picked.append((rec.day, float(value), rec.dose / per, previous))
    if not picked:
        empty = np.zeros(0)
        return _Rows([], empty, empty, empty, empty)
    first = picked[0][0]
    return _Rows(
        [p[0] for p in picked],
        np.array([(p[0] - first).days for p in picked], dtype=np.float64),
        np.array([p[1] for p in picked]),
        np.array([p[2] for p in picked]),
        np.array([p[3] for p in picked]),
    )


def analyse_dose_response(
    days: Sequence[DayRecord],
    outcome: str = "pain",
    dose_unit: DoseUnit = DoseUnit.LEAF_G,
    *,
    min_days: int = MIN_DAYS,
    assess_plateau: bool = True,
) -> DoseResponseResult:
    """Bayesian dose-response of ``outcome`` ("pain" or "interference", 0-10) on daily dose.

    Raises :class:`DiaryError` for invalid records; returns ``sufficient=False`` (with the
    reason in ``notes``) below the stated minimum data."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}")
    records = validate_days(days)
    rows = _usable_rows(records, outcome, dose_unit)
    n = len(rows.days)
    window = (rows.days[0], rows.days[-1]) if n else None
    what = f"{outcome}, that day's dose and the previous day's dose recorded"
    base_notes = [ASSOCIATION_NOTE, _window_note(n, window, what, records)]
    unit = dose_unit.label

    def insufficient(reason: str) -> DoseResponseResult:
        return DoseResponseResult(
            outcome, dose_unit, False, n, window, notes=(*base_notes, reason, NO_ADVICE_NOTE)
        )

    if n < min_days:
        return insufficient(
            f"Insufficient data: {n} usable days; at least {min_days} days with {what} are needed."
        )
    lo, hi = (float(v) for v in np.quantile(rows.dose, [0.1, 0.9]))
    if hi - lo < MIN_DOSE_SPREAD:
        return insufficient(
            f"Insufficient data: too little dose variation (10th to 90th percentile "
            f"{lo:.2f} to {hi:.2f} {unit}; a spread of at least {MIN_DOSE_SPREAD:g} {unit} "
            "is needed)."
        )

    dbar = float(np.mean(rows.dose))
    trend = (rows.t - rows.t.mean()) / 30.0
    base = [np.ones(n), trend, rows.dose - dbar, rows.prev - dbar]
    kappas = _breakpoints(rows.dose) if assess_plateau else np.zeros(0)
    ed50s = _ed50_grid(rows.dose) if kappas.size else np.zeros(0)
    extra: list[Array] = []
    for kappa in kappas:
        h, hp = np.maximum(rows.dose - kappa, 0.0), np.maximum(rows.prev - kappa, 0.0)
        extra += [h - h.mean(), hp - hp.mean()]
    for ed50 in ed50s:
        f, fp = rows.dose / (rows.dose + ed50), rows.prev / (rows.prev + ed50)
        extra += [f - f.mean(), fp - fp.mean()]
    X = np.column_stack(base + extra)
    pw = Prewhitened(rows.y, X, rows.t.astype(np.int64))
    linear = pw.fit([0, 1, 2, 3], LINEAR_PRIOR)

    c_effect = np.array([0.0, 0.0, 1.0, 1.0])
    ratio = linear.sd_ratio(c_effect, LINEAR_PRIOR)
    if ratio > MAX_SD_RATIO:
        return insufficient(
            "Insufficient data: the diary does not separate an association with dose from "
            f"day-to-day variation (the effect's posterior SD is {ratio:.2f} of its prior SD; "
            f"at most {MAX_SD_RATIO:g} is needed). This happens when consecutive days' doses "
            "move in opposite directions or vary too little."
        )
    effect = linear.summary(c_effect)
    spread = hi - lo
    # benefit >= 1 point over the typical range: effect * spread <= -1
    p_points = linear.prob_le(c_effect, -BENEFIT_POINTS / spread)
    # baseline = b0 + effect * (lo - dbar); benefit >= 30% of baseline:
    # -effect * spread >= 0.3 * baseline  <=>  0.3 b0 + effect (spread + 0.3 (lo - dbar)) <= 0
    c_frac = np.array([BENEFIT_FRACTION, 0.0, 0.0, 0.0])
    c_frac[2:] = spread + BENEFIT_FRACTION * (lo - dbar)
    p_fraction = linear.prob_le(c_frac, 0.0)
    c_base = np.array([1.0, 0.0, lo - dbar, lo - dbar])
    baseline = linear.mean_of(c_base)

    plateau, comparison = (
        _plateau(pw, linear, kappas, ed50s, rows.dose, hi)
        if kappas.size
        else (
            None,
            ModelComparison(
                None,
                None,
                None,
                "linear",
                reason="not assessed: too few days on each side of the candidate doses",
            ),
        )
    )
    ar1 = linear.rho_summary()
    notes = [
        *base_notes,
        f"Difference per {unit}: how {outcome} (0-10) differed between days on which that "
        f"day's and the previous day's dose were both 1 {unit} higher; negative means less "
        f"{outcome} on such days (an association, not the effect of a dose). Adjusted for a "
        "linear trend over time, with day-to-day autocorrelation (AR(1)).",
        f"Typical dose range (10th to 90th percentile): {lo:.2f} to {hi:.2f} {unit}.",
    ]
    if plateau is None:
        notes.append(f"No plateau reported ({comparison.reason}).")
    else:
        notes.append(
            f"Plateau: above about {plateau:.1f} {unit} a day, {outcome} was unlikely to be "
            f"lower by a further point in this diary ({comparison.selected} model favoured "
            "over linear)."
        )
    notes.append(NO_ADVICE_NOTE)
    return DoseResponseResult(
        outcome=outcome,
        dose_unit=dose_unit,
        sufficient=True,
        n_days=n,
        window=window,
        effect=effect,
        effect_same_day=linear.summary([0.0, 0.0, 1.0, 0.0]),
        effect_previous_day=linear.summary([0.0, 0.0, 0.0, 1.0]),
        trend_per_30_days=linear.summary([0.0, 1.0, 0.0, 0.0]),
        ar1=ar1,
        residual_sd=linear.sigma_mean(),
        typical_dose=(lo, hi),
        baseline=baseline,
        prob_benefit_points=p_points,
        prob_benefit_fraction=p_fraction,
        plateau=plateau,
        comparison=comparison,
        notes=tuple(notes),
    )


def _breakpoints(dose: Array) -> Array:
    """Candidate breakpoints: 12 quantiles from the 15th to the 85th percentile of daily
    dose, each with at least 5 usable days on either side."""
    grid = np.unique(np.round(np.quantile(dose, np.linspace(0.15, 0.85, PLATEAU_CANDIDATES)), 6))
    keep = [
        k
        for k in grid
        if k > 0 and np.sum(dose <= k) >= PLATEAU_MIN_SIDE and np.sum(dose > k) >= PLATEAU_MIN_SIDE
    ]
    return np.asarray(keep, dtype=np.float64)


def _ed50_grid(dose: Array) -> Array:
    """Candidate ED50s: 12 log-spaced values whose 90%-of-maximum dose (9 x ED50) runs from
    the 15th percentile of daily dose to 9 times the highest dose (near-linear curves)."""
    low = max(float(np.quantile(dose, 0.15)), 1e-3) / 9.0
    high = max(float(np.max(dose)), 9.0 * low)
    return np.geomspace(low, high, PLATEAU_CANDIDATES)


def _weighted_median(values: Array, weights: Array) -> float:
    order = np.argsort(values)
    cum = np.cumsum(weights[order]) / np.sum(weights)
    return float(values[order][int(np.searchsorted(cum, 0.5))])


def _plateau(
    pw: Prewhitened, linear: Mixture, kappas: Array, ed50s: Array, dose: Array, p90: float
) -> tuple[float | None, ModelComparison]:
    """Compare the linear model with a no-dose-effect model and with the piecewise-linear
    and Emax families (uniform priors over their grids); report a plateau only when the
    criteria in docs/analysis.md are all met."""
    k, e = kappas.size, ed50s.size
    none = pw.fit([0, 1], NO_EFFECT_PRIOR)
    piece = pw.fit_family([[0, 1, 2, 3, 4 + 2 * j, 5 + 2 * j] for j in range(k)], PIECEWISE_PRIOR)
    emax = pw.fit_family(
        [[0, 1, 4 + 2 * k + 2 * j, 5 + 2 * k + 2 * j] for j in range(e)], EMAX_PRIOR
    )
    bf_piece = piece.log_ml - linear.log_ml
    bf_emax = emax.log_ml - linear.log_ml
    bf_linear_none = linear.log_ml - none.log_ml
    top = float(np.max(dose))
    if bf_piece >= bf_emax:
        name, family = "piecewise", piece
        plateaus = kappas
        below = np.array([0.0, 0.0, 1.0, 1.0, 0.0, 0.0])  # slope below the breakpoint
        beyond = np.zeros((k, 6))  # change from the breakpoint to the highest dose
        beyond[:, 2:] = (top - kappas)[:, None]
    else:
        name, family = "emax", emax
        plateaus = 9.0 * ed50s  # 90% of the maximum effect
        below = np.array([0.0, 0.0, 1.0, 1.0])  # maximum effect
        gain = np.maximum(top / (top + ed50s) - 0.9, 0.0)
        beyond = np.zeros((e, 4))
        beyond[:, 2:] = gain[:, None]
    log_bf = family.log_ml - max(linear.log_ml, none.log_ml)
    p_below = family.prob_le(below, 0.0)
    p_further = family.prob_le(beyond, -BENEFIT_POINTS)
    plateau = _weighted_median(plateaus, family.model_weights)

    def result(selected: str, reason: str) -> ModelComparison:
        return ModelComparison(
            bf_piece, bf_emax, bf_linear_none, selected, name, p_below, p_further, reason
        )

    if log_bf < math.log(PLATEAU_BAYES_FACTOR):
        bf = math.exp(min(log_bf, 50.0))
        return None, result(
            "linear",
            f"no non-linear model is clearly better: the best ({name}) has a Bayes factor of "
            f"{bf:.2g} against the better of the linear and no-effect models, below "
            f"{PLATEAU_BAYES_FACTOR:g}",
        )
    if p_below < PLATEAU_MIN_PROB_BENEFIT_BELOW:
        return None, result(
            name, f"the {name} model does not show a clearly lower score below a plateau"
        )
    if plateau > p90:
        return None, result(
            name, f"the {name} model's plateau lies beyond the 90th percentile of recorded doses"
        )
    if p_further >= PLATEAU_MAX_PROB_FURTHER:
        return None, result(
            name,
            f"a score lower by a further 1 point or more beyond the {name} plateau is possible",
        )
    return plateau, result(name, "criteria met")


def analyse_side_effects(
    days: Sequence[DayRecord], dose_unit: DoseUnit = DoseUnit.LEAF_G
) -> SideEffectResult:
    """Side-effect frequency by same-day dose third, and a Bayesian logistic trend
    (Laplace approximation; priors: intercept N(0, 2.5^2), slope per unit N(0, 1))."""
    records = validate_days(days)
    picked = [
        (r.day, r.dose / dose_unit.per, bool(r.side_effect))
        for r in records
        if r.dose is not None and r.side_effect is not None
    ]
    n = len(picked)
    window = (picked[0][0], picked[-1][0]) if picked else None
    unit = dose_unit.label
    notes = [
        ASSOCIATION_NOTE,
        _window_note(n, window, "a dose and a side-effect answer", records),
    ]
    if n < MIN_SIDE_EFFECT_DAYS:
        notes.append(
            f"Insufficient data: {n} days; at least {MIN_SIDE_EFFECT_DAYS} days with a dose "
            "and a side-effect answer are needed."
        )
        return SideEffectResult(dose_unit, False, n, window, notes=tuple(notes))
    dose = np.array([p[1] for p in picked])
    hit = np.array([p[2] for p in picked], dtype=np.float64)
    q1, q2 = (float(v) for v in np.quantile(dose, [1 / 3, 2 / 3]))
    masks = [
        ("lowest third", dose <= q1),
        ("middle third", (dose > q1) & (dose <= q2)),
        ("highest third", dose > q2),
    ]
    bands = tuple(
        DoseBand(
            label,
            float(dose[m].min()),
            float(dose[m].max()),
            int(m.sum()),
            int(hit[m].sum()),
        )
        for label, m in masks
        if m.any()
    )
    n_with = int(hit.sum())
    if n_with < MIN_SIDE_EFFECT_EACH or n - n_with < MIN_SIDE_EFFECT_EACH:
        notes.append(
            f"No trend estimated: fewer than {MIN_SIDE_EFFECT_EACH} days with, or without, "
            "a side effect."
        )
        return SideEffectResult(dose_unit, True, n, window, bands, notes=tuple(notes))
    mode, sd = _logistic_laplace(dose - float(dose.mean()), hit)
    z = 1.6448536269514722
    odds = Summary(
        math.exp(mode + sd * sd / 2.0), (math.exp(mode - z * sd), math.exp(mode + z * sd))
    )
    prob_increase = float(special.ndtr(mode / sd))
    notes.append(
        f"Odds ratio per {unit}: how the odds of a day with a side effect change with each "
        f"{unit} more that day (Bayesian logistic regression, no adjustment for trend)."
    )
    return SideEffectResult(
        dose_unit, True, n, window, bands, odds, prob_increase, notes=tuple(notes)
    )


def _logistic_laplace(x: Array, y: Array) -> tuple[float, float]:
    """Posterior mode and SD of the slope of a logistic regression with priors intercept
    N(0, 2.5^2) and slope N(0, 1), by Newton's method and the Laplace approximation."""
    X = np.column_stack([np.ones_like(x), x])
    prec = np.diag([1 / 2.5**2, 1.0])
    beta = np.zeros(2)
    hess = prec
    for _ in range(50):
        p = special.expit(X @ beta)
        grad = X.T @ (y - p) - prec @ beta
        hess = (X * (p * (1 - p))[:, None]).T @ X + prec
        step = np.linalg.solve(hess, grad)
        beta = beta + step
        if float(np.max(np.abs(step))) < 1e-10:
            break
    p = special.expit(X @ beta)
    hess = (X * (p * (1 - p))[:, None]).T @ X + prec
    cov = np.linalg.inv(hess)
    return float(beta[1]), math.sqrt(float(cov[1, 1]))


def analyse_diary(
    days: Sequence[DayRecord], dose_unit: DoseUnit = DoseUnit.LEAF_G
) -> DiaryAnalysis:
    """Pain, and interference and side effects when any are recorded."""
    records = validate_days(days)
    has = {name: any(getattr(r, name) is not None for r in records) for name in OUTCOMES}
    return DiaryAnalysis(
        pain=analyse_dose_response(records, "pain", dose_unit),
        interference=(
            analyse_dose_response(records, "interference", dose_unit)
            if has["interference"]
            else None
        ),
        side_effects=(
            analyse_side_effects(records, dose_unit)
            if any(r.side_effect is not None for r in records)
            else None
        ),
    )
