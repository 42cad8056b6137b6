"""Charts drawn on the server with matplotlib, as SVG for pages and as figures for PDFs.

The same functions draw the patient's trends and the clinician's timeline, so a chart looks
the same on screen and on paper. Every SVG carries a title and a text description for
screen readers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from xml.sax.saxutils import escape

import matplotlib
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

matplotlib.use("Agg")
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.dates import date2num, num2date  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

PAIN = "#b3261e"
INTERFERENCE = "#7d5700"
DOSE = "#0b5cad"


@dataclass(frozen=True)
class Series:
    days: Sequence[date]
    pain: Sequence[float | None]
    interference: Sequence[float | None]
    dose_g: Sequence[float | None]
    mitragynine_mg: Sequence[float | None]


def _points(days: Sequence[date], values: Sequence[float | None]) -> tuple[list[date], list[float]]:
    pairs = [(d, float(v)) for d, v in zip(days, values, strict=True) if v is not None]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _bars(
    days: Sequence[date], values: Sequence[float], *, width: float, color: str, label: str
) -> PolyCollection:
    """One bar a day, centred on the day, as a single collection. It draws what ``Axes.bar``
    draws, but ``bar`` adds each bar as a patch and updates the data limits for each: for 84
    days, 25 of the 41 ms that building the whole chart took."""
    half = width / 2
    return PolyCollection(
        [
            [(x - half, 0), (x - half, v), (x + half, v), (x + half, 0)]
            for x, v in zip(date2num(days), values, strict=True)
        ],
        facecolors=color,
        edgecolors="none",
        label=label,
    )


#: At most this many dates under the chart, each written in full ("7 Dec").
DATE_TICKS = 7


def trend_figure(
    series: Series, *, width: float = 7.0, height: float = 3.6, constrained: bool = True
) -> Figure:
    """Pain and interference above, daily dose below. Each legend sits above its panel, never
    over the data, and every date on the axis is written as day and month.

    With ``constrained=False`` the figure has no layout engine and the caller places the two
    axes itself (the visit report does). A figure that had one, even one turned off later with
    ``set_layout_engine("none")``, is drawn twice each time it is saved, once for the layout."""
    fig = Figure(figsize=(width, height), layout="constrained" if constrained else None)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    for values, colour, label, style in (
        (series.pain, PAIN, _("Pain (0-10)"), "-"),
        (series.interference, INTERFERENCE, _("Interference (0-10)"), "--"),
    ):
        x, y = _points(series.days, values)
        top.plot(x, y, style, color=colour, label=label, marker="o", markersize=2.5, linewidth=1.4)
    top.set_ylim(0, 10)
    top.set_ylabel("0-10")
    top.grid(alpha=0.3)
    x, y = _points(series.days, series.dose_g)
    bottom.add_collection(_bars(x, y, width=0.8, color=DOSE, label=_("Leaf-equivalent g / day")))
    bottom.set_ylim(0, max(y, default=0) * 1.1 or 1)  # no negative grams, even with no bar
    bottom.set_ylabel(_("g / day"))
    bottom.grid(alpha=0.3, axis="y")
    for ax, columns in ((top, 2), (bottom, 1)):
        ax.legend(
            loc="lower left",
            bbox_to_anchor=(0, 1),
            borderaxespad=0.2,
            fontsize=8,
            frameon=False,
            ncols=columns,
        )
        ax.tick_params(labelsize=8)
    if series.days:
        first, last = min(series.days), max(series.days)
        bottom.set_xlim(date2num(first) - 0.5, date2num(last) + 0.5)  # whole bars at both ends
        step = max(1, -(-((last - first).days + 1) // DATE_TICKS))
        step = 7 * -(-step // 7) if step > 3 else step  # weekly steps from the first day
        bottom.set_xticks(
            [first + timedelta(days=d) for d in range(0, (last - first).days + 1, step)]
        )  # type: ignore[list-item]
    # Day and month in the active language ("7 Dec", "7 dic").
    bottom.xaxis.set_major_formatter(FuncFormatter(lambda x, _: date_format(num2date(x), "j M")))
    return fig


def describe(series: Series) -> str:
    pains = [v for v in series.pain if v is not None]
    doses = [v for v in series.dose_g if v is not None]
    if not series.days:
        return _("No data in this period.")
    span = {
        "first": date_format(series.days[0], "d M Y"),
        "last": date_format(series.days[-1], "d M Y"),
    }
    pain = (
        _("pain recorded on %(days)d days, from %(low)s to %(high)s;")
        % {"days": len(pains), "low": f"{min(pains):g}", "high": f"{max(pains):g}"}
        if pains
        else _("no pain ratings;")
    )
    dose = (
        _("daily dose recorded on %(days)d days, from %(low)s to %(high)s g leaf-equivalent.")
        % {"days": len(doses), "low": f"{min(doses):.1f}", "high": f"{max(doses):.1f}"}
        if doses
        else _("no doses with a known amount.")
    )
    return _("From %(first)s to %(last)s:") % span + f" {pain} {dose}"


def _pain_lines(
    series: Series, x: Callable[[int], float], y_pain: Callable[[float], float]
) -> list[str]:
    """Pain (solid) and interference (dashed) as SVG polylines, broken where a day has no
    value; a value with no neighbour is drawn as a dot."""
    out: list[str] = []
    for values, colour, dash in (
        (series.pain, PAIN, ""),
        (series.interference, INTERFERENCE, ' stroke-dasharray="5 3"'),
    ):
        segment: list[str] = []
        paths: list[list[str]] = []
        for i, v in enumerate(values):
            if v is None:
                if segment:
                    paths.append(segment)
                segment = []
                continue
            segment.append(f"{x(i):.1f},{y_pain(v):.1f}")
        if segment:
            paths.append(segment)
        for points in paths:
            if len(points) == 1:
                cx, cy = points[0].split(",")
                out.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{colour}"/>')
            else:
                out.append(
                    f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dash} '
                    f'points="{" ".join(points)}"/>'
                )
    return out


def trend_svg(series: Series, title: str, *, width: int = 640, height: int = 340) -> str:
    """The trend chart as inline SVG, drawn directly.

    Pages show this on every visit, so it is written out in a millisecond rather than drawn
    by matplotlib (about 200 ms a chart); PDFs use :func:`trend_figure`, with the same panels,
    colours and scales.
    """
    left, right, top, gap, bottom = 44, 12, 28, 26, 26
    inner_w = width - left - right
    pain_h = (height - top - gap - bottom) * 3 // 5
    dose_h = height - top - gap - bottom - pain_h
    dose_top = top + pain_h + gap
    n = max(1, len(series.days))
    step = inner_w / n

    def x(i: int) -> float:
        return left + step * (i + 0.5)

    def y_pain(v: float) -> float:
        return top + pain_h * (1 - v / 10)

    doses = [v for v in series.dose_g if v is not None]
    dose_max = max([*doses, 1.0])
    dose_max = float(int(dose_max) + 1)
    out = [
        f'<svg role="img" class="chart" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title><desc>{escape(describe(series))}</desc>",
    ]
    for v in (0, 5, 10):
        y = y_pain(v)
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#ddd"/><text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{v}</text>"
        )
    out.append(
        f'<text x="{left}" y="{top - 10}">'
        + escape(_("Pain (solid) and interference (dashed), 0-10"))
        + "</text>"
    )
    out.extend(_pain_lines(series, x, y_pain))
    out.append(
        f'<text x="{left}" y="{dose_top - 8}">'
        + escape(_("Leaf-equivalent g a day (no bar: none or unknown)"))
        + "</text>"
    )
    for v in (0.0, dose_max):
        y = dose_top + dose_h * (1 - v / dose_max)
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#ddd"/><text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{v:g}</text>"
        )
    bar_w = max(1.0, step * 0.8)
    for i, v in enumerate(series.dose_g):
        if v:
            h = dose_h * v / dose_max
            out.append(
                f'<rect x="{x(i) - bar_w / 2:.1f}" y="{dose_top + dose_h - h:.1f}" '
                f'width="{bar_w:.1f}" height="{h:.1f}" fill="{DOSE}"/>'
            )
    if series.days:
        ticks = sorted({0, len(series.days) // 2, len(series.days) - 1})
        for i in ticks:
            out.append(
                f'<text x="{x(i):.1f}" y="{height - 8}" text-anchor="middle">'
                f"{escape(date_format(series.days[i], 'd M'))}</text>"
            )
    out.append("</svg>")
    return "".join(out)


@dataclass(frozen=True)
class Marker:
    """One event on the timeline: a plan version, a finding, a result. ``kind`` chooses the
    lane and the shape; ``text`` says what it was, in words."""

    day: date
    kind: str  # one of MARKER_KINDS
    text: str
    severity: str = ""  # findings: "high", "moderate" or "low"


@dataclass(frozen=True)
class Scores:
    """A questionnaire's totals (or another score) over time: one row of the timeline."""

    label: str
    points: tuple[tuple[date, float], ...]


@dataclass(frozen=True)
class Timeline:
    """Everything on the clinician's timeline, on one time axis (``series.days``)."""

    series: Series
    side_effects: dict[date, int]  # side effects reported that day
    scores: tuple[Scores, ...]
    markers: tuple[Marker, ...]


#: Marker kinds in the order of their lanes; a kind with no marker in the period has no lane,
#: except plan versions, drawn as vertical lines across the whole chart.
MARKER_KINDS = ("plan", "finding", "result")
#: Shapes say the severity, so colour is never the only sign: ▲ high, ◆ moderate, ● low.
SEVERITY_SHAPE = {"high": "▲", "moderate": "◆", "low": "●"}
SEVERITY_COLOUR = {"high": "#b3261e", "moderate": "#7d5700", "low": "#37474f"}


def _lane_labels() -> dict[str, str]:
    return {"finding": _("Findings"), "result": _("Results")}


def timeline_svg(timeline: Timeline, title: str, *, width: int = 960) -> str:
    """Doses, pain and interference, side effects, questionnaire totals, plan versions,
    findings and results on one time axis, as inline SVG with a title and a description.
    The page puts the same points in a table beside it."""
    series = timeline.series
    left, right = 150, 12
    inner_w = width - left - right
    n = max(1, len(series.days))
    step = inner_w / n
    index = {d: i for i, d in enumerate(series.days)}

    def x(i: int) -> float:
        return left + step * (i + 0.5)

    out: list[str] = []
    y = 22
    lanes = [k for k in MARKER_KINDS[1:] if any(m.kind == k for m in timeline.markers)]
    for kind in lanes:
        label = escape(_lane_labels()[kind])
        out.append(f'<text x="{left - 8}" y="{y + 12}" text-anchor="end">{label}</text>')
        for marker in timeline.markers:
            if marker.kind != kind or marker.day not in index:
                continue
            shape = SEVERITY_SHAPE.get(marker.severity, "◆")
            colour = SEVERITY_COLOUR.get(marker.severity, "#37474f")
            out.append(
                f'<text x="{x(index[marker.day]):.1f}" y="{y + 13}" text-anchor="middle" '
                f'fill="{colour}" font-size="13">{shape}</text>'
            )
        y += 22
    pain_top, pain_h = y + 18, 110
    out.append(
        f'<text x="{left}" y="{pain_top - 6}">'
        + escape(_("Pain (solid) and interference (dashed), 0-10"))
        + "</text>"
    )

    def y_pain(v: float) -> float:
        return pain_top + pain_h * (1 - v / 10)

    for v in (0, 5, 10):
        yy = y_pain(v)
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{yy:.1f}" y2="{yy:.1f}" '
            f'stroke="#ddd"/><text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end">'
            f"{v}</text>"
        )
    out.extend(_pain_lines(series, x, y_pain))
    dose_top, dose_h = pain_top + pain_h + 30, 70
    out.append(
        f'<text x="{left}" y="{dose_top - 8}">'
        + escape(_("Leaf-equivalent g a day (no bar: none or unknown)"))
        + "</text>"
    )
    doses = [v for v in series.dose_g if v is not None]
    dose_max = float(int(max([*doses, 1.0])) + 1)
    for v in (0.0, dose_max):
        yy = dose_top + dose_h * (1 - v / dose_max)
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{yy:.1f}" y2="{yy:.1f}" '
            f'stroke="#ddd"/><text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end">'
            f"{v:g}</text>"
        )
    bar_w = max(1.0, step * 0.8)
    for i, v in enumerate(series.dose_g):
        if v:
            h = dose_h * v / dose_max
            out.append(
                f'<rect x="{x(i) - bar_w / 2:.1f}" y="{dose_top + dose_h - h:.1f}" '
                f'width="{bar_w:.1f}" height="{h:.1f}" fill="{DOSE}"/>'
            )
    y = dose_top + dose_h + 10
    rows: list[tuple[str, dict[int, str]]] = [
        (
            _("Side effects (reports)"),
            {index[d]: str(c) for d, c in timeline.side_effects.items() if d in index and c},
        )
    ]
    rows += [
        (s.label, {index[d]: f"{v:g}" for d, v in s.points if d in index}) for s in timeline.scores
    ]
    for label, values in rows:
        out.append(f'<text x="{left - 8}" y="{y + 14}" text-anchor="end">{escape(label)}</text>')
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y + 18}" y2="{y + 18}" stroke="#eee"/>'
        )
        shown_at = -1e9
        for i, text in sorted(values.items()):
            out.append(f'<circle cx="{x(i):.1f}" cy="{y + 18}" r="2.5" fill="#37474f"/>')
            if x(i) - shown_at >= 18:  # the value where it fits; all of them in the table
                out.append(
                    f'<text x="{x(i):.1f}" y="{y + 12}" text-anchor="middle" '
                    f'font-size="9">{escape(text)}</text>'
                )
                shown_at = x(i)
        y += 24
    bottom = y + 6
    for marker in timeline.markers:
        if marker.kind == "plan" and marker.day in index:
            xx = x(index[marker.day])
            out.append(
                f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{pain_top - 16}" y2="{bottom}" '
                f'stroke="#112233" stroke-dasharray="2 2"/>'
                f'<text x="{xx + 3:.1f}" y="{pain_top + 10}" font-size="10">'
                f"{escape(marker.text)}</text>"
            )
    if series.days:
        for i in sorted({0, len(series.days) // 2, len(series.days) - 1}):
            out.append(
                f'<text x="{x(i):.1f}" y="{bottom + 14}" text-anchor="middle">'
                f"{escape(date_format(series.days[i], 'd M'))}</text>"
            )
    height = bottom + 22
    head = [
        f'<svg role="img" class="chart timeline" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title><desc>{escape(describe_timeline(timeline))}</desc>",
    ]
    return "".join([*head, *out, "</svg>"])


def describe_timeline(timeline: Timeline) -> str:
    """The chart in words, for screen readers; the table under it lists every point."""
    parts = [describe(timeline.series)]
    reports = sum(timeline.side_effects.values())
    parts.append(
        _("Side effects: %(n)d reports on %(days)d days.")
        % {"n": reports, "days": sum(1 for c in timeline.side_effects.values() if c)}
    )
    for scores in timeline.scores:
        n = len(scores.points)
        parts.append(
            ngettext("%(label)s: %(n)d total.", "%(label)s: %(n)d totals.", n)
            % {"label": scores.label, "n": n}
        )
    for kind, label in (("plan", _("Plan versions")), *_lane_labels().items()):
        count = sum(1 for m in timeline.markers if m.kind == kind)
        if count:
            parts.append(_("%(label)s: %(n)d.") % {"label": label, "n": count})
    return " ".join(parts)


def timeline_rows(timeline: Timeline) -> list[dict[str, object]]:
    """The timeline as table rows, one per day with anything on it, oldest first."""
    series = timeline.series
    scores: dict[date, list[str]] = {}
    for s in timeline.scores:
        for d, v in s.points:
            scores.setdefault(d, []).append(f"{s.label} {v:g}")
    events: dict[date, list[str]] = {}
    for m in timeline.markers:
        events.setdefault(m.day, []).append(m.text)
    rows = []
    for i, d in enumerate(series.days):
        row = {
            "day": d,
            "dose_g": series.dose_g[i],
            "pain": series.pain[i],
            "interference": series.interference[i],
            "side_effects": timeline.side_effects.get(d, 0),
            "scores": scores.get(d, []),
            "events": events.get(d, []),
        }
        if any(row[k] for k in ("dose_g", "side_effects", "scores", "events")) or any(
            row[k] is not None for k in ("pain", "interference")
        ):
            rows.append(row)
    return rows


def to_float(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)
