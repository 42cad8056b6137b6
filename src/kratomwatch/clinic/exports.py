"""A patient's own data as a PDF summary (matplotlib; no system libraries needed)."""

from __future__ import annotations

import io
import textwrap
from datetime import timedelta
from pathlib import Path

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from kratomwatch.clinic.charts import trend_figure
from kratomwatch.clinic.data_msgids import data_text
from kratomwatch.clinic.models import PatientProfile, User
from kratomwatch.clinic.pdf_text import FONT, drawable
from kratomwatch.clinic.trends import daily_series, summary

A4 = (8.27, 11.69)


def _text_page(title: str, lines: list[str]) -> Figure:
    fig = Figure(figsize=A4)
    fig.text(0.08, 0.95, title, fontsize=16, weight="bold", va="top", parse_math=False)
    y = 0.91
    for line in lines:
        for part in textwrap.wrap(drawable(line), 95) or [""]:
            fig.text(0.08, y, part, fontsize=9, va="top", family=FONT, parse_math=False)
            y -= 0.018
            if y < 0.05:
                return fig
    return fig


def patient_pdf(patient: PatientProfile) -> bytes:
    now = timezone.localtime()
    last = now.date()
    series = daily_series(patient, last - timedelta(days=83), last)
    lines = [
        _("%(name)s — data recorded in KratomWatch, exported %(when)s.")
        % {"name": patient.display_name, "when": date_format(now, "j F Y H:i")},
        _("This summary shows what was recorded. It is not medical advice."),
        "",
        _("Last 12 weeks:"),
        *summary(series),
        "",
        _("Products:"),
    ]
    for product in patient.products.all():
        lines.append(
            f"  {product.name} ({data_text(product.get_form_display())})"
            + (
                ", " + _("strain label %(label)s") % {"label": product.strain_label}
                if product.strain_label
                else ""
            )
        )
    lines += ["", _("Most recent doses:")]
    for dose in patient.doses.select_related("product")[:40]:
        when = f"{timezone.localtime(dose.taken_at):%Y-%m-%d %H:%M}"
        lines.append(
            f"  {when}  "
            + _("%(amount)s %(unit)s of %(product)s")
            % {
                "amount": f"{dose.amount.normalize():f}",
                "unit": dose.unit,
                "product": dose.product.name,
            }
        )
    lines += ["", _("Most recent questionnaires:")]
    for response in patient.responses.exclude(instrument_id="kw-daily-pain")[:20]:
        band = response.scores.get("band") or ""
        lines.append(
            f"  {timezone.localtime(response.taken_at):%Y-%m-%d}  "
            f"{response.instrument_id}: {response.total} {band}"
        )
    buffer = io.BytesIO()
    with PdfPages(
        buffer, metadata={"Title": _("KratomWatch: my data"), "Creator": "KratomWatch"}
    ) as pdf:
        pdf.savefig(_text_page(_("My KratomWatch data"), lines))
        chart = trend_figure(series, width=A4[0] - 1, height=5)
        chart.suptitle(_("Pain, interference and daily dose: last 12 weeks"))
        pdf.savefig(chart)
    return buffer.getvalue()


def _induction_csv(patient: PatientProfile, folder: Path) -> None:
    """Buprenorphine transition plans and their logs, when there are any."""
    from kratomwatch.interop.csv_write import CsvWriter

    plans = list(patient.induction_plans.order_by("created"))
    if not plans:
        return
    with (folder / "buprenorphine_plans.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = CsvWriter(handle)
        writer.writerow(
            [
                "plan",
                "version",
                "opened_at",
                "ended_at",
                "product",
                "planned_start",
                "min_hours_since_kratom",
                "cows_threshold",
                "plan_text",
                "patient_text",
                "end_reason",
            ]
        )
        for plan in plans:
            writer.writerow(
                [
                    str(plan.uuid),
                    plan.version,
                    timezone.localtime(plan.created).isoformat(),
                    "" if plan.ended_at is None else timezone.localtime(plan.ended_at).isoformat(),
                    plan.product_text,
                    "" if plan.planned_start is None else plan.planned_start.isoformat(),
                    f"{plan.min_hours_since_kratom.normalize():f}",
                    plan.cows_threshold,
                    plan.plan_text,
                    plan.patient_text,
                    plan.end_reason,
                ]
            )
    with (folder / "buprenorphine_log.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = CsvWriter(handle)
        writer.writerow(["plan", "at", "buprenorphine_mg", "cows", "sedation_level", "notes"])
        for entry in patient.induction_log.select_related("plan").order_by("at", "pk"):
            writer.writerow(
                [
                    str(entry.plan.uuid),
                    timezone.localtime(entry.at).isoformat(),
                    "" if entry.dose_mg is None else f"{entry.dose_mg.normalize():f}",
                    "" if entry.cows is None else entry.cows,
                    "" if entry.sedation is None else entry.sedation,
                    entry.notes,
                ]
            )


def patient_csv_zip(patient: PatientProfile, actor: User | None = None) -> bytes:
    """Everything recorded about the patient: the documented CSV export of
    kratomwatch.interop (see docs/interoperability.md) plus their check-in notes, zipped."""
    import tempfile
    import zipfile
    from pathlib import Path

    from kratomwatch.interop.csv_export import export_csv
    from kratomwatch.interop.csv_write import CsvWriter

    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="kratomwatch-export-") as tmp:
        folder = Path(tmp)
        export_csv([patient], folder, actor=actor)
        with (folder / "checkins.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = CsvWriter(handle)
            writer.writerow(["day", "submitted_at", "received_at", "note"])
            for c in patient.checkins.order_by("submitted_at"):
                received = "" if c.received_at is None else timezone.localtime(c.received_at)
                writer.writerow(
                    [
                        c.day.isoformat(),
                        timezone.localtime(c.submitted_at).isoformat(),
                        received if isinstance(received, str) else received.isoformat(),
                        c.note,
                    ]
                )
        _induction_csv(patient, folder)
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.glob("*.csv")):
                archive.write(path, path.name)
    return buffer.getvalue()
