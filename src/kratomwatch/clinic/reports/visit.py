"""The clinician's visit report, gathered: one patient's last 12 weeks as plain sentences and lists.

``build_report`` reads everything once into a :class:`VisitReport`; the PDF
(:mod:`kratomwatch.clinic.reports.visit_pdf`) and the printable HTML view render the same
report, so paper and screen say the same thing. The report shows what was recorded and what
the screening found. Amounts that cannot be converted are shown as unknown, never estimated,
and nothing here suggests a dose.

The report holds the findings not yet resolved (most severe first, each with its rationale and
its references by PMID or DOI), the active plan, questionnaire scores with change (every
questionnaire the clinician's patient page lists, the daily ratings included, and those
scheduled but not answered yet), medications, conditions and products.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Min
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from kratomwatch.clinic.actions.screening import active_plan
from kratomwatch.clinic.charts import Series
from kratomwatch.clinic.lab_results import latest_results
from kratomwatch.clinic.models import (
    SEVERITY_RANK,
    Finding,
    FindingStatus,
    PatientProfile,
    Plan,
    Product,
)
from kratomwatch.clinic.trends import daily_series
from kratomwatch.domain.questionnaires import (
    InstrumentError,
    Score,
    compare,
    get_instrument,
)
from kratomwatch.domain.safety.knowledge import KnowledgeError, load_knowledge

PERIOD_DAYS = 84  # the last 12 weeks, today included
EDGE_DAYS = 14  # "first 2 weeks" and "last 2 weeks" of the period
FOOTER = (
    "KratomWatch visit report — measurements and screening findings to support clinical "
    "judgement; not a recommendation of any dose."
)


@dataclass(frozen=True)
class ReferenceLine:
    citation: str
    label: str
    """``PMID 123``, ``doi:10.…`` or the address; empty when there is none, or when the
    citation already contains it."""
    url: str

    @property
    def text(self) -> str:
        return f"{self.citation} {self.label}".strip()


@dataclass(frozen=True)
class FindingLine:
    severity: str
    severity_label: str
    title: str
    status: str
    rationale: str
    references: tuple[ReferenceLine, ...]

    @property
    def heading(self) -> str:
        return f"{self.severity_label.upper()} · {self.title} ({self.status})"


@dataclass(frozen=True)
class ScoreLine:
    instrument: str
    text: str
    band: str | None
    change: str | None


@dataclass(frozen=True)
class PlanSummary:
    heading: str
    limits: tuple[str, ...]
    review: str
    stop_rules: str
    steps: tuple[str, ...]


@dataclass
class VisitReport:
    patient_name: str
    year_of_birth: int | None
    today: date
    first: date
    last: date
    series: Series
    summary: list[str]
    findings: list[FindingLine]
    plan: PlanSummary | None
    scores: list[ScoreLine]
    medications: list[str]
    conditions: list[str]
    products: list[str]
    #: The latest result of each test, then the latest drug screen, a line each.
    results: list[str] = field(default_factory=list)
    severity_counts: dict[str, int] = field(default_factory=dict)
    #: "Screened with knowledge base 2026.12.0 (released 7 Dec 2026)", or empty when the
    #: record has not been screened yet.
    screening_line: str = ""

    @property
    def header(self) -> str:
        born = f"born {self.year_of_birth}" if self.year_of_birth else "year of birth not recorded"
        return (
            f"{born} · report date {_day(self.today)} · period {_day(self.first)} to "
            f"{_day(self.last)} (last 12 weeks)"
        )

    @property
    def findings_heading(self) -> str:
        if not self.findings:
            return "Open findings"
        counts = ", ".join(
            f"{n} {sev}" for sev in ("high", "moderate", "low") if (n := self.severity_counts[sev])
        )
        return f"Open findings ({counts})"

    @property
    def chart_caption(self) -> str:
        return (
            "Pain and interference as rated by the patient (0-10), and daily dose in grams "
            "leaf-equivalent. A day without a bar had no dose recorded, or a dose whose amount "
            "could not be converted."
        )


def _day(d: date) -> str:
    return f"{d.day} {d:%b %Y}"


def _fmt(value: Decimal | float | int | None, places: int = 1) -> str:
    if value is None:
        return "unknown"
    text = f"{Decimal(str(value)):.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _mean(values: Sequence[float | None]) -> tuple[float | None, int]:
    known = [v for v in values if v is not None]
    return (sum(known) / len(known) if known else None), len(known)


def plural(n: int, noun: str) -> str:
    """``1 day``, ``2 days``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _summary(patient: PatientProfile, series: Series, first: date, last: date) -> list[str]:
    tz = timezone.get_current_timezone()
    checkin_days = set(
        patient.checkins.filter(day__gte=first, day__lte=last).values_list("day", flat=True)
    )
    checkin_days |= {
        d
        for d, p, i in zip(series.days, series.pain, series.interference, strict=True)
        if p is not None or i is not None
    }
    dose_days = {
        t.astimezone(tz).date()
        for t in patient.doses.filter(
            taken_at__date__gte=first - timedelta(days=1),
            taken_at__date__lte=last + timedelta(days=1),
        ).values_list("taken_at", flat=True)
    }
    dose_days = {d for d in dose_days if first <= d <= last}
    lines = [f"Check-ins or daily ratings: {len(checkin_days)} of {len(series.days)} days."]

    edge = min(EDGE_DAYS, len(series.days))
    before, n_before = _mean(series.pain[:edge])
    after, n_after = _mean(series.pain[-edge:])

    def pain(value: float | None, n: int) -> str:
        return "no ratings" if value is None else f"{_fmt(value)} ({n} ratings)"

    lines.append(
        f"Mean pain (0-10): first 2 weeks {pain(before, n_before)}; "
        f"last 2 weeks {pain(after, n_after)}."
    )

    if not dose_days:
        lines.append("Doses: none recorded in the period.")
    else:
        n = len(dose_days)
        grams, n_g = _mean(series.dose_g)
        mg, n_mg = _mean(series.mitragynine_mg)
        if grams is None:
            g_text = "leaf-equivalent amount unknown (no dose day has a convertible total)"
        else:
            g_text = f"mean {_fmt(grams)} g leaf-equivalent a day"
            if n_g < n:
                g_text += f" (total known on {n_g} of {n} dose days; the rest unknown)"
        if mg is None:
            mg_text = "mitragynine unknown (no dose day has a known total)"
        else:
            mg_text = f"mean {_fmt(mg, 0)} mg mitragynine a day"
            if n_mg < n:
                mg_text += f" (known on {n_mg} of {n} dose days; the rest unknown)"
        lines.append(f"Doses on {n} days: {g_text}; {mg_text}.")
    lines.append(
        "These are recorded values; they do not show what caused any change in pain or dose."
    )
    return lines


def _reference(ref: Any) -> ReferenceLine:
    if not isinstance(ref, dict):
        return ReferenceLine(str(ref), "", "")
    url = str(ref.get("url") or "")
    if ref.get("pmid"):
        label = f"PMID {ref['pmid']}"
    elif ref.get("doi"):
        label = f"doi:{ref['doi']}"
    else:
        label = url
    citation = str(ref.get("citation") or ref.get("id") or "")
    if label and label in citation:  # some citations already end with their address
        label = ""
    return ReferenceLine(citation, label, url)


def _findings(patient: PatientProfile) -> list[FindingLine]:
    findings: list[Finding] = sorted(
        patient.findings.exclude(status=FindingStatus.RESOLVED),
        key=lambda f: (-SEVERITY_RANK.get(f.severity, 0), -f.last_seen.timestamp()),
    )
    lines = []
    for f in findings:
        status = f.get_status_display().lower()
        status += f", first seen {_day(timezone.localtime(f.first_seen).date())}"
        if not f.active:
            status += ", cause no longer present"
        rationale = " ".join(f.rationale.split())
        lines.append(
            FindingLine(
                severity=f.severity,
                severity_label=f.get_severity_display(),
                title=f.title,
                status=status,
                rationale=rationale,
                references=tuple(_reference(r) for r in f.references or []),
            )
        )
    return lines


def _plan(plan: Plan | None, today: date) -> PlanSummary | None:
    if plan is None:
        return None
    author = plan.author.get_full_name() or plan.author.username
    heading = (
        f"{plan.get_kind_display()} plan, version {plan.version}, by {author} on "
        f"{_day(timezone.localtime(plan.approved_at).date())}"
        + (f" (reason: {plan.reason})" if plan.reason else "")
        + "."
    )
    limits = []
    if plan.starting_dose_g is not None:
        limits.append(
            f"Starting dose written in the plan: {_fmt(plan.starting_dose_g, 2)} g leaf-equivalent."
        )
    if plan.max_single_dose_g is not None:
        limits.append(f"No more than {_fmt(plan.max_single_dose_g, 2)} g leaf-equivalent per dose.")
    if plan.max_daily_dose_g is not None:
        limits.append(f"No more than {_fmt(plan.max_daily_dose_g, 2)} g leaf-equivalent a day.")
    if plan.max_doses_per_day is not None:
        limits.append(f"At most {plan.max_doses_per_day} doses a day.")
    if plan.min_hours_between is not None:
        limits.append(f"At least {_fmt(plan.min_hours_between)} hours between doses.")
    if plan.max_weekly_increase_pct is not None:
        limits.append(
            f"Daily amount to rise by no more than {_fmt(plan.max_weekly_increase_pct)} % a week."
        )
    if not limits:
        limits.append("No numeric limits set.")
    if plan.review_on is None:
        review = "Review date: not set."
    else:
        review = f"Review on {_day(plan.review_on)}" + (
            " (overdue)." if plan.review_on < today else "."
        )
    steps = []
    for step in (plan.details or {}).get("steps") or []:
        if isinstance(step, dict) and "start" in step and "daily_g" in step:
            try:
                start = _day(date.fromisoformat(str(step["start"])))
            except ValueError:
                start = str(step["start"])
            steps.append(f"From {start}: daily limit {step['daily_g']} g leaf-equivalent.")
        else:
            steps.append(str(step))
    return PlanSummary(
        heading, tuple(limits), review, " ".join(plan.stop_rules.split()), tuple(steps)
    )


def _number(value: Any) -> int | Decimal:
    d = Decimal(str(value))
    return int(d) if d == d.to_integral_value() else d.normalize()


def _stored_score(response: Any) -> Score | None:
    """The score as it was computed when the answers were given (context flags included)."""
    if response.total is None:
        return None
    scores = response.scores or {}
    return Score(
        instrument=response.instrument_id,
        version=response.instrument_version,
        total=_number(response.total),
        subscales={
            k: None if v is None else _number(v) for k, v in (scores.get("subscales") or {}).items()
        },
        band=scores.get("band"),
        flags=list(scores.get("flags") or []),
    )


def _instrument(instrument_id: str) -> tuple[Any, str]:
    """The instrument loaded for ``instrument_id`` (None if unknown) and its name to show."""
    try:
        instrument = get_instrument(instrument_id)
    except InstrumentError:
        return None, "An instrument no longer loaded"
    return instrument, instrument.short_title or instrument.title


def _scores(patient: PatientProfile, first: date) -> list[ScoreLine]:
    """Every questionnaire the clinician's patient page lists (the daily ratings included):
    its latest score and change; and those scheduled but not answered yet.

    Only the two responses compared are read for each questionnaire, not its whole history
    (a year of daily ratings is 365 rows)."""
    answered = [
        row["instrument_id"]
        for row in patient.responses.order_by()
        .values("instrument_id")
        .annotate(since=Min("taken_at"))
        .order_by("since")
    ]
    lines = []
    for schedule in patient.questionnaire_schedules.filter(active=True):
        if schedule.instrument_id not in answered:
            _, name = _instrument(schedule.instrument_id)
            every = plural(schedule.every_days, "day")
            text = f"{name}: scheduled every {every}; not answered yet."
            lines.append(ScoreLine(name, text, None, None))
    for instrument_id in answered:
        responses = patient.responses.filter(instrument_id=instrument_id).order_by("taken_at", "pk")
        latest = responses.last()
        if latest is None:  # deleted since the list above was read
            continue
        # The first in the period: the latest is in the period whenever any response is.
        baseline = responses.filter(taken_at__date__gte=first).first()
        instrument, name = _instrument(latest.instrument_id)
        taken = timezone.localtime(latest.taken_at).date()
        band = (latest.scores or {}).get("band")
        total = "not scored" if latest.total is None else _fmt(latest.total)
        text = f"{name}, {_day(taken)}: total {total}" + (f", {band}" if band else "")
        flags = (latest.scores or {}).get("flags") or []
        if flags:
            text += "; flagged: " + ", ".join(str(f).replace("_", " ") for f in flags)
        change = None
        if baseline is not None and baseline.pk != latest.pk:
            change = _change(instrument, baseline, latest)
        lines.append(ScoreLine(name, text + ".", band, change))
    lines.sort(key=lambda s: s.instrument.lower())
    return lines


def _change(instrument: Any, baseline: Any, latest: Any) -> str:
    since = _day(timezone.localtime(baseline.taken_at).date())
    if instrument is None or baseline.instrument_version != latest.instrument_version:
        return f"Not compared with {since}: the instrument version differs."
    if latest.instrument_version != instrument.version:
        return f"Not compared with {since}: the stored version is not the one loaded."
    before, after = _stored_score(baseline), _stored_score(latest)
    if before is None or after is None:
        return f"Not compared with {since}: a score is missing."
    try:
        ch = compare(before, after, instrument=instrument)
    except ValueError:
        return f"Not compared with {since}: a score is missing."
    target = "" if ch.target == "total" else f" ({ch.target})"
    delta = Decimal(str(ch.absolute_change))
    text = f"Change since {since}{target}: {_fmt(ch.baseline)} to {_fmt(ch.followup)}, "
    text += f"{'+' if delta > 0 else ''}{_fmt(delta)}"
    if ch.percent_change is not None:
        text += f" ({'+' if ch.percent_change > 0 else ''}{_fmt(ch.percent_change)} %)"
    if ch.category is not None:
        text += f": {ch.category}"
    elif ch.basis == "percent":
        text += f": {ch.direction}; a percent change from 0 cannot be classified"
    elif ch.direction is not None:
        text += f": {ch.direction}; no validated threshold to classify it"
    return text + "."


def _product(p: Product) -> str:
    kind = p.get_form_display() + (f", {p.strain_label}" if p.strain_label else "")
    for value, unit in (
        (p.mitragynine_mg_per_g, "mg/g"),
        (p.mitragynine_mg_per_unit, "mg per unit"),
        (p.mitragynine_mg_per_ml, "mg/ml"),
    ):
        if value is not None:
            potency = f"mitragynine {_fmt(value, 2)} {unit} ({p.get_potency_source_display()})"
            break
    else:
        potency = "mitragynine content unknown"
    return f"{p.name} ({kind}): {potency}"


def build_report(patient: PatientProfile, today: date | None = None) -> VisitReport:
    today = today or timezone.localdate()
    first = today - timedelta(days=PERIOD_DAYS - 1)
    series = daily_series(patient, first, today)
    findings = _findings(patient)
    medications = []
    for m in patient.medications.all():
        text = m.name_entered + (f" — {m.dose_text}" if m.dose_text else "")
        if m.stopped_on is not None:
            text += f" (stopped {_day(m.stopped_on)})"
        medications.append(text)
    conditions = [
        c.get_code_display() + (f" ({c.note})" if c.note else "")
        for c in patient.conditions.filter(active=True).order_by("code")
    ]
    return VisitReport(
        patient_name=patient.display_name,
        year_of_birth=patient.year_of_birth,
        today=today,
        first=first,
        last=today,
        series=series,
        summary=_summary(patient, series, first, today),
        findings=findings,
        plan=_plan(active_plan(patient), today),
        scores=_scores(patient, first),
        medications=medications,
        conditions=conditions,
        products=[_product(p) for p in patient.products.filter(archived=False)],
        results=_results(patient),
        severity_counts={
            sev: sum(f.severity == sev for f in findings) for sev in ("high", "moderate", "low")
        },
        screening_line=screening_line(patient),
    )


def _results(patient: PatientProfile) -> list[str]:
    """The latest value of each test with its upper limit, then the latest drug screen."""
    rows = latest_results(patient)
    lines = []
    for r in rows:
        if r.kind != "measurement" or r.value is None:
            continue
        text = f"{r.label}: {_plain(r.value)} {r.unit}"
        if r.upper_limit is not None:
            above = " (above)" if r.flag == "high" else ""
            text += f"; upper limit {_plain(r.upper_limit)} {r.unit}{above}"
        lines.append(f"{text}, {_day(timezone.localtime(r.taken_at).date())}")
    screens = [r for r in rows if r.kind != "measurement" and r.outcome != "not_tested"]
    if screens:
        latest = max(r.taken_at for r in screens)
        same = [r for r in screens if r.taken_at == latest]
        positive = [r.label for r in same if r.flag == "positive"]
        negative = len(same) - len(positive)
        text = f"Drug screen {_day(timezone.localtime(latest).date())} ({same[0].specimen_label}): "
        text += f"positive: {', '.join(positive)}" if positive else "no item positive"
        if positive and negative:
            text += f"; {plural(negative, 'item')} negative"
        lines.append(text + ". Screens are presumptive until confirmed.")
    return lines


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def screening_line(patient: PatientProfile) -> str:
    """Which knowledge-base release screened the record, and when that release was made."""
    version = patient.screened_knowledge
    if not version:
        return ""
    try:
        kb = load_knowledge()
    except (KnowledgeError, OSError):
        return gettext("Screened with knowledge base %(version)s.") % {"version": version}
    released = date_format(kb.released, "j M Y")
    if kb.version != version:
        return gettext(
            "Screened with knowledge base %(version)s; release %(release)s (%(released)s) "
            "will screen it again shortly."
        ) % {"version": version, "release": kb.version, "released": released}
    return gettext("Screened with knowledge base %(version)s (released %(released)s).") % {
        "version": version,
        "released": released,
    }
