"""The clinician's timeline: what was recorded about a patient, on one time axis.

Daily dose, pain and interference (:func:`.trends.daily_series`), side effects reported a day,
each questionnaire's totals (the withdrawal checklist among them), and markers: plan versions,
findings and results.

Extension point: markers come from the functions in :data:`MARKER_SOURCES`, each
``(patient, first day, last day) -> markers``; score rows from :data:`SCORE_SOURCES`. A new kind of
record (lab, ECG and drug-screen results, say) joins the chart and its table by filling
:func:`result_markers` or adding a function to a list: the drawing and the table take whatever
they are given (a marker kind of :data:`.charts.MARKER_KINDS`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date, timedelta

from django.utils import timezone
from django.utils.translation import gettext

from kratomwatch.clinic.charts import Marker, Scores, Timeline
from kratomwatch.clinic.data_msgids import data_text
from kratomwatch.clinic.models import (
    FindingStatus,
    LabResult,
    PatientProfile,
    ResultKind,
    ScreenOutcome,
)
from kratomwatch.clinic.templatetags.labels import instrument_name
from kratomwatch.clinic.trends import DAILY, daily_series
from kratomwatch.domain.results import load_lab_tests

PERIOD_DAYS = 84  # the last 12 weeks, today included

MarkerSource = Callable[[PatientProfile, date, date], Iterable[Marker]]
ScoreSource = Callable[[PatientProfile, date, date], Iterable[Scores]]


def _day(moment: object) -> date:
    return timezone.localtime(moment).date()  # type: ignore[arg-type]


def plan_markers(patient: PatientProfile, first: date, last: date) -> list[Marker]:
    """Each plan version approved in the period: a vertical line across the chart."""
    plans = patient.plans.filter(
        approved_at__date__gte=first, approved_at__date__lte=last
    ).order_by("version")
    return [
        Marker(
            _day(p.approved_at),
            "plan",
            gettext("Plan version %(version)s (%(kind)s)")
            % {"version": p.version, "kind": p.get_kind_display()},
        )
        for p in plans
    ]


def finding_markers(patient: PatientProfile, first: date, last: date) -> list[Marker]:
    """Findings not resolved, on the day their cause began."""
    found = patient.findings.exclude(status=FindingStatus.RESOLVED)
    markers = []
    for f in found:
        day = _day(f.caused_at)
        if first <= day <= last:
            markers.append(
                Marker(
                    day,
                    "finding",
                    gettext("Finding (%(severity)s): %(title)s")
                    % {"severity": f.get_severity_display(), "title": data_text(f.title)},
                    f.severity,
                )
            )
    return markers


def result_markers(patient: PatientProfile, first: date, last: date) -> list[Marker]:
    """Lab, ECG and drug-screen results taken in the period: one marker per sample, naming
    what was above its limit or positive."""
    catalogue = load_lab_tests()
    labels = {
        **{k: v.label for k, v in catalogue.analytes.items()},
        **{k: v.label for k, v in catalogue.screen_items.items()},
    }
    batches: dict[object, list[LabResult]] = {}
    for r in patient.results.filter(taken_at__date__gte=first, taken_at__date__lte=last).order_by(
        "taken_at"
    ):
        batches.setdefault(r.batch, []).append(r)
    markers = []
    for results in batches.values():
        flagged = []
        for r in results:
            if r.kind == ResultKind.MEASUREMENT:
                info = catalogue.analytes.get(r.analyte)
                uln = (
                    r.upper_limit
                    if r.upper_limit is not None
                    else getattr(info, "upper_limit_of_normal", None)
                )
                if uln is not None and r.value is not None and r.value > uln:
                    flagged.append(
                        gettext("%(test)s %(value)s %(unit)s above its limit")
                        % {
                            "test": data_text(labels.get(r.analyte, r.analyte)),
                            "value": f"{r.value.normalize():f}",
                            "unit": r.unit,
                        }
                    )
            elif r.outcome == ScreenOutcome.POSITIVE:
                flagged.append(
                    gettext("%(item)s positive")
                    % {"item": data_text(labels.get(r.analyte, r.analyte))}
                )
        text = gettext("Results: %(what)s") % {
            "what": "; ".join(flagged) if flagged else gettext("none above its limit or positive")
        }
        markers.append(Marker(_day(results[0].taken_at), "result", text))
    return markers


def questionnaire_scores(patient: PatientProfile, first: date, last: date) -> list[Scores]:
    """Each questionnaire's totals but the daily ratings (drawn as pain and interference)."""
    points: dict[str, list[tuple[date, float]]] = {}
    responses = (
        patient.responses.exclude(instrument_id=DAILY)
        .filter(taken_at__date__gte=first, taken_at__date__lte=last, total__isnull=False)
        .order_by("taken_at")
        .values_list("instrument_id", "taken_at", "total")
    )
    for instrument_id, taken_at, total in responses:
        points.setdefault(instrument_id, []).append((_day(taken_at), float(total)))
    return [
        Scores(instrument_name(i), tuple(p)) for i, p in sorted(points.items(), key=lambda x: x[0])
    ]


#: Where the timeline's markers come from (see the module's docstring).
MARKER_SOURCES: list[MarkerSource] = [plan_markers, finding_markers, result_markers]
#: Where its rows of scores come from.
SCORE_SOURCES: list[ScoreSource] = [questionnaire_scores]


def build_timeline(patient: PatientProfile, last: date | None = None) -> Timeline:
    last = last or timezone.localdate()
    first = last - timedelta(days=PERIOD_DAYS - 1)
    side_effects = Counter(
        _day(at)
        for at in patient.symptoms.filter(
            reported_at__date__gte=first, reported_at__date__lte=last
        ).values_list("reported_at", flat=True)
    )
    markers = [m for source in MARKER_SOURCES for m in source(patient, first, last)]
    return Timeline(
        series=daily_series(patient, first, last),
        side_effects=dict(side_effects),
        scores=tuple(s for source in SCORE_SOURCES for s in source(patient, first, last)),
        markers=tuple(sorted(markers, key=lambda m: (m.day, m.kind))),
    )
