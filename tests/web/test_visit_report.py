"""The clinician's visit report: a PDF of at most two A4 pages, and the same as a web page."""

from __future__ import annotations

import base64
import io
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import matplotlib.dates as mdates
import pypdfium2 as pdfium
import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image
from pypdf import PdfReader

from kratomwatch.clinic.models import (
    AuditEvent,
    DoseEntry,
    Finding,
    MedicationStatement,
    PatientCondition,
    PatientProfile,
    Plan,
    Product,
    QuestionnaireResponse,
)
from kratomwatch.clinic.reports.visit import build_report
from kratomwatch.clinic.reports.visit_pdf import FOOTER_ZONE, MARGIN, report_figures, report_pdf
from kratomwatch.domain.conditions import ConditionCode
from kratomwatch.domain.questionnaires import get_instrument, score
from kratomwatch.synthetic.seed import seed_demo_clinic

from .conftest import Triangle

A4_RATIO = 297 / 210


def at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), timezone.get_current_timezone())


def respond(
    patient: PatientProfile, instrument_id: str, answers: list[int], when: datetime, key: str
) -> QuestionnaireResponse:
    instrument = get_instrument(instrument_id)
    data = score(instrument, answers).to_dict()
    return QuestionnaireResponse.objects.create(
        patient=patient,
        instrument_id=instrument.id,
        instrument_version=instrument.version,
        answers=answers,
        total=data["total"],
        scores={k: data[k] for k in ("subscales", "band", "flags")},
        taken_at=when,
        idempotency_key=key,
    )


def dose(
    patient: PatientProfile, product: Product, when: datetime, grams: str | None, key: str
) -> None:
    DoseEntry.objects.create(
        patient=patient,
        product=product,
        taken_at=when,
        amount=Decimal("1") if grams is None else Decimal(grams),
        unit="g",
        leaf_equivalent_g=None if grams is None else Decimal(grams),
        mitragynine_mg=None,
        idempotency_key=key,
    )


def visit_record(tri: Triangle) -> date:
    """Paul's record: a referenced finding, a taper plan, PHQ-9 twice, medications, a
    condition, daily ratings and doses. Returns the report date."""
    today = timezone.localdate()
    patient = tri.patient
    tri.finding.references = [
        {
            "id": "tanna2023",
            "citation": "Tanna RS, et al. Clinical assessment of kratom drug interactions.",
            "pmid": "36924284",
            "url": "https://pubmed.ncbi.nlm.nih.gov/36924284/",
        },
        {"id": "doi-only", "citation": "Smith KE, et al. Kratom use.", "doi": "10.1000/xyz"},
    ]
    tri.finding.rationale = "Medication list includes Xanax. " * 30
    tri.finding.save()
    Plan.objects.create(
        patient=patient,
        version=2,
        kind="taper",
        author=tri.clinician,
        reason="Agreed taper",
        max_single_dose_g=Decimal("4"),
        max_daily_dose_g=Decimal("9"),
        max_doses_per_day=3,
        min_hours_between=Decimal("4"),
        review_on=today + timedelta(days=14),
        stop_rules="Stop and call if drowsy.",
        details={
            "steps": [
                {"start": (today + timedelta(days=7)).isoformat(), "daily_g": "8"},
                {"start": (today + timedelta(days=14)).isoformat(), "daily_g": "7"},
            ]
        },
    )
    respond(patient, "phq9", [2, 2, 2, 2, 2, 2, 1, 1, 1], at(today - timedelta(days=60)), "p1")
    respond(patient, "phq9", [1, 1, 1, 1, 1, 1, 1, 0, 1], at(today - timedelta(days=2)), "p2")
    MedicationStatement.objects.create(patient=patient, name_entered="Xanax", dose_text="0.5 mg")
    PatientCondition.objects.create(patient=patient, code="low_back_pain")
    first = today - timedelta(days=83)
    for i, (pain_now, pain_avg) in enumerate([(6, 8), (7, 7)]):  # first two weeks: 7 and 7
        respond(
            patient,
            "kw-daily-pain",
            [pain_now, pain_avg, 3, 3, 5],
            at(first + timedelta(i)),
            f"d{i}",
        )
    for i in range(3):  # last two weeks: 4, 4, 4
        respond(patient, "kw-daily-pain", [4, 4, 2, 2, 6], at(today - timedelta(i)), f"e{i}")
        dose(patient, tri.product, at(today - timedelta(i), 9), "3", f"g{i}")
    return today


def pdf_text(content: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(content))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def test_the_pdf_holds_the_visit_on_at_most_two_pages(client: Client, tri: Triangle) -> None:
    visit_record(tri)
    client.force_login(tri.clinician)
    response = client.get(reverse("visit_report_pdf", kwargs={"patient_uuid": tri.patient.uuid}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "Paul" not in response["Content-Disposition"]
    pages, text = pdf_text(response.content)
    assert 1 <= pages <= 2
    flat = " ".join(text.split())
    assert "Paul" in flat
    assert "Kratom with a benzodiazepine" in flat
    assert "PMID 36924284" in flat and "doi:10.1000/xyz" in flat
    assert "No more than 4 g leaf-equivalent per dose" in flat
    assert "No more than 9 g leaf-equivalent a day" in flat
    assert "At most 3 doses a day" in flat
    assert "daily limit 8 g" in flat
    assert "PHQ-9" in flat and "mild" in flat
    assert "clinically important improvement" in flat
    assert "flagged: suicidal ideation" in flat
    assert "Xanax" in flat and "Chronic low back pain" in flat and "Red Bali powder" in flat
    assert "not a recommendation of any dose" in flat
    assert "Page 1 of 2" in flat and "Page 2 of 2" in flat
    event = AuditEvent.objects.get(action="report.pdf")
    assert event.actor == tri.clinician and event.patient == tri.patient


def test_the_summary_says_what_is_known_and_what_is_not(tri: Triangle) -> None:
    today = visit_record(tri)
    unlabelled = Product.objects.create(
        patient=tri.patient, name="Loose powder", form="leaf_powder"
    )
    dose(tri.patient, unlabelled, at(today - timedelta(days=20)), None, "unknown")
    summary = " ".join(build_report(tri.patient, today).summary)
    assert "first 2 weeks 7 (2 ratings); last 2 weeks 4 (3 ratings)" in summary
    # Three days of 3 g are known; the day with a dose of unknown amount is not guessed.
    assert "Doses on 4 days: mean 3 g leaf-equivalent a day (total known on 3 of 4" in summary
    assert "mitragynine unknown" in summary


def test_the_first_page_is_a4_and_drawn(tri: Triangle, tmp_path: Path) -> None:
    today = visit_record(tri)
    content = report_pdf(build_report(tri.patient, today))
    document = pdfium.PdfDocument(content)
    try:
        image = document[0].render(scale=1).to_pil()
    finally:
        document.close()
    png = tmp_path / "page1.png"
    image.save(png)
    with Image.open(png) as page:
        width, height = page.size
        assert abs(height / width - A4_RATIO) < 0.01
        grey = page.convert("L")
        assert grey.getextrema()[0] < 128  # something dark is drawn
        assert sum(grey.histogram()[:250]) > 0.01 * width * height


def _blank(image: Image.Image, box: tuple[float, float, float, float]) -> bool:
    """Whether the region (inches from the top left) holds no ink at all."""
    dpi = image.size[0] / 8.27
    left, top, right, bottom = (round(v * dpi) for v in box)
    return image.convert("L").crop((left, top, right, bottom)).getextrema()[0] >= 250


def test_long_records_are_cut_short_inside_the_page(tri: Triangle) -> None:
    patient, now = tri.patient, timezone.now()
    for i in range(30):
        Finding.objects.create(
            patient=patient,
            code=f"c{i}",
            fingerprint=f"long{i}",
            severity=["high", "moderate", "low"][i % 3],
            category="test",
            title=f"Finding number {i} with a fairly long title that goes on and on " * 2,
            rationale="WWWW MMMM " * 120,
            references=[{"citation": "Longauthor " * 30, "url": "https://example.org/" + "x" * 300}]
            * 6,
            first_seen=now,
            last_seen=now,
        )
    for i in range(40):
        MedicationStatement.objects.create(
            patient=patient, name_entered=f"Medicine {i} " + "W" * 150, dose_text="1 mg " * 20
        )
    for code in ConditionCode:
        PatientCondition.objects.create(patient=patient, code=code.value, note="N" * 250)
    for i in range(12):
        Product.objects.create(patient=patient, name=f"Product {i} " + "M" * 180, form="capsule")
    Plan.objects.create(
        patient=patient,
        version=1,
        kind="taper",
        author=tri.clinician,
        reason="R" * 300,
        max_daily_dose_g=Decimal("9"),
        stop_rules="Stop when " * 200,
        details={"steps": [{"start": f"2030-01-{d:02d}", "daily_g": "5"} for d in range(1, 29)]},
    )
    for instrument, answers in [
        ("phq9", [1] * 9),
        ("gad7", [1] * 7),
        ("phq2", [1, 1]),
        ("gad2", [1, 1]),
        ("cows", [0] * 11),
        ("kw-withdrawal", [1] * 10),
    ]:
        n = len(get_instrument(instrument).items)
        respond(patient, instrument, (answers + [0] * n)[:n], now, f"q-{instrument}")

    report = build_report(patient)
    content = report_pdf(report)
    pages, text = pdf_text(content)
    assert pages == 2
    flat = " ".join(text.split())
    assert "more open findings continue on page 2" in flat
    assert "more open findings: see the printable view" in flat
    assert len(re.findall(r"… and \d+ more", flat)) >= 4  # references, lists, steps
    for heading in ("Active plan", "Questionnaires", "Medications", "Conditions", "Products"):
        assert heading in flat
    document = pdfium.PdfDocument(content)
    try:
        for index in range(2):
            image = document[index].render(scale=2).to_pil()
            h = image.size[1] / image.size[0] * 8.27
            assert _blank(image, (0, 0, MARGIN - 0.05, h))  # left margin
            assert _blank(image, (8.27 - MARGIN + 0.05, 0, 8.27, h))  # right margin
            assert _blank(image, (0, 0, 8.27, 0.4))  # top
            # between the last line of the body and the footer's rule
            assert _blank(image, (0, h - FOOTER_ZONE + 0.01, 8.27, h - FOOTER_ZONE + 0.1))
    finally:
        document.close()


def test_the_printable_view_has_the_same_sections(client: Client, tri: Triangle) -> None:
    visit_record(tri)
    client.force_login(tri.clinician)
    response = client.get(reverse("visit_report", kwargs={"patient_uuid": tri.patient.uuid}))
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "Visit report: Paul",
        "Summary",
        "Timeline",
        "Open findings (1 high",
        "Kratom with a benzodiazepine",
        'href="https://pubmed.ncbi.nlm.nih.gov/36924284/"',
        "PMID 36924284",
        "doi:10.1000/xyz",
        "Active plan",
        "No more than 4 g leaf-equivalent per dose",
        "clinically important improvement",
        "Medications",
        "Conditions",
        "Products",
        "not a recommendation of any dose",
        'href="/static/kratomwatch/report.css"',
        reverse("visit_report_pdf", kwargs={"patient_uuid": tri.patient.uuid}),
    ):
        assert text in html, text
    # The timeline is the standard SVG chart, as an image (no inline styles under the CSP).
    src = re.search(
        r'<img class="chart" src="data:image/svg\+xml;base64,([^"]+)" alt="([^"]+)"', html
    )
    assert src is not None and "Pain, interference and daily dose" in src.group(2)
    svg = base64.b64decode(src.group(1)).decode()
    assert svg.startswith('<svg role="img"') and "<title>" in svg
    css = finders.find("kratomwatch/report.css")
    assert css is not None and "@media print" in Path(str(css)).read_text()
    assert AuditEvent.objects.filter(action="report.view", patient=tri.patient).count() == 1


def test_the_patient_page_links_to_both(client: Client, tri: Triangle) -> None:
    client.force_login(tri.clinician)
    response = client.get(reverse("patient_detail", kwargs={"patient_uuid": tri.patient.uuid}))
    html = response.content.decode()
    assert reverse("visit_report_pdf", kwargs={"patient_uuid": tri.patient.uuid}) in html
    assert reverse("visit_report", kwargs={"patient_uuid": tri.patient.uuid}) in html


@pytest.mark.parametrize("who", ["outsider", "colleague", "patient"])
def test_no_one_else_gets_the_report(client: Client, tri: Triangle, who: str) -> None:
    client.force_login(tri.users()[who])
    for name in ("visit_report_pdf", "visit_report"):
        response = client.get(reverse(name, kwargs={"patient_uuid": tri.patient.uuid}))
        assert response.status_code == (403 if who == "patient" else 404)
        assert b"Paul" not in response.content
    assert not AuditEvent.objects.filter(action__startswith="report.").exists()


def test_a_report_for_every_demo_patient(db: None) -> None:
    today = timezone.localdate()
    demo = seed_demo_clinic(patients=6, days=60, today=today)
    for patient in PatientProfile.objects.filter(clinic=demo.clinic):
        pages, text = pdf_text(report_pdf(build_report(patient, today)))
        assert 1 <= pages <= 2
        assert patient.display_name in " ".join(text.split())


def test_the_most_severe_findings_are_on_page_one(tri: Triangle) -> None:
    """Six high and moderate findings, each with a long rationale and three references, and
    eight low ones: every high and moderate one is on page 1, before any low one."""
    patient, now = tri.patient, timezone.now()
    tri.finding.delete()
    refs = [
        {"citation": "Author A, et al. A long title of a study of kratom. " * 3, "pmid": "1"},
        {"citation": "Author B, et al. Another study.", "doi": "10.1000/abc"},
        {"citation": "Author C, et al. A third one.", "pmid": "3"},
    ]
    severe = []
    for i, severity in enumerate(["high"] * 3 + ["moderate"] * 3 + ["low"] * 8):
        title = f"{severity.title()} finding {i}"
        Finding.objects.create(
            patient=patient,
            code=f"c{i}",
            fingerprint=f"f{i}",
            severity=severity,
            category="test",
            title=title,
            rationale="A rationale that explains the finding at some length. " * 12,
            references=refs,
            first_seen=now,
            last_seen=now - timedelta(minutes=i),
        )
        if severity != "low":
            severe.append(title)
    reader = PdfReader(io.BytesIO(report_pdf(build_report(patient))))
    page_one = " ".join(reader.pages[0].extract_text().split())
    for title in severe:
        assert title in page_one, title
    assert "PMID 1; doi:10.1000/abc; PMID 3" in page_one
    assert page_one.index("Open findings") < page_one.index("Timeline")


def test_the_report_lists_the_questionnaires_the_patient_page_shows(
    client: Client, tri: Triangle
) -> None:
    """The daily ratings and every questionnaire answered, as on the clinician's patient
    page, and the scheduled ones not answered yet."""
    today = visit_record(tri)
    client.force_login(tri.clinician)
    url = reverse("patient_detail", kwargs={"patient_uuid": tri.patient.uuid})
    page = client.get(f"{url}?tab=records")
    shown = set(page.context["responses"].values_list("instrument_id", flat=True))
    assert {"kw-daily-pain", "phq9", "gad2"} <= shown
    tri.patient.questionnaire_schedules.create(
        instrument_id="gad7", every_days=28, created_by=tri.clinician
    )
    _, text = pdf_text(report_pdf(build_report(tri.patient, today)))
    flat = " ".join(text.split())
    for instrument_id in shown:
        instrument = get_instrument(instrument_id)
        assert f"{instrument.short_title or instrument.title}, " in flat, instrument_id
    gad7 = get_instrument("gad7")
    assert f"{gad7.short_title or gad7.title}: scheduled every 28 days; not answered yet" in flat


def test_the_chart_has_its_legends_beside_the_data_and_dates_in_words(tri: Triangle) -> None:
    today = visit_record(tri)
    report = build_report(tri.patient, today)
    page = report_figures(report)[0]
    renderer = FigureCanvasAgg(page).get_renderer()
    page.draw(renderer)
    top, bottom = page.axes[:2]
    for ax in (top, bottom):
        legend = ax.get_legend().get_window_extent(renderer)
        plot = ax.get_window_extent(renderer)
        assert legend.y0 >= plot.y1 - 0.5  # above the panel, over no bar or line
        assert legend.y1 <= page.bbox.height
    assert top.get_window_extent(renderer).y0 > bottom.get_legend().get_window_extent(renderer).y1
    labels = [t for t in bottom.get_xticklabels() if t.get_text()]
    assert 4 <= len(labels) <= 8
    assert all(re.fullmatch(r"\d{1,2} [A-Z][a-z]{2}", t.get_text()) for t in labels)
    assert bottom.xaxis.get_offset_text().get_text() == ""
    boxes = [t.get_window_extent(renderer) for t in labels]
    assert all(a.x1 < b.x0 for a, b in zip(boxes, boxes[1:], strict=False))  # no overlap
    first, last = bottom.get_xlim()
    assert first < mdates.date2num(report.first) and last > mdates.date2num(report.last)


def test_the_report_names_the_latest_results_on_the_page_and_in_the_pdf(
    client: Client, tri: Triangle
) -> None:
    from kratomwatch.clinic.actions.results import do_record_results
    from kratomwatch.domain.results import check_batch

    today = visit_record(tri)
    client.force_login(tri.clinician)
    url = reverse("visit_report_pdf", kwargs={"patient_uuid": tri.patient.uuid})
    assert "No results recorded." in " ".join(pdf_text(client.get(url).content)[1].split())
    taken = at(today - timedelta(days=2), 8)
    batch = check_batch(
        taken_at=taken,
        values={
            "alt": {"value": "92", "unit": "U/L"},
            "bilirubin": {"value": "17.1", "unit": "µmol/L"},
        },
        screens={"benzodiazepines": "positive", "cocaine": "negative", "opioids": "not_tested"},
        specimen="urine",
        now=timezone.now(),
    )
    do_record_results(patient=tri.patient, user=tri.clinician, batch=batch)
    lines = build_report(tri.patient, today).results
    assert any(line.startswith("ALT") and "92 U/L" in line and "(above)" in line for line in lines)
    assert any("Total bilirubin: 1 mg/dL" in line for line in lines)
    assert any("positive: Benzodiazepines; 1 item negative" in line for line in lines)
    flat = " ".join(pdf_text(client.get(url).content)[1].split())
    assert "Latest results" in flat and "Benzodiazepines" in flat
    page = client.get(reverse("visit_report", kwargs={"patient_uuid": tri.patient.uuid}))
    assert "presumptive until confirmed" in page.content.decode()
