"""N-of-1 trials: a randomized, balanced comparison of two regimens in one person.

:func:`design_trial` lays out ``pairs`` pairs of treatment periods; each pair has one period
of regimen A and one of regimen B in random order (a fair coin per pair, from a recorded
seed). Washout days, when asked for, separate consecutive periods and are never analysed.
The regimens are whatever the clinician describes (free text); nothing here suggests one.

:func:`analyse_trial` compares daily pain between the regimens as randomized (by schedule,
not by what was taken), with a linear trend and AR(1) errors, in closed form (see
:mod:`.bayes`), and reports the posterior difference B - A, the probabilities of an
important difference (1 point on 0-10) either way and of none, adherence, and a
plain-language summary for the patient. Only the clinician stops a trial early; the
analysis just records that it was stopped and why.

About 570 lines: design, adherence and analysis of a trial share its period layout
and are checked against one another; the trial's life is easier to read in one place.
"""

from __future__ import annotations

import math
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

import numpy as np

from .bayes import Prewhitened, Prior, Summary

#: An important difference: 1 point on the 0-10 pain scale.
IMPORTANT_DIFFERENCE = 1.0
#: Fewer analysable days than this on either regimen is "insufficient data".
MIN_DAYS_PER_ARM = 7
MAX_PAIRS = 12
MAX_PERIOD_DAYS = 90
MAX_WASHOUT_DAYS = 30
#: Priors (variances are multiples of sigma^2): intercept N(5, 10 sigma), trend per 30 days
#: N(0, sigma), difference B - A N(0, 2 sigma); sigma^2 ~ InvGamma(1, 1).
TRIAL_PRIOR = Prior(mean=(5.0, 0.0, 0.0), var=(100.0, 1.0, 4.0))


class Arm(StrEnum):
    A = "A"
    B = "B"


@dataclass(frozen=True)
class TrialPeriod:
    """A treatment period (``arm`` A or B) or a washout (``arm`` None), inclusive dates."""

    index: int
    pair: int  # 1-based; a washout belongs to the pair of the period it precedes
    arm: Arm | None
    regimen: str | None
    start: date
    end: date

    @property
    def washout(self) -> bool:
        return self.arm is None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "pair": self.pair,
            "kind": "washout" if self.washout else "treatment",
            "arm": None if self.arm is None else self.arm.value,
            "regimen": self.regimen,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "days": self.days,
        }


@dataclass(frozen=True)
class ScheduledDay:
    """What the schedule says for one date."""

    day: date
    period: int  # TrialPeriod.index
    day_in_period: int  # 1-based
    arm: Arm | None
    regimen: str | None

    @property
    def washout(self) -> bool:
        return self.arm is None

    @property
    def label(self) -> str:
        return "washout" if self.arm is None else f"{self.arm.value}: {self.regimen}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": self.day.isoformat(),
            "period": self.period,
            "day_in_period": self.day_in_period,
            "arm": None if self.arm is None else self.arm.value,
            "regimen": self.regimen,
            "washout": self.washout,
        }


@dataclass(frozen=True)
class TrialSchedule:
    regimen_a: str
    regimen_b: str
    period_days: int
    pairs: int
    washout_days: int
    start_date: date
    seed: int
    periods: tuple[TrialPeriod, ...]

    @property
    def end_date(self) -> date:
        return self.periods[-1].end

    @property
    def order(self) -> tuple[str, ...]:
        """Order within each pair, e.g. ``("AB", "BA", "BA")``."""
        arms = [p.arm.value for p in self.periods if p.arm is not None]
        return tuple("".join(arms[i : i + 2]) for i in range(0, len(arms), 2))

    def regimen(self, arm: Arm) -> str:
        return self.regimen_a if arm is Arm.A else self.regimen_b

    def days(self) -> list[ScheduledDay]:
        out: list[ScheduledDay] = []
        for p in self.periods:
            for k in range(p.days):
                out.append(
                    ScheduledDay(p.start + timedelta(days=k), p.index, k + 1, p.arm, p.regimen)
                )
        return out

    def day_plan(self, day: date) -> ScheduledDay | None:
        """The plan for ``day``, or None outside the trial."""
        offset = (day - self.start_date).days
        if offset < 0 or day > self.end_date:
            return None
        for p in self.periods:
            if p.start <= day <= p.end:
                return ScheduledDay(day, p.index, (day - p.start).days + 1, p.arm, p.regimen)
        return None  # pragma: no cover - periods are contiguous

    def calendar(self) -> list[list[ScheduledDay | None]]:
        """Weeks (Monday to Sunday) covering the trial; days outside it are None."""
        first = self.start_date - timedelta(days=self.start_date.weekday())
        last = self.end_date + timedelta(days=6 - self.end_date.weekday())
        weeks: list[list[ScheduledDay | None]] = []
        day = first
        while day <= last:
            weeks.append([self.day_plan(day + timedelta(days=i)) for i in range(7)])
            day += timedelta(days=7)
        return weeks

    def to_dict(self) -> dict[str, Any]:
        return {
            "regimen_a": self.regimen_a,
            "regimen_b": self.regimen_b,
            "period_days": self.period_days,
            "pairs": self.pairs,
            "washout_days": self.washout_days,
            "start_date": self.start_date.isoformat(),
            "end_date": self.end_date.isoformat(),
            "seed": self.seed,
            "order": list(self.order),
            "periods": [p.to_dict() for p in self.periods],
            "calendar": [
                [None if d is None else d.to_dict() for d in week] for week in self.calendar()
            ],
        }

    @staticmethod
    def from_dict(data: dict[str, Any]) -> TrialSchedule:
        """Rebuild a schedule from :meth:`to_dict` output. The schedule is regenerated from
        its parameters and seed; stored periods that disagree raise ValueError."""
        try:
            schedule = design_trial(
                str(data["regimen_a"]),
                str(data["regimen_b"]),
                int(data["period_days"]),
                int(data["pairs"]),
                int(data["washout_days"]),
                date.fromisoformat(str(data["start_date"])),
                seed=int(data["seed"]),
            )
        except KeyError as exc:
            raise ValueError(f"schedule is missing {exc.args[0]!r}") from None
        stored = data.get("periods")
        if stored is not None and stored != [p.to_dict() for p in schedule.periods]:
            raise ValueError("the stored periods do not match the schedule's seed and parameters")
        return schedule


def design_trial(
    regimen_a: str,
    regimen_b: str,
    period_days: int,
    pairs: int,
    washout_days: int,
    start_date: date,
    seed: int | None = None,
) -> TrialSchedule:
    """A randomized, balanced schedule: each pair holds one A and one B period in random
    order. ``seed`` is drawn with :mod:`secrets` when not given and always recorded, so the
    same seed reproduces the same schedule."""
    regimen_a, regimen_b = regimen_a.strip(), regimen_b.strip()
    if not regimen_a or not regimen_b:
        raise ValueError("both regimens need a description")
    if regimen_a.casefold() == regimen_b.casefold():
        raise ValueError("the two regimens must differ")
    if not 1 <= period_days <= MAX_PERIOD_DAYS:
        raise ValueError(f"period_days must be between 1 and {MAX_PERIOD_DAYS}")
    if not 1 <= pairs <= MAX_PAIRS:
        raise ValueError(f"pairs must be between 1 and {MAX_PAIRS}")
    if not 0 <= washout_days <= MAX_WASHOUT_DAYS:
        raise ValueError(f"washout_days must be between 0 and {MAX_WASHOUT_DAYS}")
    if seed is None:
        seed = secrets.randbits(63)
    if seed < 0:
        raise ValueError("seed must be a non-negative integer")
    rng = random.Random(seed)
    periods: list[TrialPeriod] = []
    day = start_date
    for pair in range(1, pairs + 1):
        first = rng.choice((Arm.A, Arm.B))
        for arm in (first, Arm.B if first is Arm.A else Arm.A):
            if periods and washout_days:
                end = day + timedelta(days=washout_days - 1)
                periods.append(TrialPeriod(len(periods), pair, None, None, day, end))
                day = end + timedelta(days=1)
            end = day + timedelta(days=period_days - 1)
            regimen = regimen_a if arm is Arm.A else regimen_b
            periods.append(TrialPeriod(len(periods), pair, arm, regimen, day, end))
            day = end + timedelta(days=1)
    return TrialSchedule(
        regimen_a, regimen_b, period_days, pairs, washout_days, start_date, seed, tuple(periods)
    )


@dataclass(frozen=True)
class TrialObservation:
    """One day of the trial diary. ``taken``: which regimen was actually taken ("A", "B",
    either regimen's description, or anything else for neither); None when not recorded."""

    day: date
    pain: float | None = None
    taken: str | None = None


@dataclass(frozen=True)
class Adherence:
    """Scheduled treatment days (up to the last observed day) and what was taken on them."""

    scheduled_days: int
    on_schedule: int
    off_schedule: int
    not_recorded: int

    @property
    def proportion(self) -> float | None:
        return self.on_schedule / self.scheduled_days if self.scheduled_days else None

    def to_dict(self) -> dict[str, Any]:
        p = self.proportion
        return {
            "scheduled_days": self.scheduled_days,
            "on_schedule": self.on_schedule,
            "off_schedule": self.off_schedule,
            "not_recorded": self.not_recorded,
            "proportion": None if p is None else round(p, 3),
        }


@dataclass(frozen=True)
class TrialResult:
    regimen_a: str
    regimen_b: str
    sufficient: bool
    n_days: int
    n_days_a: int
    n_days_b: int
    window: tuple[date, date] | None
    carryover_days: int
    excluded_washout: int
    excluded_carryover: int
    outside_schedule: int
    difference: Summary | None  # B - A, points on 0-10 (negative: less pain on B)
    prob_a_better: float | None  # P(B - A >= 1)
    prob_b_better: float | None  # P(B - A <= -1)
    prob_no_important_difference: float | None  # P(|B - A| < 1)
    ar1: Summary | None
    trend_per_30_days: Summary | None
    mean_pain_a: float | None  # observed means on analysed days
    mean_pain_b: float | None
    adherence: Adherence | None
    stopped_early: bool
    stop_reason: str | None
    summary: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 3)

        return {
            "regimen_a": self.regimen_a,
            "regimen_b": self.regimen_b,
            "sufficient": self.sufficient,
            "n_days": self.n_days,
            "n_days_a": self.n_days_a,
            "n_days_b": self.n_days_b,
            "window": [d.isoformat() for d in self.window] if self.window else None,
            "carryover_days": self.carryover_days,
            "excluded": {
                "washout": self.excluded_washout,
                "carryover": self.excluded_carryover,
                "outside_schedule": self.outside_schedule,
            },
            "difference_b_minus_a": (
                self.difference.to_dict() if self.difference else {"mean": None, "ci90": None}
            ),
            "prob_a_better": r(self.prob_a_better),
            "prob_b_better": r(self.prob_b_better),
            "prob_no_important_difference": r(self.prob_no_important_difference),
            "ar1": self.ar1.to_dict() if self.ar1 else None,
            "trend_per_30_days": self.trend_per_30_days.to_dict()
            if self.trend_per_30_days
            else None,
            "mean_pain_a": r(self.mean_pain_a),
            "mean_pain_b": r(self.mean_pain_b),
            "adherence": self.adherence.to_dict() if self.adherence else None,
            "stopped_early": self.stopped_early,
            "stop_reason": self.stop_reason,
            "summary": self.summary,
            "notes": list(self.notes),
        }


def _arm_taken(schedule: TrialSchedule, taken: str) -> Arm | None:
    text = taken.strip().casefold()
    if text in ("a", schedule.regimen_a.casefold()):
        return Arm.A
    if text in ("b", schedule.regimen_b.casefold()):
        return Arm.B
    return None


def _pct(p: float) -> str:
    if p < 0.01:
        return "less than 1%"
    if p > 0.99:
        return "more than 99%"
    return f"{round(100 * p)}%"


def analyse_trial(
    schedule: TrialSchedule,
    daily_observations: Sequence[TrialObservation],
    *,
    carryover_days: int = 0,
    stopped_early: bool = False,
    stop_reason: str | None = None,
    min_days_per_arm: int = MIN_DAYS_PER_ARM,
) -> TrialResult:
    """Bayesian comparison of pain on B versus A, as randomized. Washout days are never
    analysed; ``carryover_days`` more days at the start of every treatment period are
    excluded too. Raises ValueError for duplicate days or pain outside 0-10."""
    if not 0 <= carryover_days < schedule.period_days:
        raise ValueError("carryover_days must be at least 0 and less than period_days")
    seen: set[date] = set()
    for obs in daily_observations:
        if obs.day in seen:
            raise ValueError(f"{obs.day} is recorded twice")
        seen.add(obs.day)
        if obs.pain is not None and not (math.isfinite(obs.pain) and 0 <= obs.pain <= 10):
            raise ValueError(f"{obs.day}: pain {obs.pain} is outside 0-10")
    observations = sorted(daily_observations, key=lambda o: o.day)
    reason = stop_reason.strip() if stop_reason and stop_reason.strip() else None

    rows: list[tuple[int, float, float]] = []
    washout = carry = outside = 0
    for obs in observations:
        if obs.pain is None:
            continue
        plan = schedule.day_plan(obs.day)
        if plan is None:
            outside += 1
        elif plan.arm is None:
            washout += 1
        elif plan.day_in_period <= carryover_days:
            carry += 1
        else:
            t = (obs.day - schedule.start_date).days
            rows.append((t, obs.pain, 1.0 if plan.arm is Arm.B else 0.0))
    adherence = _adherence(schedule, observations)
    n = len(rows)
    n_b = int(sum(r[2] for r in rows))
    n_a = n - n_b
    window = (
        (
            schedule.start_date + timedelta(days=rows[0][0]),
            schedule.start_date + timedelta(days=rows[-1][0]),
        )
        if rows
        else None
    )
    a_label, b_label = schedule.regimen_a, schedule.regimen_b
    notes = [
        "Randomized within-person comparison, analysed as scheduled (by randomization, not "
        "by what was taken). Not blinded: expectations can affect pain ratings.",
        (
            f"n = {n} analysed days ({n_a} on A, {n_b} on B), "
            f"{window[0].isoformat()} to {window[1].isoformat()}."
            if window
            else f"n = 0 analysed days (trial {schedule.start_date} to {schedule.end_date})."
        ),
        f"Excluded: {washout} washout days"
        + (
            f", {carry} carryover days (first {carryover_days} of each period)"
            if carryover_days
            else ""
        )
        + f", {outside} days outside the schedule.",
    ]
    if stopped_early:
        notes.append(
            "Stopped early by the clinician" + (f": {reason}." if reason else " (no reason given).")
        )
    means_a = [r[1] for r in rows if r[2] == 0.0]
    means_b = [r[1] for r in rows if r[2] == 1.0]
    common: dict[str, Any] = {
        "regimen_a": a_label,
        "regimen_b": b_label,
        "n_days": n,
        "n_days_a": n_a,
        "n_days_b": n_b,
        "window": window,
        "carryover_days": carryover_days,
        "excluded_washout": washout,
        "excluded_carryover": carry,
        "outside_schedule": outside,
        "mean_pain_a": float(np.mean(means_a)) if means_a else None,
        "mean_pain_b": float(np.mean(means_b)) if means_b else None,
        "adherence": adherence,
        "stopped_early": stopped_early,
        "stop_reason": reason,
    }
    if n_a < min_days_per_arm or n_b < min_days_per_arm:
        notes.append(
            f"Insufficient data: at least {min_days_per_arm} analysed days on each regimen are "
            f"needed (A: {n_a}, B: {n_b})."
        )
        text = (
            "There are not yet enough usable days to compare the two regimens: at least "
            f"{min_days_per_arm} days with a pain score on each are needed (so far "
            f"{n_a} on A and {n_b} on B)."
        )
        if stopped_early:
            text += " Your clinician stopped the trial early" + (f" ({reason})." if reason else ".")
        return TrialResult(
            sufficient=False,
            difference=None,
            prob_a_better=None,
            prob_b_better=None,
            prob_no_important_difference=None,
            ar1=None,
            trend_per_30_days=None,
            summary=text,
            notes=tuple(notes),
            **common,
        )

    days = np.array([r[0] for r in rows], dtype=np.int64)
    y = np.array([r[1] for r in rows])
    arm_b = np.array([r[2] for r in rows])
    X = np.column_stack([np.ones(n), (days - days.mean()) / 30.0, arm_b])
    fit = Prewhitened(y, X, days).fit([0, 1, 2], TRIAL_PRIOR)
    c = np.array([0.0, 0.0, 1.0])
    diff = fit.summary(c)
    cdf = fit.cdf(c, [-IMPORTANT_DIFFERENCE, IMPORTANT_DIFFERENCE])
    p_b_better = float(cdf[0])
    p_a_better = 1.0 - float(cdf[1])
    p_none = float(cdf[1] - cdf[0])
    result = TrialResult(
        sufficient=True,
        difference=diff,
        prob_a_better=p_a_better,
        prob_b_better=p_b_better,
        prob_no_important_difference=p_none,
        ar1=fit.rho_summary(),
        trend_per_30_days=fit.summary([0.0, 1.0, 0.0]),
        summary="",
        notes=tuple(notes),
        **common,
    )
    return _with_summary(result)


def _adherence(
    schedule: TrialSchedule, observations: Sequence[TrialObservation]
) -> Adherence | None:
    if not any(o.taken is not None for o in observations):
        return None
    last = min(observations[-1].day, schedule.end_date)
    taken = {o.day: o.taken for o in observations}
    scheduled = on = off = missing = 0
    for day in schedule.days():
        if day.day > last or day.arm is None:
            continue
        scheduled += 1
        what = taken.get(day.day)
        if what is None:
            missing += 1
        elif _arm_taken(schedule, what) is day.arm:
            on += 1
        else:
            off += 1
    return Adherence(scheduled, on, off, missing)


def _with_summary(r: TrialResult) -> TrialResult:
    assert r.difference is not None and r.window is not None
    assert r.prob_a_better is not None and r.prob_b_better is not None
    assert r.prob_no_important_difference is not None
    d = r.difference
    a, b = f"“{r.regimen_a}” (A)", f"“{r.regimen_b}” (B)"
    direction = "lower" if d.mean < 0 else "higher"
    lo, hi = d.ci90
    parts = [
        f"Your trial compared {a} with {b} over {r.n_days} usable days "
        f"({r.window[0].isoformat()} to {r.window[1].isoformat()}).",
        f"On average your pain was {abs(d.mean):.1f} points {direction} on B than on A "
        f"(0-10 scale; 90% credible interval for B minus A: {lo:+.1f} to {hi:+.1f}).",
        f"Chance that A is better by at least 1 point: {_pct(r.prob_a_better)}. "
        f"Chance that B is better by at least 1 point: {_pct(r.prob_b_better)}. "
        f"Chance of no important difference (less than 1 point either way): "
        f"{_pct(r.prob_no_important_difference)}.",
    ]
    if r.prob_b_better >= 0.8:
        parts.append("During this trial, pain was very likely at least 1 point lower on B.")
    elif r.prob_a_better >= 0.8:
        parts.append("During this trial, pain was very likely at least 1 point lower on A.")
    elif r.prob_no_important_difference >= 0.8:
        parts.append("The two regimens very likely made no important difference to your pain.")
    else:
        parts.append("The trial cannot tell clearly whether either regimen is better for you.")
    if r.adherence is not None and r.adherence.scheduled_days:
        parts.append(
            f"You recorded taking the scheduled regimen on {r.adherence.on_schedule} of "
            f"{r.adherence.scheduled_days} scheduled days."
        )
    if r.stopped_early:
        parts.append(
            "Your clinician stopped the trial early"
            + (f" ({r.stop_reason})." if r.stop_reason else ".")
        )
    parts.append(
        "The trial was not blinded, so expectations may have played a part. This result is "
        "about you, over these dates only. Please talk it over with your clinician before "
        "changing anything."
    )
    return replace(r, summary=" ".join(parts))
