"""The clinician's visit report on at most two A4 pages, drawn with matplotlib.

Page 1: header, summary, the findings not yet resolved (most severe first, each with the start
of its rationale and its references by PMID or DOI), then the timeline chart, which keeps its
room so that the findings take the rest. Page 2: active plan, questionnaire scores with change,
medications, conditions, products, the remaining findings. Text is wrapped to the measured
width of the page and long lists end with "… and N more", so nothing is drawn outside the page
or over the footer. The content comes from :func:`kratomwatch.clinic.reports.visit.build_report`.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.ft2font import LoadFlags
from matplotlib.lines import Line2D

from kratomwatch.clinic.charts import trend_figure
from kratomwatch.clinic.exports import A4
from kratomwatch.clinic.pdf_text import FONT, drawable
from kratomwatch.clinic.reports.visit import FOOTER, FindingLine, ScoreLine, VisitReport, plural

# Caps for page 2; whatever does not fit ends with "… and N more".
MAX_STEPS = 8
MAX_SCORES = 8
MAX_MEDICATIONS = 14
MAX_CONDITIONS = 8
MAX_PRODUCTS = 6
MAX_RESULTS = 6

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
    fig = trend_figure(report.series, width=A4[0], height=A4[1], constrained=False)
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
    if report.screening_line:
        sheet.paragraph(report.screening_line, SMALL, color=MUTED)
    shown = _findings_on(
        sheet,
        report.findings,
        lambda n: f"{plural(n, 'more open finding')} continue{'s' if n == 1 else ''} on page 2.",
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
        (
            "Latest results",
            lambda: sheet.items(report.results, MAX_RESULTS, empty="No results recorded."),
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
                lambda n: f"… and {plural(n, 'more open finding')}: see the printable view.",
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
