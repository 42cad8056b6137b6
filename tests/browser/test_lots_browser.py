"""Product lots in Chromium: a patient photographs a certificate from the phone, a
clinician opens it, and the patient logs a dose against a lot at check-in."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from kratomwatch.clinic.models import CheckIn, PatientProfile, ProductLot

from .conftest import wait_until
from .test_patient_browser import PHONE, RATINGS, Taps, login, patient, rate

__all__ = ["patient"]

pytestmark = pytest.mark.django_db(transaction=True)

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff"
    b"\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


def test_a_patient_adds_a_lot_with_a_photographed_certificate(
    live_server: Any, browser: Any, patient: PatientProfile, shot: Any
) -> None:
    page = browser.new_page(viewport=PHONE)
    login(page, live_server.url)
    page.goto(f"{live_server.url}/me/products/")
    page.click("text=Add a lot of Red Bali powder")
    file_box = page.locator("#id_certificate")
    assert file_box.get_attribute("capture") == "environment"  # the phone's camera opens
    assert file_box.get_attribute("accept") == "application/pdf,image/*"
    page.fill("#id_lot_number", "B-2026-11")
    page.select_option("#id_unit", "%")
    page.fill("#id_mitragynine", "1.5")
    page.fill("#id_hydroxymitragynine", "0.02")
    # A file that is not a PDF or a photo: refused with a clear message, the rest kept.
    file_box.set_input_files(
        {"name": "coa.jpg", "mimeType": "image/jpeg", "buffer": b"<html>not a photo</html>"}
    )
    with page.expect_navigation():
        page.click("text=Add lot")
    assert "This file is not a PDF or a photo" in page.inner_text(".error-summary")
    assert page.input_value("#id_lot_number") == "B-2026-11"
    assert page.input_value("#id_mitragynine") == "1.5"
    assert not ProductLot.objects.exists()
    # The photo itself.
    page.locator("#id_certificate").set_input_files(
        {"name": "label photo.png", "mimeType": "image/png", "buffer": PNG}
    )
    page.click("text=Add lot")
    page.wait_for_url("**/me/products/")
    assert "Added lot B-2026-11." in page.inner_text("body")
    lot = ProductLot.objects.get()
    assert lot.mitragynine_mg_per_g == Decimal("15") and lot.certificate is not None
    link = page.locator("a", has_text="Certificate (label_photo.png)")
    shot(page, "lots-patient-products-360")
    response = page.request.get(live_server.url + str(link.get_attribute("href")))
    assert response.status == 200 and response.body() == PNG
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_patient_logs_a_dose_against_a_lot_at_check_in(
    live_server: Any, browser: Any, patient: PatientProfile
) -> None:
    product = patient.products.get()
    ProductLot.objects.create(product=product, lot_number="OLD-1")
    lot = ProductLot.objects.create(
        product=product, lot_number="NEW-2", mitragynine_mg_per_g=Decimal("10")
    )
    page = browser.new_page(viewport=PHONE)
    login(page, live_server.url)
    page.goto(f"{live_server.url}/me/checkin/")
    taps = Taps(page)
    rate(taps, RATINGS)
    row = page.locator(".dose-row").last
    lot_box = row.locator("select[name$='-lot']")
    assert lot_box.input_value() == str(lot.uuid)  # the product's latest lot by default
    row.locator("input[name$='-took']").check()
    row.locator("input[name$='-amount']").fill("3")
    page.click("#save-checkin")
    page.wait_for_url("**/me/checkin/*/")
    assert "lot NEW-2" in page.inner_text("body")
    dose = CheckIn.objects.get(patient=patient).doses.get()
    assert dose.lot == lot
    assert dose.mitragynine_mg == Decimal("30")  # 3 g x 10 mg/g, the lot's figure


def test_a_dose_against_a_lot_entered_offline_keeps_its_lot(
    live_server: Any, browser: Any, patient: PatientProfile
) -> None:
    from .test_offline_checkin_browser import online_with_worker, queued, until_sent

    product = patient.products.get()
    lot = ProductLot.objects.create(
        product=product, lot_number="NEW-2", mitragynine_mg_per_g=Decimal("10")
    )
    base = live_server.url
    context, page = online_with_worker(browser, base)
    page.goto(f"{base}/me/checkin/")  # kept on the phone, with the lots in its dose rows
    context.set_offline(True)
    page.goto(f"{base}/me/checkin/")
    page.locator(".offline-banner").wait_for()
    rate(Taps(page), RATINGS)
    row = page.locator(".dose-row").last
    assert row.locator("select[name$='-lot']").input_value() == str(lot.uuid)
    row.locator("input[name$='-took']").check()
    row.locator("input[name$='-amount']").fill("3")
    page.click("#save-checkin")
    wait_until(page, "kwQueue.all().then(function (q) { return q.length === 1; })")
    assert len(queued(page)) == 1
    context.set_offline(False)
    page.goto(f"{base}/me/")
    until_sent(page)
    dose = CheckIn.objects.get(patient=patient).doses.get()
    assert dose.lot == lot and dose.mitragynine_mg == Decimal("30")
    context.close()
