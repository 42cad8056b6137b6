"""The personal analyses on stored data: diary days built from the database, cached per request.

:func:`diary_days` turns one patient's records into :class:`DayRecord` objects for
:mod:`kratomwatch.domain.analysis`:

- **pain**: the pain subscale of that day's ``kw-daily-pain`` check-in (the last one when
  there are several), by the local date it was taken;
- **dose**: the day's total in leaf-equivalent grams. A day with a daily check-in and no
  dose recorded counts as 0 g (the check-in is where the day's doses are recorded); a day
  with any dose of unknown leaf equivalent, or with neither a check-in nor a dose, is
  *not recorded*, never a guess;
- **side effect**: any symptom report that day; on a day with a check-in and no report,
  none; otherwise not recorded.

Results are cached on the request object only (never across requests), so that two parts of
one page share one fit, and a new entry shows up on the next page load.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from kratomwatch.clinic.models import AnalysisRelease, NofOneTrial, PatientProfile
from kratomwatch.domain.analysis import (
    MIN_DAYS,
    MIN_DOSE_SPREAD,
    DayRecord,
    DiaryAnalysis,
    DoseResponseResult,
    SideEffectResult,
    TrialObservation,
    TrialResult,
    TrialSchedule,
    analyse_diary,
    analyse_trial,
)

DAILY = "kw-daily-pain"
#: The window of the dose-response section: the last 120 days, today included.
WINDOW_DAYS = 120
_CACHE_ATTR = "_kratomwatch_analysis_cache"


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """Aware datetimes covering the local days ``first`` to ``last`` (end exclusive)."""
    tz = timezone.get_current_timezone()
    return (
        datetime.combine(first, time.min, tz),
        datetime.combine(last + timedelta(days=1), time.min, tz),
    )


def daily_pain(patient: PatientProfile, first: date, last: date) -> dict[date, float]:
    """Pain subscale of the ``kw-daily-pain`` check-in, by local day (the last of the day)."""
    tz = timezone.get_current_timezone()
    start, end = _bounds(first, last)
    pain: dict[date, float] = {}
    rows = (
        patient.responses.filter(instrument_id=DAILY, taken_at__gte=start, taken_at__lt=end)
        .order_by("taken_at")
        .values_list("taken_at", "scores")
    )
    for taken_at, scores in rows:
        value = (scores or {}).get("subscales", {}).get("pain")
        if value is not None:
            pain[taken_at.astimezone(tz).date()] = float(value)
    return pain


def diary_days(patient: PatientProfile, first: date, last: date) -> list[DayRecord]:
    """One :class:`DayRecord` per local day from ``first`` to ``last`` that has any record."""
    tz = timezone.get_current_timezone()
    start, end = _bounds(first, last)
    pain = daily_pain(patient, first, last)
    dose: dict[date, Decimal] = defaultdict(Decimal)
    unknown: set[date] = set()
    for taken_at, leaf_g in patient.doses.filter(taken_at__gte=start, taken_at__lt=end).values_list(
        "taken_at", "leaf_equivalent_g"
    ):
        day = taken_at.astimezone(tz).date()
        if leaf_g is None:
            unknown.add(day)
        else:
            dose[day] += leaf_g
    side_effect_days = {
        reported_at.astimezone(tz).date()
        for reported_at in patient.symptoms.filter(
            reported_at__gte=start, reported_at__lt=end
        ).values_list("reported_at", flat=True)
    }
    records: list[DayRecord] = []
    for day in sorted(set(pain) | set(dose) | unknown | side_effect_days):
        checked_in = day in pain
        if day in unknown:
            day_dose: float | None = None
        elif day in dose:
            day_dose = float(dose[day])
        else:
            day_dose = 0.0 if checked_in else None
        if day in side_effect_days:
            side_effect: bool | None = True
        else:
            side_effect = False if checked_in else None
        records.append(DayRecord(day, pain.get(day), day_dose, None, side_effect))
    return records


@dataclass(frozen=True)
class DoseResponseView:
    """What the pages show: the analysis and the window it covered."""

    analysis: DiaryAnalysis
    first: date
    last: date
    min_days: int = MIN_DAYS
    min_dose_spread: float = MIN_DOSE_SPREAD

    @property
    def pain(self) -> DoseResponseResult:
        return self.analysis.pain

    @property
    def side_effects(self) -> SideEffectResult | None:
        return self.analysis.side_effects

    @property
    def reason(self) -> str:
        """Why the data are insufficient, in the analysis's words ("" when sufficient)."""
        if self.pain.sufficient:
            return ""
        for note in self.pain.notes:
            if note.startswith("Insufficient data"):
                return note
        return ""

    @property
    def reason_detail(self) -> str:
        """:attr:`reason` without its "Insufficient data: " prefix."""
        return self.reason.removeprefix("Insufficient data: ")

    @property
    def too_few_days(self) -> bool:
        return self.pain.n_days < self.min_days


def _cache(request: HttpRequest | None) -> dict[Any, Any]:
    if request is None:
        return {}
    cache = getattr(request, _CACHE_ATTR, None)
    if cache is None:
        cache = {}
        setattr(request, _CACHE_ATTR, cache)
    return cache


def dose_response(
    patient: PatientProfile, request: HttpRequest | None = None, today: date | None = None
) -> DoseResponseView:
    """The personal dose-response of the last :data:`WINDOW_DAYS` days, once per request."""
    last = today or timezone.localdate()
    first = last - timedelta(days=WINDOW_DAYS - 1)
    cache = _cache(request)
    key = ("dose_response", patient.pk, first, last)
    if key not in cache:
        # Interference is left out (not shown on these pages), which keeps the fit fast.
        cache[key] = DoseResponseView(analyse_diary(diary_days(patient, first, last)), first, last)
    result: DoseResponseView = cache[key]
    return result


def _day(day: date) -> str:
    return date_format(day, "j M Y")


def _percent(part: int, whole: int) -> str:
    return gettext("%(part)d of %(whole)d days (%(percent)d%%)") % {
        "part": part,
        "whole": whole,
        "percent": round(100 * part / whole),
    }


def patient_summary(view: DoseResponseView) -> list[str]:
    """What the diary shows, in plain words for the patient, as their clinician may share it.

    No statistical terms; association and not cause; "not enough data" when so. No figure per
    gram and no direction of a link between amount and pain or side effects: "pain was lower
    on days with more kratom" reads as a reason to take more, whatever follows it. Never a
    suggestion to change the dose. The clinician's section has the figures."""
    pain = view.pain
    lines: list[str] = []
    if not pain.sufficient:
        if view.too_few_days:
            lines.append(
                gettext(
                    "There is not yet enough in your diary to look for a link between how much "
                    "kratom you take and your pain. This needs at least %(needed)d days on "
                    "which you recorded your pain and your kratom amounts for that day and the "
                    "day before. In the last %(window)d days there are %(days)d such days."
                )
                % {"needed": view.min_days, "window": WINDOW_DAYS, "days": pain.n_days}
            )
            lines.append(
                gettext(
                    "Doses whose kratom content is not known cannot be counted. Keep checking "
                    "in each day; nothing else needs to change."
                )
            )
        else:
            lines.append(
                gettext(
                    "Your daily amounts have been too similar, or changed in a pattern the "
                    "diary cannot untangle, so it cannot show a link between how much kratom "
                    "you take and your pain. That is fine: it is not a reason to change how "
                    "much you take."
                )
            )
    else:
        assert pain.effect is not None and pain.window is not None
        first, last = pain.window
        lines.append(
            gettext(
                "This looks at %(days)d days of your diary from %(first)s to %(last)s: days on "
                "which you recorded your pain and your kratom amounts for that day and the day "
                "before."
            )
            % {"days": pain.n_days, "first": _day(first), "last": _day(last)}
        )
        lo, hi = pain.effect.ci90
        if hi < 0 or lo > 0:
            lines.append(
                gettext(
                    "On these days, the amount of kratom you had taken and your pain were "
                    "linked. That does not show that one changed the other: people often take "
                    "more on days when their pain is already worse, and days differ in many "
                    "other ways. Your care team can talk through with you what this means."
                )
            )
        else:
            lines.append(
                gettext(
                    "Your diary shows no clear link between how much kratom you took and your pain."
                )
            )
    effects = view.side_effects
    days = sum(b.n_days for b in effects.bands) if effects is not None else 0
    if effects is not None and effects.sufficient and days:
        with_effect = sum(b.n_with_side_effect for b in effects.bands)
        lines.append(
            gettext(
                "Of the days on which you recorded kratom and answered the side-effect "
                "question, you reported side effects on %(share)s."
            )
            % {"share": _percent(with_effect, days)}
        )
    lines.append(
        gettext(
            "This shows what went together in your diary, not what causes what. Days with "
            "more kratom can differ in other ways, for example in how bad the pain was to "
            "begin with."
        )
    )
    lines.append(
        gettext(
            "Please do not change how much you take because of this page. If you have "
            "questions about it, talk with your care team."
        )
    )
    return lines


def summary_digest(lines: list[str]) -> str:
    """A short fingerprint of the words a clinician saw, to check that they are still the
    words being shared."""
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:32]


def latest_release(patient: PatientProfile) -> AnalysisRelease | None:
    """The words most recently shared with the patient by their clinician, or None."""
    release: AnalysisRelease | None = patient.analysis_releases.select_related(
        "released_by"
    ).first()
    return release


def trial_observations(
    patient: PatientProfile,
    schedule: TrialSchedule,
    followed: dict[date, bool],
    until: date,
) -> list[TrialObservation]:
    """Daily pain and adherence from the trial's first day to ``until`` (at most its last).

    ``followed`` maps a day to the patient's answer to "I followed today's trial regimen":
    yes records the scheduled arm as taken, no records neither; no answer is not recorded.
    """
    last = min(until, schedule.end_date)
    if last < schedule.start_date:
        return []
    pain = daily_pain(patient, schedule.start_date, last)
    out: list[TrialObservation] = []
    for day in sorted(set(pain) | {d for d in followed if schedule.start_date <= d <= last}):
        taken: str | None = None
        if day in followed:
            plan = schedule.day_plan(day)
            arm = plan.arm.value if plan is not None and plan.arm is not None else None
            taken = arm if followed[day] and arm else "neither"
        out.append(TrialObservation(day, pain.get(day), taken))
    return out


def trial_analysis(
    trial: NofOneTrial,
    until: date,
    *,
    stopped_early: bool = False,
    stop_reason: str | None = None,
) -> TrialResult:
    """:func:`analyse_trial` on the stored schedule, the daily pain and the patient's answers,
    up to ``until``."""
    schedule = TrialSchedule.from_dict(trial.schedule)
    followed = dict(trial.days.values_list("day", "followed"))
    observations = trial_observations(trial.patient, schedule, followed, until)
    return analyse_trial(
        schedule, observations, stopped_early=stopped_early, stop_reason=stop_reason
    )


__all__ = [
    "WINDOW_DAYS",
    "DoseResponseView",
    "daily_pain",
    "diary_days",
    "dose_response",
    "latest_release",
    "patient_summary",
    "summary_digest",
    "trial_analysis",
    "trial_observations",
]
