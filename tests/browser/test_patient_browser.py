"""A patient on a 360 px phone: log in, check in, see trends, red flags, errors, retries."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from kratomwatch.clinic.models import (
    CareTeamMembership,
    CheckIn,
    Clinic,
    DoseEntry,
    PatientProfile,
    Product,
    Role,
    User,
)

from .conftest import no_horizontal_scroll

PASSWORD = "correct horse battery staple"
PHONE = {"width": 360, "height": 780}
DESKTOP = {"width": 1280, "height": 900}

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def patient(db: None) -> PatientProfile:
    clinic = Clinic.objects.create(name="Clinic", slug="c")
    doctor = User.objects.create(username="doc", clinic=clinic, role=Role.CLINICIAN)
    user = User.objects.create(username="paul", clinic=clinic, role=Role.PATIENT, first_name="Paul")
    user.set_password(PASSWORD)
    user.save()
    patient = PatientProfile.objects.create(user=user, clinic=clinic, display_name="Paul")
    CareTeamMembership.objects.create(patient=patient, clinician=doctor)
    product = Product.objects.create(
        patient=patient,
        name="Red Bali powder",
        form="leaf_powder",
        mitragynine_mg_per_g=Decimal(15),
    )
    # Yesterday's doses at times of day that have passed today (repeated, they keep them).
    now = timezone.localtime().replace(second=0, microsecond=0)
    yesterday = now - timedelta(days=1)
    for n, (hour, grams) in enumerate(((8, "2"), (14, "1.5"))):
        at = min(yesterday.replace(hour=hour, minute=0), yesterday - timedelta(minutes=2 - n))
        DoseEntry.objects.create(
            patient=patient,
            product=product,
            amount=Decimal(grams),
            unit="g",
            leaf_equivalent_g=Decimal(grams),
            taken_at=at,
            idempotency_key=f"y{hour}",
        )
    return patient


class Taps:
    """Counts the taps and key presses a person makes."""

    def __init__(self, page: Any) -> None:
        self.page, self.count = page, 0

    def tap(self, selector: str) -> None:
        self.page.click(selector)
        self.count += 1


def login(page: Any, base: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", "paul")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/me/")


def rate(taps: Taps, values: dict[str, int]) -> None:
    for item, value in values.items():
        taps.tap(f"label[for='id_r-{item}_{value}']")


RATINGS = {
    "pain_now": 6,
    "pain_average": 5,
    "interference_activity": 4,
    "interference_enjoyment": 3,
    "sleep_quality": 7,
}


def test_a_check_in_on_a_phone(
    live_server: Any, browser: Any, patient: PatientProfile, shot: Any
) -> None:
    page = browser.new_page(viewport=PHONE)
    login(page, live_server.url)
    assert no_horizontal_scroll(page)
    shot(page, "patient-home-360", full_page=False)  # what a phone shows first
    page.goto(f"{live_server.url}/me/trends/?weeks=2")
    chart_before = page.inner_html(".chart-box")
    page.goto(f"{live_server.url}/me/")

    taps = Taps(page)
    taps.tap("#checkin-link")
    page.wait_for_url("**/me/checkin/")
    assert no_horizontal_scroll(page)
    shot(page, "checkin-360")
    rate(taps, RATINGS)
    taps.tap("#repeat-yesterday")
    taps.tap("#save-checkin")
    page.wait_for_url("**/me/checkin/*/")
    assert taps.count <= 12, taps.count
    assert "Check-in saved" in page.inner_text("main")
    assert page.locator("main li", has_text="Red Bali powder").count() == 2
    shot(page, "checkin-saved-360")

    entry = CheckIn.objects.get(patient=patient)
    assert entry.doses.count() == 2 and entry.responses.get().answers == [6, 5, 4, 3, 7]

    page.goto(f"{live_server.url}/me/trends/?weeks=2")
    assert page.inner_html(".chart-box") != chart_before  # today's ratings and doses appear
    assert page.locator("svg title", has_text="Pain, interference").count() == 1
    assert no_horizontal_scroll(page)
    shot(page, "trends-360", full_page=False)


def test_a_double_tap_and_a_retried_request_store_one_check_in(
    live_server: Any, browser: Any, patient: PatientProfile
) -> None:
    page = browser.new_page(viewport=PHONE)
    login(page, live_server.url)
    page.goto(f"{live_server.url}/me/checkin/")
    rate(Taps(page), RATINGS)
    # A retried request: the same form data sent three times at once, as a flaky network or
    # an impatient double tap would.
    statuses = page.evaluate("""async () => {
        const form = document.getElementById("checkin-form");
        const send = () => fetch(form.action || location.href, {method: "POST",
            body: new FormData(form), redirect: "manual"}).then(r => r.type);
        return Promise.all([send(), send(), send()]);
    }""")
    assert len(statuses) == 3
    page.dblclick("#save-checkin")
    page.wait_for_url("**/me/checkin/*/")
    assert CheckIn.objects.filter(patient=patient).count() == 1
    assert patient.responses.count() == 1


def test_a_validation_error_keeps_the_input(
    live_server: Any, browser: Any, patient: PatientProfile, shot: Any
) -> None:
    page = browser.new_page(viewport=PHONE)
    login(page, live_server.url)
    page.goto(f"{live_server.url}/me/checkin/")
    taps = Taps(page)
    rate(taps, {k: v for k, v in RATINGS.items() if k != "sleep_quality"})
    page.fill("#id_note", "Knee worse after the walk")
    page.check("#id_dose-0-took")
    page.fill("#id_dose-0-amount", "0")
    page.click("#save-checkin")
    page.wait_for_load_state()
    main = page.inner_text("main")
    assert "not saved yet" in main and "Choose one answer" in main
    assert page.input_value("#id_note") == "Knee worse after the walk"
    assert page.is_checked("#id_r-pain_now_6") and page.is_checked("#id_dose-0-took")
    assert page.input_value("#id_dose-0-amount") == "0"
    shot(page, "checkin-error-360")
    assert not CheckIn.objects.filter(patient=patient).exists()


def test_a_red_flag_shows_urgent_guidance(
    live_server: Any, browser: Any, patient: PatientProfile, shot: Any
) -> None:
    page = browser.new_page(viewport=DESKTOP)
    login(page, live_server.url)
    page.goto(f"{live_server.url}/me/checkin/")
    shot(page, "checkin-desktop")
    rate(Taps(page), RATINGS)
    page.click("label[for='id_red_flags_0']")  # the first red flag chip
    label = page.inner_text("label[for='id_red_flags_0']")
    page.click("#save-checkin")
    page.wait_for_url("**/me/checkin/*/")
    alert = page.locator(".alert.urgent[role=alert]")
    assert alert.count() >= 1
    assert (
        "emergency" in alert.first.inner_text().lower()
        or "urgent" in alert.first.inner_text().lower()
    )
    shot(page, "red-flag-desktop")
    assert patient.symptoms.get().term == label.strip()
