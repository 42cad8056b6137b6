"""Charts drawn on the server with matplotlib, as SVG for pages and as figures for PDFs.

The same functions draw the patient's trends and the clinician's timeline, so a chart looks
the same on screen and on paper. Every SVG carries a title and a text description for
screen readers.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from xml.sax.saxutils import escape

import matplotlib

matplotlib.use("Agg")
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

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


def trend_figure(series: Series, *, width: float = 7.0, height: float = 3.6) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    for values, colour, label, style in (
        (series.pain, PAIN, "Pain (0-10)", "-"),
        (series.interference, INTERFERENCE, "Interference (0-10)", "--"),
    ):
        x, y = _points(series.days, values)
        top.plot(x, y, style, color=colour, label=label, marker="o", markersize=2.5, linewidth=1.4)
    top.set_ylim(0, 10)
    top.set_ylabel("0-10")
    top.grid(alpha=0.3)
    top.legend(loc="upper left", fontsize=8, frameon=False, ncols=2)
    x, y = _points(series.days, series.dose_g)
    bottom.bar(x, y, color=DOSE, width=0.8, label="Leaf-equivalent g / day")
    bottom.set_ylabel("g / day")
    bottom.grid(alpha=0.3, axis="y")
    bottom.legend(loc="upper left", fontsize=8, frameon=False)
    if series.days:
        bottom.set_xlim(min(series.days), max(series.days))
    locator = AutoDateLocator(minticks=3, maxticks=7)
    bottom.xaxis.set_major_locator(locator)
    bottom.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    for ax in (top, bottom):
        ax.tick_params(labelsize=8)
    return fig


def describe(series: Series) -> str:
    pains = [v for v in series.pain if v is not None]
    doses = [v for v in series.dose_g if v is not None]
    if not series.days:
        return "No data in this period."
    text = f"From {series.days[0]:%d %b %Y} to {series.days[-1]:%d %b %Y}: "
    text += (
        f"pain recorded on {len(pains)} days, from {min(pains):g} to {max(pains):g}; "
        if pains
        else "no pain ratings; "
    )
    text += (
        f"daily dose recorded on {len(doses)} days, from {min(doses):.1f} to "
        f"{max(doses):.1f} g leaf-equivalent."
        if doses
        else "no doses with a known amount."
    )
    return text


def trend_svg(series: Series, title: str, *, width: float = 7.0, height: float = 3.6) -> str:
    fig = trend_figure(series, width=width, height=height)
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    start = svg.index("<svg")
    head_end = svg.index(">", start) + 1
    a11y = f"<title>{escape(title)}</title><desc>{escape(describe(series))}</desc>"
    opening = svg[start:head_end].replace("<svg ", '<svg role="img" class="chart" ', 1)
    return opening + a11y + svg[head_end:]


def to_float(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)
