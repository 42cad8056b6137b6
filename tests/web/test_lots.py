"""Product lots and their certificates: adding, refusing bad uploads, serving, access."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from kratomwatch.clinic.models import AuditEvent, Certificate, DoseEntry, ProductLot

from .conftest import Triangle

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def make_lot(
    t: Triangle, content: bytes = PDF, content_type: str = "application/pdf"
) -> ProductLot:
    """A lot of Paul's product with a certificate, as if uploaded by Paul."""
    certificate = Certificate.objects.create(
        content=content,
        content_type=content_type,
        size=len(content),
        sha256="0" * 64,
        filename="coa.pdf" if content_type == "application/pdf" else "coa.png",
        uploaded_by=t.patient.user,
    )
    return ProductLot.objects.create(
        product=t.product,
        lot_number="L-42",
        mitragynine_mg_per_g=Decimal("15"),
        hydroxymitragynine_mg_per_g=Decimal("0.2"),
        certificate=certificate,
    )


def certificate_url(t: Triangle) -> str:
    lot = make_lot(t)
    assert lot.certificate is not None
    return reverse("certificate", kwargs={"certificate_uuid": lot.certificate.uuid})


def _add(client: Client, t: Triangle, **extra: object) -> object:
    data: dict[str, object] = {
        "lot_number": "B-2026-11",
        "purchased_on": "2026-11-30",
        "unit": "%",
        "mitragynine": "1.5",
        "hydroxymitragynine": "0.02",
        "idempotency_key": "k1",
    }
    data.update(extra)
    return client.post(reverse("lot_add", kwargs={"product_uuid": t.product.uuid}), data)


def test_the_patient_adds_a_lot_with_a_certificate(client: Client, tri: Triangle) -> None:
    client.force_login(tri.patient.user)
    response = _add(
        client, tri, certificate=SimpleUploadedFile("../My COA (lab).pdf", PDF, "text/plain")
    )
    assert response.status_code == 302  # type: ignore[attr-defined]
    lot = ProductLot.objects.get(product=tri.product)
    # Percent converted explicitly: 1.5 % = 15 mg/g; 0.02 % = 0.2 mg/g.
    assert lot.mitragynine_mg_per_g == Decimal("15")
    assert lot.hydroxymitragynine_mg_per_g == Decimal("0.2")
    assert lot.entered_unit == "%"
    assert lot.certificate is not None
    assert lot.certificate.content_type == "application/pdf"  # from the bytes, not the browser
    assert lot.certificate.filename == "My_COA_lab.pdf"
    assert bytes(lot.certificate.content) == PDF
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"lot.create", "certificate.upload"} <= actions
    page = client.get(reverse("my_products")).content.decode()
    assert "B-2026-11" in page and "My_COA_lab.pdf" in page


def test_a_repeated_form_adds_one_lot(client: Client, tri: Triangle) -> None:
    client.force_login(tri.patient.user)
    _add(client, tri)
    _add(client, tri)
    assert ProductLot.objects.filter(product=tri.product).count() == 1


def test_a_wrong_type_is_refused_with_a_clear_message_and_values_kept(
    client: Client, tri: Triangle
) -> None:
    client.force_login(tri.patient.user)
    fake = SimpleUploadedFile("coa.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")
    response = _add(client, tri, certificate=fake)
    assert response.status_code == 400  # type: ignore[attr-defined]
    page = response.content.decode()  # type: ignore[attr-defined]
    assert "is not a PDF or a photo" in page
    assert 'value="B-2026-11"' in page and 'value="1.5"' in page
    assert not ProductLot.objects.exists() and not Certificate.objects.exists()


@override_settings(KRATOMWATCH_CERTIFICATE_MAX_BYTES=1000)
def test_an_oversize_file_is_refused_with_a_clear_message(client: Client, tri: Triangle) -> None:
    client.force_login(tri.patient.user)
    big = SimpleUploadedFile("coa.pdf", PDF + b"0" * 2000, "application/pdf")
    response = _add(client, tri, certificate=big)
    assert response.status_code == 400  # type: ignore[attr-defined]
    page = response.content.decode()  # type: ignore[attr-defined]
    assert "too large" in page and "1000" in page.replace("\xa0", " ")
    assert 'value="B-2026-11"' in page
    assert not Certificate.objects.exists()


def test_an_oversize_file_over_the_default_cap_is_a_form_error(
    client: Client, tri: Triangle
) -> None:
    client.force_login(tri.patient.user)
    big = SimpleUploadedFile("coa.pdf", PDF + b"0" * (10 * 1024 * 1024), "application/pdf")
    response = _add(client, tri, certificate=big)
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "too large" in response.content.decode()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("field", "value"),
    [("mitragynine", "1,5"), ("hydroxymitragynine", "abc"), ("mitragynine", "101")],
)
def test_bad_figures_are_refused_per_field(
    client: Client, tri: Triangle, field: str, value: str
) -> None:
    client.force_login(tri.patient.user)
    response = _add(client, tri, **{field: value})
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "Enter a number from 0 to 1000 mg/g" in response.content.decode()  # type: ignore[attr-defined]
    assert not ProductLot.objects.exists()


def test_figures_finer_than_kept_are_refused_with_the_reason(client: Client, tri: Triangle) -> None:
    client.force_login(tri.patient.user)
    response = _add(client, tri, mitragynine="0.000015")  # %: 0.00015 mg/g
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "At most 4 decimal places" in response.content.decode()  # type: ignore[attr-defined]
    assert not ProductLot.objects.exists()


def test_total_alkaloids_below_the_named_ones_is_refused(client: Client, tri: Triangle) -> None:
    client.force_login(tri.patient.user)
    response = _add(client, tri, total_alkaloids="1")
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "cannot be less than" in response.content.decode()  # type: ignore[attr-defined]


def test_the_patient_cannot_add_a_lot_to_someone_elses_product(
    client: Client, tri: Triangle
) -> None:
    client.force_login(tri.other_patient.user)
    assert _add(client, tri).status_code == 404  # type: ignore[attr-defined]
    assert not ProductLot.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("patient", 200),
        ("clinician", 200),
        ("colleague", 404),
        ("outsider", 404),
        ("admin", 404),
        ("other_admin", 404),
        ("other_patient", 404),
    ],
)
def test_a_certificate_is_served_only_to_the_patient_and_their_care_team(
    client: Client, tri: Triangle, who: str, status: int
) -> None:
    url = certificate_url(tri)
    client.force_login(tri.users()[who])
    response = client.get(url)
    assert response.status_code == status
    if status == 200:
        assert response.content == PDF
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == 'attachment; filename="coa.pdf"'
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]
        assert "default-src 'none'" in response["Content-Security-Policy"]
        assert response["Cache-Control"] == "private, no-store"
    else:
        assert PDF not in response.content


def test_anonymous_gets_no_certificate(client: Client, tri: Triangle) -> None:
    response = client.get(certificate_url(tri))
    assert response.status_code == 302 and PDF not in response.content


def test_a_clinicians_view_is_audited_and_a_photo_shown_inline(
    client: Client, tri: Triangle
) -> None:
    lot = make_lot(tri, PNG, "image/png")
    assert lot.certificate is not None
    client.force_login(tri.clinician)
    response = client.get(reverse("certificate", kwargs={"certificate_uuid": lot.certificate.uuid}))
    assert response["Content-Disposition"].startswith("inline;")
    event = AuditEvent.objects.get(action="certificate.view")
    assert event.actor == tri.clinician and event.object_uuid == lot.certificate.uuid


def test_the_clinician_adds_lab_figures_and_sees_a_concern(client: Client, tri: Triangle) -> None:
    tri.clinic.jurisdiction = "us_ok"
    tri.clinic.save()
    lot = make_lot(tri)
    client.force_login(tri.clinician)
    url = reverse("lot_lab_result", kwargs={"patient_uuid": tri.patient.uuid, "lot_uuid": lot.uuid})
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "unit": "mg/g",
            "mitragynine": "3",
            "hydroxymitragynine": "40",
            "lab_name": "Lab Co",
            "certificate": SimpleUploadedFile("photo.png", PNG, "image/png"),
        },
    )
    assert response.status_code == 302
    lot.refresh_from_db()
    assert lot.hydroxymitragynine_mg_per_g == Decimal("40")
    assert lot.certificate is not None and lot.certificate.content_type == "image/png"
    assert Certificate.objects.count() == 1  # the earlier one replaced
    page = client.get(response["Location"])  # the Products card, in its tab
    text = page.content.decode()
    assert "typical of semi-synthetic" in text and "jurisdiction allows" in text


@pytest.mark.parametrize("who", ["colleague", "outsider", "admin", "patient"])
def test_only_the_care_team_adds_lab_figures(client: Client, tri: Triangle, who: str) -> None:
    lot = make_lot(tri)
    client.force_login(tri.users()[who])
    url = reverse("lot_lab_result", kwargs={"patient_uuid": tri.patient.uuid, "lot_uuid": lot.uuid})
    response = client.post(url, {"unit": "mg/g", "hydroxymitragynine": "40"})
    assert response.status_code in (403, 404)
    lot.refresh_from_db()
    assert lot.hydroxymitragynine_mg_per_g == Decimal("0.2")


def _post_dose(client: Client, t: Triangle, **extra: object) -> object:
    from django.utils import timezone

    data: dict[str, object] = {
        "product": str(t.product.uuid),
        "amount": "4",
        "unit": "g",
        "taken_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "idempotency_key": "dose-1",
    }
    data.update(extra)
    return client.post(reverse("patient_home"), data)


def test_a_dose_of_a_lot_is_worked_out_with_the_lots_figures(client: Client, tri: Triangle) -> None:
    lot = make_lot(tri)  # 15 mg/g mitragynine (as the product), 0.2 mg/g 7-OH (unknown on it)
    lot.mitragynine_mg_per_g = Decimal("12")
    lot.save()
    client.force_login(tri.patient.user)
    page = client.get(reverse("patient_home")).content.decode()
    assert "Red Bali powder, lot L-42" in page
    assert _post_dose(client, tri, lot=str(lot.uuid)).status_code == 302  # type: ignore[attr-defined]
    dose = tri.patient.doses.get()
    assert dose.lot == lot
    assert dose.mitragynine_mg == Decimal("48")  # 4 g x 12 mg/g, the lot's figure
    assert dose.hydroxymitragynine_mg == Decimal("0.8")


def test_a_dose_without_a_lot_uses_the_products_figures(client: Client, tri: Triangle) -> None:
    make_lot(tri)
    client.force_login(tri.patient.user)
    assert _post_dose(client, tri, lot="").status_code == 302  # type: ignore[attr-defined]
    dose = tri.patient.doses.get()
    assert dose.lot is None and dose.mitragynine_mg == Decimal("60")
    assert dose.hydroxymitragynine_mg is None


def test_a_lot_of_another_product_is_refused(client: Client, tri: Triangle) -> None:
    from kratomwatch.clinic.models import Product

    other = Product.objects.create(patient=tri.patient, name="Green Maeng Da", form="leaf_powder")
    lot = ProductLot.objects.create(product=other, lot_number="G-1")
    client.force_login(tri.patient.user)
    response = _post_dose(client, tri, lot=str(lot.uuid))
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "This lot is of another product" in response.content.decode()  # type: ignore[attr-defined]
    assert not tri.patient.doses.exists()


def test_another_patients_lot_cannot_be_named(client: Client, tri: Triangle) -> None:
    lot = make_lot(tri)
    client.force_login(tri.other_patient.user)
    from kratomwatch.clinic.models import Product

    Product.objects.create(patient=tri.other_patient, name="Mine", form="leaf_powder")
    response = client.post(
        reverse("patient_home"),
        {
            "product": str(tri.other_patient.products.get().uuid),
            "amount": "1",
            "unit": "g",
            "lot": str(lot.uuid),
            "taken_at": "2026-01-01T08:00",
            "idempotency_key": "x",
        },
    )
    assert response.status_code == 400
    assert not tri.other_patient.doses.exists()


def test_a_clinic_admin_chooses_the_jurisdiction_audited(client: Client, tri: Triangle) -> None:
    make_lot(tri)
    type(tri.patient).objects.update(screening_due_at=None)
    client.force_login(tri.admin)
    page = client.get(reverse("clinic_settings")).content.decode()
    assert "Oklahoma (United States)" in page
    response = client.post(reverse("clinic_settings"), {"jurisdiction": "us_ok"})
    assert response.status_code == 302
    tri.clinic.refresh_from_db()
    assert tri.clinic.jurisdiction == "us_ok"
    assert AuditEvent.objects.filter(action="clinic.jurisdiction", actor=tri.admin).count() == 1
    # Patients with lots are re-screened (by the screening queue); others are not.
    due = dict(type(tri.patient).objects.values_list("pk", "screening_due_at"))
    assert due[tri.patient.pk] is not None and due[tri.other_patient.pk] is None
    # An unknown jurisdiction is refused; the setting stays.
    response = client.post(reverse("clinic_settings"), {"jurisdiction": "atlantis"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    tri.clinic.refresh_from_db()
    assert tri.clinic.jurisdiction == "us_ok"


def test_a_lot_over_the_cap_raises_findings(
    client: Client, tri: Triangle, django_capture_on_commit_callbacks: Any
) -> None:
    tri.clinic.jurisdiction = "us_ok"
    tri.clinic.save()
    client.force_login(tri.patient.user)
    with django_capture_on_commit_callbacks(execute=True):
        _add(client, tri, unit="mg/g", mitragynine="3", hydroxymitragynine="40")
    codes = set(tri.patient.findings.values_list("code", flat=True))
    assert {"product.lot_semisynthetic_7oh", "product.lot_over_jurisdiction_cap"} <= codes


def test_doses_logged_before_the_figures_are_worked_out_again_with_them(
    client: Client, tri: Triangle
) -> None:
    """A dose naming a lot with no figures yet counts with the lot's figures once a
    clinician enters them from the certificate."""
    lot = ProductLot.objects.create(product=tri.product, lot_number="L-7")
    product = tri.product
    dose = DoseEntry.objects.create(
        patient=tri.patient, product=product, lot=lot, taken_at=timezone.now(),
        amount=Decimal("4"), unit="g", idempotency_key="before-figures",
        leaf_equivalent_g=Decimal("4"), mitragynine_mg=None, hydroxymitragynine_mg=None,
    )  # fmt: skip
    client.force_login(tri.clinician)
    url = reverse("lot_lab_result", kwargs={"patient_uuid": tri.patient.uuid, "lot_uuid": lot.uuid})
    response = client.post(url, {"unit": "mg/g", "mitragynine": "5", "hydroxymitragynine": "3"})
    assert response.status_code == 302
    dose.refresh_from_db()
    assert product.form == "leaf_powder"  # 4 g of leaf at 5 and 3 mg/g
    assert dose.mitragynine_mg == Decimal("20") and dose.hydroxymitragynine_mg == Decimal("12")


def test_small_figures_are_shown_as_kept_not_rounded_to_zero(client: Client, tri: Triangle) -> None:
    ProductLot.objects.create(
        product=tri.product,
        lot_number="L-9",
        mitragynine_mg_per_g=Decimal("12.5"),
        hydroxymitragynine_mg_per_g=Decimal("0.0045"),
    )
    client.force_login(tri.patient.user)
    page = client.get(reverse("my_products")).content.decode()
    assert "7-OH 0.0045 mg/g." in page and "Mitragynine 12.5 mg/g." in page
