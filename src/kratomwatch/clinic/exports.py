"""A patient's own data as a PDF summary (matplotlib; no system libraries needed)."""

from __future__ import annotations

import io
import textwrap
from datetime import timedelta

from django.utils import timezone
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from .charts import trend_figure
from .models import PatientProfile
from .trends import daily_series, summary

A4 = (8.27, 11.69)


def _text_page(title: str, lines: list[str]) -> Figure:
    fig = Figure(figsize=A4)
    fig.text(0.08, 0.95, title, fontsize=16, weight="bold", va="top")
    y = 0.91
    for line in lines:
        for part in textwrap.wrap(line, 95) or [""]:
            fig.text(0.08, y, part, fontsize=9, va="top", family="DejaVu Sans")
            y -= 0.018
            if y < 0.05:
                return fig
    return fig


def patient_pdf(patient: PatientProfile) -> bytes:
    now = timezone.localtime()
    last = now.date()
    series = daily_series(patient, last - timedelta(days=83), last)
    lines = [
        f"{patient.display_name} — data recorded in KratomWatch, exported {now:%d %B %Y %H:%M}.",
        "This summary shows what was recorded. It is not medical advice.",
        "",
        "Last 12 weeks:",
        *summary(series),
        "",
        "Products:",
    ]
    for product in patient.products.all():
        lines.append(
            f"  {product.name} ({product.get_form_display()})"
            + (f", strain label {product.strain_label}" if product.strain_label else "")
        )
    lines += ["", "Most recent doses:"]
    for dose in patient.doses.select_related("product")[:40]:
        lines.append(
            f"  {timezone.localtime(dose.taken_at):%Y-%m-%d %H:%M}  "
            f"{dose.amount.normalize():f} {dose.unit} of {dose.product.name}"
        )
    lines += ["", "Most recent questionnaires:"]
    for response in patient.responses.exclude(instrument_id="kw-daily-pain")[:20]:
        band = response.scores.get("band") or ""
        lines.append(
            f"  {timezone.localtime(response.taken_at):%Y-%m-%d}  "
            f"{response.instrument_id}: {response.total} {band}"
        )
    buffer = io.BytesIO()
    with PdfPages(
        buffer, metadata={"Title": "KratomWatch: my data", "Creator": "KratomWatch"}
    ) as pdf:
        pdf.savefig(_text_page("My KratomWatch data", lines))
        chart = trend_figure(series, width=A4[0] - 1, height=5)
        chart.suptitle("Pain, interference and daily dose: last 12 weeks")
        pdf.savefig(chart)
    return buffer.getvalue()


CSV_COLUMNS = {
    "doses.csv": [
        "taken_at",
        "product",
        "form",
        "amount",
        "unit",
        "leaf_equivalent_g",
        "mitragynine_mg",
        "hydroxymitragynine_mg",
        "source",
    ],
    "questionnaires.csv": [
        "taken_at",
        "instrument",
        "version",
        "answers",
        "total",
        "band",
        "flags",
    ],
    "symptoms.csv": ["reported_at", "symptom", "severity"],
    "checkins.csv": ["day", "submitted_at", "note"],
}


def _iso(value: object) -> str:
    return "" if value is None else timezone.localtime(value).isoformat()  # type: ignore[arg-type]


def _num(value: object) -> str:
    return "" if value is None else f"{value.normalize():f}"  # type: ignore[attr-defined]


def patient_csv_zip(patient: PatientProfile) -> bytes:
    """One CSV per kind of record, ISO 8601 times with UTC offsets, units in their own column."""
    import csv
    import zipfile

    rows: dict[str, list[list[str]]] = {name: [] for name in CSV_COLUMNS}
    for d in patient.doses.select_related("product").order_by("taken_at"):
        rows["doses.csv"].append(
            [
                _iso(d.taken_at),
                d.product.name,
                d.product.form,
                _num(d.amount),
                d.unit,
                _num(d.leaf_equivalent_g),
                _num(d.mitragynine_mg),
                _num(d.hydroxymitragynine_mg),
                d.source,
            ]
        )
    for r in patient.responses.order_by("taken_at"):
        rows["questionnaires.csv"].append(
            [
                _iso(r.taken_at),
                r.instrument_id,
                r.instrument_version,
                " ".join("" if a is None else str(a) for a in r.answers),
                _num(r.total),
                r.scores.get("band") or "",
                " ".join(r.scores.get("flags") or []),
            ]
        )
    for s in patient.symptoms.order_by("reported_at"):
        rows["symptoms.csv"].append([_iso(s.reported_at), s.term, s.get_severity_display()])
    for c in patient.checkins.order_by("submitted_at"):
        rows["checkins.csv"].append([c.day.isoformat(), _iso(c.submitted_at), c.note])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, columns in CSV_COLUMNS.items():
            text = io.StringIO()
            writer = csv.writer(text)
            writer.writerow(columns)
            writer.writerows(rows[name])
            archive.writestr(name, text.getvalue())
    return buffer.getvalue()
