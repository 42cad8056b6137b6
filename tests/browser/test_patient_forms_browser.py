"""A patient's forms in Chromium, on a 360 px phone and a desktop: a red flag always gets
through, errors are findable, repeated doses keep their times, nothing is cut off."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from kratomwatch.clinic.models import CheckIn, DoseEntry, PatientProfile, SymptomReport

from .conftest import no_horizontal_scroll
from .test_patient_browser import DESKTOP, PHONE, RATINGS, Taps, login, patient, rate

__all__ = ["patient"]  # the fixture, shared with the other patient tests

VIEWPORTS = pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360px", "desktop"])
pytestmark = pytest.mark.django_db(transaction=True)


def focused(page: Any) -> str:
    return str(
        page.evaluate(
            "(() => { const a = document.activeElement;"
            " return a.id || a.getAttribute('data-urgent') !== null && 'urgent' || a.className })()"
        )
    )


@VIEWPORTS
def test_a_red_flag_alone_is_saved_and_its_guidance_shown_first(
    live_server: Any, browser: Any, patient: PatientProfile, shot: Any, viewport: dict[str, int]
) -> None:
    page = browser.new_page(viewport=viewport)
    login(page, live_server.url)
    page.goto(f"{live_server.url}/me/checkin/")
    page.click("label.chip.danger:has-text('breathing')")  # no ratings, nothing else
    page.click("#save-checkin")
    page.wait_for_load_state()
    alert = page.locator(".alert.urgent[role=alert]").first
    assert "emergency" in alert.inner_text().lower()
    box = alert.bounding_box()
    assert box is not None and box["y"] < viewport["height"]  # in view, not below the fold
    assert focused(page) == "urgent"
    assert "Sent to your care team now" in page.inner_text("main")
    assert "not saved yet" in page.inner_text(".error-summary")
    assert page.is_checked("input[name=red_flags][value=breathing_difficulty]")
    report = SymptomReport.objects.get(patient=patient)
    assert report.severity == 3 and report.checkin is None
    shot(page, f"red-flag-alone-{viewport['width']}")
    # The rest, answered now, joins the same check-in; the red flag is not added twice.
    rate(Taps(page), RATINGS)
    page.click("#save-checkin")
    page.wait_for_url("**/me/checkin/*/")
    assert "Breathing" in page.inner_text(".alert.urgent")
    entry = CheckIn.objects.get(patient=patient)
    assert list(
        SymptomReport.objects.filter(patient=patient).values_list("checkin", flat=True)
    ) == [entry.pk]


@VIEWPORTS
def test_the_error_summary_names_each_problem_and_moves_to_its_field(
    live_server: Any, browser: Any, patient: PatientProfile, shot: Any, viewport: dict[str, int]
) -> None:
    page = browser.new_page(viewport=viewport)
    login(page, live_server.url)
    page.goto(f"{live_server.url}/me/checkin/")
    rate(Taps(page), {k: v for k, v in RATINGS.items() if k != "sleep_quality"})
    page.check("#id_dose-0-took")
    page.fill("#id_dose-0-amount", "")
    page.click("#save-checkin")
    page.wait_for_load_state()
    summary = page.locator(".error-summary")
    assert focused(page) == "error-summary"
    links = summary.locator("a")
    assert links.count() == 2
    assert "sleep" in links.nth(0).inner_text().lower()
    assert links.nth(1).inner_text().startswith("Dose 1, ")
    links.nth(1).click()
    assert focused(page) == "id_dose-0-amount"
    links.nth(0).click()
    assert focused(page) == "id_r-sleep_quality_0"
    # Row errors use the row's full width: one line, not one word per line.
    error = page.locator(".dose-row .row-errors .error").first
    box = error.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] < 60
    assert no_horizontal_scroll(page)
    shot(page, f"checkin-error-summary-{viewport['width']}")


@VIEWPORTS
def test_a_failed_single_dose_on_home_shows_its_error_first(
    live_server: Any, browser: Any, patient: PatientProfile, viewport: dict[str, int]
) -> None:
    page = browser.new_page(viewport=viewport)
    login(page, live_server.url)
    page.fill("#id_amount", "a lot")
    page.click("form:has(#id_amount) button[type=submit]")
    page.wait_for_load_state()
    summary = page.locator(".error-summary")
    box = summary.bounding_box()
    assert box is not None and 0 <= box["y"] < viewport["height"]
    assert focused(page) == "error-summary"
    summary.locator("a").first.click()
    assert focused(page) == "id_amount"
    assert page.input_value("#id_amount") == "a lot"
    assert not DoseEntry.objects.filter(patient=patient, taken_at__date=timezone.localdate())


@VIEWPORTS
def test_repeating_last_times_doses_keeps_their_times(
    live_server: Any, browser: Any, patient: PatientProfile, viewport: dict[str, int]
) -> None:
    before = {timezone.localtime(d.taken_at).strftime("%H:%M") for d in DoseEntry.objects.all()}
    page = browser.new_page(viewport=viewport)
    login(page, live_server.url)
    page.goto(f"{live_server.url}/me/checkin/")
    shown = {page.input_value(f"#id_dose-{n}-at") for n in (0, 1)}
    assert shown == before
    rate(Taps(page), RATINGS)
    page.focus("#repeat-yesterday")
    page.keyboard.press("Enter")  # by keyboard: the focus stays where it was
    assert focused(page) == "repeat-yesterday"
    assert "check their times" in page.inner_text("#repeat-yesterday")
    assert "check their times" in page.inner_text("#repeat-status")  # announced
    page.click("#save-checkin")
    page.wait_for_url("**/me/checkin/*/")
    today = CheckIn.objects.get(patient=patient).doses.all()
    assert {timezone.localtime(d.taken_at).strftime("%H:%M") for d in today} == before
    assert all(timezone.localtime(d.taken_at).date() == timezone.localdate() for d in today)


def test_nothing_is_cut_off_and_targets_are_big_enough_at_360px(
    live_server: Any, browser: Any, patient: PatientProfile
) -> None:
    page = browser.new_page(viewport=PHONE)
    login(page, live_server.url)
    # The home page's single-dose form: its unit names are long.
    for selector in ("#id_amount", "#id_unit"):
        cut = page.evaluate(
            "s => { const e = document.querySelector(s); return e.scrollWidth > e.clientWidth }",
            selector,
        )
        width = page.evaluate(
            "s => document.querySelector(s).getBoundingClientRect().width", selector
        )
        assert not cut and width >= 250, (selector, width)
    page.goto(f"{live_server.url}/me/checkin/")
    assert no_horizontal_scroll(page)
    for selector in ("#id_dose-0-amount", "#id_dose-0-unit", "#id_dose-0-at"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        cut = page.evaluate(
            "s => { const e = document.querySelector(s); return e.scrollWidth > e.clientWidth }",
            selector,
        )
        assert box["width"] >= 110 and not cut, selector
    sizes = page.evaluate(
        "[...document.querySelectorAll('.scale-opt span')].map(e => {"
        " const r = e.getBoundingClientRect(); return [r.width, r.height] })"
    )
    assert sizes and all(w >= 44 and h >= 44 for w, h in sizes), min(sizes)
