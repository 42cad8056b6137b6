"""Any text in the database reaches the PDFs (the visit report and the patient's export):
glyphs the font lacks are replaced, ``$`` is never read as a formula, and the PDF is always
produced."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from kratomwatch.clinic.exports import patient_pdf
from kratomwatch.clinic.models import MedicationStatement, Product
from kratomwatch.clinic.pdf_text import REPLACEMENT, drawable
from kratomwatch.clinic.reports.visit import build_report
from kratomwatch.clinic.reports.visit_pdf import report_pdf

from .conftest import Triangle
from .test_visit_report import visit_record

NAMES = [
    "Red 😀 Bali $x^2$ 中文 🐢",  # an emoji the font has, one it lacks, Chinese, mathtext
    "$\\frac{a}{b",  # not even valid mathtext
    "$5 a pack $$ \\undefined $",
    "Tab\tline\nbreak\x01soh\x1b",  # control characters stored before they were refused
    "مرحبا e\u0301 👨\u200d👩\u200d👧",  # right to left, combining accent, joined emoji
    "\ufeff",  # a zero-width no-break space alone (pasted text), which the font has
    "Bali\ufeff powder \u202eredwop\u200b",  # inside a name, with a direction override
]

# Any character PostgreSQL can store (it refuses NUL; the forms and the API refuse every
# control character, but older records may hold them).
TEXT = st.characters(codec="utf-8", exclude_characters="\x00")


def text_of(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_what_the_font_lacks_is_replaced_and_the_rest_kept() -> None:
    assert drawable("Red 😀 $x^2$ 中文 🐢") == f"Red 😀 $x^2$ {REPLACEMENT * 2} {REPLACEMENT}"
    assert drawable("a\x00b\nc\td") == "a b c d"
    assert drawable("مرحبا é") == "مرحبا é"
    assert drawable("\ufeffa\u200bb\u202ec\u2066") == "abc"  # format characters draw nothing


@pytest.mark.parametrize("name", NAMES)
def test_the_visit_report_and_the_export_are_produced_for_any_name(
    client: Client, tri: Triangle, name: str
) -> None:
    visit_record(tri)
    Product.objects.create(patient=tri.patient, name=name, form="leaf_powder")
    MedicationStatement.objects.create(patient=tri.patient, name_entered=name, dose_text=name)
    client.force_login(tri.clinician)
    response = client.get(reverse("visit_report_pdf", kwargs={"patient_uuid": tri.patient.uuid}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    report = text_of(response.content)
    client.force_login(tri.patient.user)
    response = client.get(reverse("my_data_pdf"))
    assert response.status_code == 200
    export = text_of(response.content)
    if name.startswith("Red"):  # written as typed: the dollar signs are not a formula
        for text in (report, export):
            assert "Red 😀 Bali $x^2$" in text


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.text(TEXT, max_size=60), st.text(TEXT, max_size=300))
def test_any_unicode_in_any_record_gives_both_pdfs(tri: Triangle, name: str, note: str) -> None:
    product = Product.objects.create(patient=tri.patient, name=name, form="leaf_powder")
    med = MedicationStatement.objects.create(patient=tri.patient, name_entered=name or "x")
    tri.finding.title, tri.finding.rationale = name, note
    tri.finding.save()
    try:
        assert report_pdf(build_report(tri.patient)).startswith(b"%PDF")
        assert patient_pdf(tri.patient).startswith(b"%PDF")
    finally:
        product.delete()
        med.delete()
