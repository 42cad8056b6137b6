"""The clinician's visit report: one patient's last 12 weeks on at most two A4 pages.

``build_report`` gathers everything once, as plain sentences and lists; ``report_pdf`` lays
it out with matplotlib (``PdfPages``, as :func:`kratomwatch.clinic.exports.patient_pdf` does)
and the printable HTML view renders the same :class:`VisitReport`, so paper and screen say the
same thing. The report shows what was recorded and what the screening found. Amounts that
cannot be converted are shown as unknown, never estimated, and nothing here suggests a dose.

Page 1: header, summary, the findings not yet resolved (most severe first, each with the start
of its rationale and its references by PMID or DOI), then the timeline chart, which keeps its
room so that the findings take the rest. Page 2: active plan, questionnaire scores with change
(every questionnaire the clinician's patient page lists, the daily ratings included, and those
scheduled but not answered yet), medications, conditions, products, the remaining findings.
Text is wrapped to the measured width of the page and long lists end with "… and N more", so
nothing is drawn outside the page or over the footer.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.utils import timezone
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.ft2font import LoadFlags
from matplotlib.lines import Line2D

from kratomwatch.clinic.actions.screening import active_plan
from kratomwatch.clinic.charts import Series, trend_figure
from kratomwatch.clinic.exports import A4
from kratomwatch.clinic.models import (
    SEVERITY_RANK,
    Finding,
    FindingStatus,
    PatientProfile,
    Plan,
    Product,
)
from kratomwatch.clinic.pdf_text import FONT, drawable
from kratomwatch.clinic.trends import daily_series
from kratomwatch.domain.questionnaires import (
    InstrumentError,
    Score,
    compare,
    get_instrument,
)

PERIOD_DAYS = 84  # the last 12 weeks, today included
EDGE_DAYS = 14  # "first 2 weeks" and "last 2 weeks" of the period
FOOTER = (
    "KratomWatch visit report — measurements and screening findings to support clinical "
    "judgement; not a recommendation of any dose."
)

# Caps for page 2; whatever does not fit ends with "… and N more".
MAX_STEPS = 8
MAX_SCORES = 8
MAX_MEDICATIONS = 14
MAX_CONDITIONS = 8
MAX_PRODUCTS = 6


# --------------------------------------------------------------------------- content


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
    severity_counts: dict[str, int] = field(default_factory=dict)

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
    its latest score and change; and those scheduled but not answered yet."""
    by_instrument: dict[str, list[Any]] = {}
    for r in patient.responses.order_by("taken_at"):
        by_instrument.setdefault(r.instrument_id, []).append(r)
    lines = []
    for schedule in patient.questionnaire_schedules.filter(active=True):
        if schedule.instrument_id not in by_instrument:
            _, name = _instrument(schedule.instrument_id)
            every = _count(schedule.every_days, "day")
            text = f"{name}: scheduled every {every}; not answered yet."
            lines.append(ScoreLine(name, text, None, None))
    for responses in by_instrument.values():
        latest = responses[-1]
        instrument, name = _instrument(latest.instrument_id)
        taken = timezone.localtime(latest.taken_at).date()
        band = (latest.scores or {}).get("band")
        total = "not scored" if latest.total is None else _fmt(latest.total)
        text = f"{name}, {_day(taken)}: total {total}" + (f", {band}" if band else "")
        flags = (latest.scores or {}).get("flags") or []
        if flags:
            text += "; flagged: " + ", ".join(str(f).replace("_", " ") for f in flags)
        in_period = [r for r in responses if timezone.localtime(r.taken_at).date() >= first]
        change = None
        if len(in_period) >= 2:
            change = _change(instrument, in_period[0], latest)
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
        severity_counts={
            sev: sum(f.severity == sev for f in findings) for sev in ("high", "moderate", "low")
        },
    )


# --------------------------------------------------------------------------- layout

MARGIN = 0.6  # inches, left and right
TOP = 0.55
FOOTER_ZONE = 0.75  # nothing but the footer below this distance from the bottom edge
BODY, SMALL, HEAD = 8.5, 7.5, 11.0
INK, MUTED, ACCENT = "#1a1a1a", "#555555", "#0b5cad"
SEVERITY_INK = {"high": "#a4161a", "moderate": "#8a4b00", "low": "#2f5d2f"}
LEADING = 1.32


T = TypeVar("T")


@dataclass(frozen=True)
class Block:
    lines: list[str]
    size: float = BODY
    indent: float = 0


_ADVANCES: dict[tuple[str, str], float] = {}


def _advance(char: str, weight: str) -> float:
    """A character's advance width in points at 1 pt (DejaVu Sans, cached: measuring whole
    strings with FreeType costs about a millisecond each)."""
    key = (char, weight)
    if key not in _ADVANCES:
        font = get_font(findfont(FontProperties(family=FONT, weight=weight)))
        font.set_size(100, 72)
        glyph = font.load_char(ord(char), flags=LoadFlags.NO_HINTING)
        _ADVANCES[key] = glyph.linearHoriAdvance / 65536 / 100
    return _ADVANCES[key]


class _Sheet:
    """One A4 figure written top to bottom. Every line is wrapped to the measured text width
    and nothing is written below the footer zone: callers ask ``fits`` first."""

    def __init__(self, fig: Figure) -> None:
        self.fig = fig
        self.width, self.height = A4
        self.y = TOP  # inches from the top edge of the page
        self.bottom = self.height - FOOTER_ZONE

    def room(self) -> float:
        return self.bottom - self.y

    @staticmethod
    def lead(size: float) -> float:
        return size * LEADING / 72

    def fits(self, height: float) -> bool:
        return height <= self.room() + 1e-9

    @staticmethod
    def measure(text: str, size: float, weight: str = "normal") -> float:
        """Width in inches: the sum of the glyphs' advances (kerning only ever narrows it),
        as the text will be drawn (:func:`drawable`)."""
        return sum(_advance(c, weight) for c in drawable(text)) * size / 72

    def wrap(self, text: str, size: float, weight: str = "normal", indent: float = 0) -> list[str]:
        """``text`` in lines that each fit the width left of ``indent``, measured."""
        available = self.width - 2 * MARGIN - indent
        chars = max(10, int(available * 72 / (size * 0.45)))
        while True:
            lines = textwrap.wrap(text, chars, break_on_hyphens=False) or [""]
            if chars <= 10 or all(self.measure(x, size, weight) <= available for x in lines):
                return lines
            chars -= max(1, chars // 30)

    def write(
        self,
        lines: Sequence[str],
        size: float = BODY,
        *,
        weight: str = "normal",
        color: str = INK,
        indent: float = 0,
    ) -> None:
        for line in lines:
            self.fig.text(
                (MARGIN + indent) / self.width,
                1 - self.y / self.height,
                drawable(line),
                fontsize=size,
                weight=weight,
                color=color,
                va="top",
                family=FONT,
                parse_math=False,
            )
            self.y += self.lead(size)

    def clip(self, text: str, size: float, lines: int, indent: float = 0) -> list[str]:
        """``text`` wrapped to at most ``lines`` lines, the last ending in "…" if cut."""
        wrapped = self.wrap(text, size, indent=indent + 0.15)
        if len(wrapped) <= lines:
            return wrapped
        return wrapped[: lines - 1] + [wrapped[lines - 1].rstrip(" .…") + " …"]

    def paragraph(self, text: str, size: float = BODY, **kw: Any) -> None:
        """Write as much of ``text`` as fits; a cut paragraph ends with an ellipsis."""
        lines = self.wrap(text, size, kw.get("weight", "normal"), kw.get("indent", 0))
        n = int((self.room() + 1e-9) // self.lead(size))
        if n < len(lines):
            lines = lines[:n]
            if lines:
                lines[-1] = lines[-1].rstrip(" .…") + " …"
        self.write(lines, size, **kw)

    def section_minimum(self, lines: int) -> float:
        """A heading and ``lines`` lines of body text."""
        return 0.12 + self.lead(HEAD) + 0.03 + lines * self.lead(BODY)

    def heading(self, text: str) -> bool:
        """A section heading with a rule, if it and one line of body text fit."""
        if not self.fits(0.12 + self.lead(HEAD) + 0.03 + self.lead(BODY)):
            return False
        self.y += 0.12
        y = 1 - (self.y + self.lead(HEAD) - 0.02) / self.height
        self.fig.add_artist(
            Line2D(
                [MARGIN / self.width, 1 - MARGIN / self.width],
                [y, y],
                color="#d0d0d0",
                linewidth=0.6,
            )
        )
        self.write([text], HEAD, weight="bold", color=ACCENT)
        self.y += 0.03
        return True

    def items(
        self,
        entries: Sequence[T],
        cap: int,
        render: Callable[[T], list[Block]] | None = None,
        *,
        empty: str = "None recorded.",
    ) -> None:
        """A bulleted list: at most ``cap`` entries, and only those that fit whole; the rest
        are counted in a closing "… and N more"."""
        if not entries:
            self.paragraph(empty, color=MUTED)
            return
        shown = 0
        for entry in entries[:cap]:
            blocks = render(entry) if render else [Block(self.clip(f"• {entry}", BODY, 2))]
            height = sum(len(b.lines) * self.lead(b.size) for b in blocks)
            more = len(entries) - shown - 1 > 0
            if not self.fits(height + (self.lead(BODY) if more else 0)):
                break
            for b in blocks:
                self.write(b.lines, b.size, indent=b.indent)
            shown += 1
        if shown < len(entries):
            self.write([f"… and {len(entries) - shown} more"], color=MUTED)

    def footer(self, page: int, pages: int) -> None:
        w, h = self.width, self.height
        page_text = f"Page {page} of {pages}"
        y = 1 - (self.bottom + 0.12) / h
        self.fig.add_artist(
            Line2D([MARGIN / w, 1 - MARGIN / w], [y, y], color="#d0d0d0", linewidth=0.6)
        )
        available = w - 2 * MARGIN - self.measure(page_text, SMALL) - 0.3
        chars = int(available * 72 / (SMALL * 0.55))
        while True:
            lines = textwrap.wrap(FOOTER, chars)
            if all(self.measure(x, SMALL) <= available for x in lines):
                break
            chars -= 2
        for i, line in enumerate(lines):
            self.fig.text(
                MARGIN / w,
                y - (0.08 + i * self.lead(SMALL)) / h,
                line,
                fontsize=SMALL,
                color=MUTED,
                va="top",
                parse_math=False,
            )
        self.fig.text(
            1 - MARGIN / w,
            y - 0.08 / h,
            page_text,
            fontsize=SMALL,
            color=MUTED,
            va="top",
            ha="right",
            parse_math=False,
        )


CONTINUED = "Open findings (continued)"
CHART_HEIGHT = 3.3  # inches, legends and date labels included
RATIONALE_LINES = 2  # of a finding on paper; the printable view has it whole


def _page_one(report: VisitReport) -> tuple[Figure, int]:
    """Header, summary, the open findings most severe first, and the timeline below them:
    the findings take the room the timeline leaves, so the most severe are on this page."""
    # The timeline is the clinic's standard chart, drawn on the A4 page itself and moved
    # into its band, so that it stays vector graphics in the PDF.
    fig = trend_figure(report.series, width=A4[0], height=A4[1])
    fig.set_layout_engine("none")
    sheet = _Sheet(fig)
    sheet.write(sheet.wrap(f"Visit report: {report.patient_name}", 15, "bold"), 15, weight="bold")
    sheet.y += 0.02
    sheet.write(sheet.wrap(report.header, BODY), BODY, color=MUTED)

    sheet.heading("Summary")
    for line in report.summary:
        sheet.paragraph(line)

    caption = sheet.wrap(report.chart_caption, SMALL)
    timeline = sheet.section_minimum(0) + len(caption) * sheet.lead(SMALL) + CHART_HEIGHT
    bottom = sheet.bottom
    sheet.bottom = bottom - timeline
    sheet.heading(report.findings_heading)
    shown = _findings_on(
        sheet,
        report.findings,
        lambda n: f"{_count(n, 'more open finding')} continue{'s' if n == 1 else ''} on page 2.",
    )
    sheet.bottom = bottom

    sheet.heading("Timeline")
    sheet.write(caption, SMALL, color=MUTED)
    top_ax, bottom_ax = fig.axes[:2]
    w, h = A4
    left, right = MARGIN + 0.65, w - MARGIN - 0.05  # room for the axis labels
    base = sheet.y + CHART_HEIGHT  # inches from the top: bottom edge of the chart band
    # From the bottom up: date labels, the dose bars, their legend, the ratings, their legend.
    x_labels, bar_h, legend = 0.42, 1.0, 0.24
    line_h = CHART_HEIGHT - x_labels - bar_h - 2 * legend - 0.05
    bottom_ax.set_position((left / w, (h - base + x_labels) / h, (right - left) / w, bar_h / h))
    top_ax.set_position(
        (left / w, (h - base + x_labels + bar_h + legend) / h, (right - left) / w, line_h / h)
    )
    sheet.y = base
    sheet.footer(1, 2)
    return fig, shown


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _finding_lines(sheet: _Sheet, f: FindingLine) -> list[Block]:
    """A finding on paper: its heading, the start of its rationale, and its published
    references by identifier (PMID, DOI or address) on one line; the printable view has the
    rationale and the citations whole."""
    head = sheet.wrap(f.heading, BODY, "bold")
    if len(head) > 2:
        head = [head[0], head[1].rstrip(" .…") + " …"]
    blocks = [Block(head), Block(sheet.clip(f.rationale, BODY, RATIONALE_LINES), indent=0.15)]
    labels = "; ".join(r.label for r in f.references if r.label)
    if labels:
        blocks.append(Block(sheet.clip(f"References: {labels}", SMALL, 1), SMALL, 0.15))
    return blocks


def _findings_on(
    sheet: _Sheet, findings: Sequence[FindingLine], overflow: Callable[[int], str]
) -> int:
    """Write whole findings while they fit; return how many were written. When some do not
    fit, the last line says how many are left, in the words of ``overflow(n)``."""
    if not findings:
        sheet.paragraph("No open findings.", color=MUTED)
        return 0
    for index, f in enumerate(findings):
        blocks = _finding_lines(sheet, f)
        height = sum(len(b.lines) * sheet.lead(b.size) for b in blocks) + 0.06
        rest = len(findings) - index - 1
        if not sheet.fits(height + (sheet.lead(BODY) if rest else 0)):
            sheet.write([overflow(len(findings) - index)], color=MUTED)
            return index
        head, *body = blocks
        sheet.write(head.lines, weight="bold", color=SEVERITY_INK.get(f.severity, INK))
        for b in body:
            sheet.write(b.lines, b.size, color=INK if b.size == BODY else MUTED, indent=b.indent)
        sheet.y += 0.06
    return len(findings)


def _page_two(report: VisitReport, findings_shown: int) -> Figure:
    fig = Figure(figsize=A4)
    sheet = _Sheet(fig)
    sheet.write(
        sheet.wrap(f"Visit report: {report.patient_name} (continued)", 12, "bold"),
        12,
        weight="bold",
    )
    sheet.write(sheet.wrap(report.header, SMALL), SMALL, color=MUTED)

    def plan() -> None:
        p = report.plan
        if p is None:
            sheet.paragraph("No active plan.", color=MUTED)
            return
        sheet.write(sheet.clip(p.heading, BODY, 2))
        sheet.items(p.limits, len(p.limits))
        sheet.paragraph(p.review)
        if p.stop_rules:
            sheet.write(sheet.clip(f"Stop rules: {p.stop_rules}", BODY, 4))
        if p.steps and sheet.fits(2 * sheet.lead(BODY)):
            sheet.paragraph("Taper steps:")
            sheet.items(p.steps, MAX_STEPS)

    def score(line: ScoreLine) -> list[Block]:
        blocks = [Block(sheet.clip(f"• {line.text}", BODY, 2))]
        if line.change:
            blocks.append(Block(sheet.clip(line.change, SMALL, 2, indent=0.15), SMALL, 0.15))
        return blocks

    sections: list[tuple[str, Callable[[], None]]] = [
        ("Active plan", plan),
        (
            "Questionnaires: latest score, and change within the period",
            lambda: sheet.items(
                report.scores, MAX_SCORES, score, empty="No questionnaires recorded."
            ),
        ),
        ("Medications", lambda: sheet.items(report.medications, MAX_MEDICATIONS)),
        ("Conditions", lambda: sheet.items(report.conditions, MAX_CONDITIONS)),
        ("Products", lambda: sheet.items(report.products, MAX_PRODUCTS)),
    ]
    if findings_shown < len(report.findings):

        def more_findings() -> None:
            _findings_on(
                sheet,
                report.findings[findings_shown:],
                lambda n: f"… and {_count(n, 'more open finding')}: see the printable view.",
            )

        sections.append((CONTINUED, more_findings))
    # Each later section keeps room for its heading and a few lines, so every section appears
    # and a long one is cut short ("… and N more") rather than pushing others off the page.
    bottom = sheet.bottom
    for index, (title, draw) in enumerate(sections):
        later = [4 if t != CONTINUED else 2 for t, _ in sections[index + 1 :]]
        sheet.bottom = bottom - sum(sheet.section_minimum(n) for n in later)
        sheet.heading(title)
        draw()
    sheet.bottom = bottom
    sheet.footer(2, 2)
    return fig


def report_figures(report: VisitReport) -> list[Figure]:
    first, shown = _page_one(report)
    return [first, _page_two(report, shown)]


def report_pdf(report: VisitReport) -> bytes:
    buffer = io.BytesIO()
    metadata = {
        "Title": f"KratomWatch visit report: {report.patient_name}, {report.today.isoformat()}",
        "Creator": "KratomWatch",
    }
    with PdfPages(buffer, metadata=metadata) as pdf:
        for fig in report_figures(report):
            pdf.savefig(fig)
    return buffer.getvalue()
