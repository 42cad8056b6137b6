"""A patient's daily series (pain, interference, dose) and a plain-language summary."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from kratomwatch.clinic.charts import Series, to_float
from kratomwatch.clinic.models import PatientProfile

MIN_DAYS_FOR_TREND = 7
DAILY = "kw-daily-pain"


def daily_series(patient: PatientProfile, first: date, last: date) -> Series:
    tz = timezone.get_current_timezone()
    dose_g: dict[date, Decimal] = defaultdict(Decimal)
    mg: dict[date, Decimal] = defaultdict(Decimal)
    unknown_g: set[date] = set()
    unknown_mg: set[date] = set()
    doses = patient.doses.filter(
        taken_at__date__gte=first - timedelta(days=1), taken_at__date__lte=last + timedelta(days=1)
    )
    for taken_at, leaf_g, mit_mg in doses.values_list(
        "taken_at", "leaf_equivalent_g", "mitragynine_mg"
    ):
        day = taken_at.astimezone(tz).date()
        if not first <= day <= last:
            continue
        if leaf_g is None:
            unknown_g.add(day)
        else:
            dose_g[day] += leaf_g
        if mit_mg is None:
            unknown_mg.add(day)
        else:
            mg[day] += mit_mg
    pain: dict[date, float] = {}
    interference: dict[date, float] = {}
    responses = patient.responses.filter(
        instrument_id=DAILY, taken_at__date__gte=first, taken_at__date__lte=last + timedelta(days=1)
    )
    for taken_at, scores in responses.order_by("taken_at").values_list("taken_at", "scores"):
        day = taken_at.astimezone(tz).date()
        if not first <= day <= last:
            continue
        subscales = scores.get("subscales", {})
        if subscales.get("pain") is not None:
            pain[day] = float(subscales["pain"])
        if subscales.get("interference") is not None:
            interference[day] = float(subscales["interference"])
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return Series(
        days=days,
        pain=[pain.get(d) for d in days],
        interference=[interference.get(d) for d in days],
        # A day with any dose of unknown amount has an unknown total: never a guess.
        dose_g=[None if d in unknown_g else to_float(dose_g.get(d)) for d in days],
        mitragynine_mg=[None if d in unknown_mg else to_float(mg.get(d)) for d in days],
    )


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def summary(series: Series) -> list[str]:
    """Plain words for the patient. Says so when there is not enough data, and never claims
    that a dose caused a change."""
    n_days = len(series.days)
    rated = [(d, v) for d, v in zip(series.days, series.pain, strict=True) if v is not None]
    if len(rated) < MIN_DAYS_FOR_TREND:
        return [
            _(
                "Not enough check-ins yet to show a trend: %(rated)d of the last %(days)d days "
                "have a pain rating, and at least %(needed)d are needed. Keep checking in each "
                "day."
            )
            % {"rated": len(rated), "days": n_days, "needed": MIN_DAYS_FOR_TREND}
        ]
    half = len(rated) // 2
    before, after = _mean([v for _, v in rated[:half]]), _mean([v for _, v in rated[half:]])
    lines = [
        _("You rated your pain on %(rated)d of the last %(days)d days.")
        % {"rated": len(rated), "days": n_days}
    ]
    change = after - before
    if abs(change) < 1:
        message = _(
            "Your average pain stayed about the same (%(before)s then %(after)s out of 10)."
        )
    elif change < 0:
        message = _(
            "Your average pain was lower in the second half of this period "
            "(%(before)s, then %(after)s out of 10)."
        )
    else:
        message = _(
            "Your average pain was higher in the second half of this period "
            "(%(before)s, then %(after)s out of 10)."
        )
    lines.append(message % {"before": f"{before:.1f}", "after": f"{after:.1f}"})
    doses = [v for v in series.dose_g if v is not None]
    if doses:
        lines.append(
            _(
                "On days with doses of known amount you took %(grams)s g leaf-equivalent a day "
                "on average."
            )
            % {"grams": f"{_mean(doses):.1f}"}
        )
    lines.append(
        _(
            "These numbers show what you recorded. They cannot tell whether kratom caused any "
            "change: talk it over with your care team."
        )
    )
    return lines
