"""The patient's home in Chromium on a 360 px phone and a desktop: a red flag in full at the
top, the check-in first, the other safety messages compact, and check in, my plan, my trends
and my products one tap away on every patient page."""

from __future__ import annotations

from typing import Any

import pytest

from kratomwatch.clinic.models import PatientProfile

from ..web.test_patient_home import OTHERS, add_findings
from .conftest import no_horizontal_scroll
from .test_patient_browser import DESKTOP, PHONE, login, patient  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)

NAV = ("Check in", "My plan", "My trends", "My products")


def box(locator: Any) -> dict[str, float]:
    found: dict[str, float] = locator.bounding_box()
    assert found is not None
    return found


def in_view(page: Any, locator: Any) -> bool:
    b, v = box(locator), page.viewport_size
    return b["y"] >= 0 and b["y"] + b["height"] <= v["height"] and b["x"] >= 0


def nav_link(page: Any, text: str) -> Any:
    return page.get_by_role("navigation", name="My pages").get_by_role("link", name=text)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360", "desktop"])
def test_home_leads_with_what_the_patient_came_to_do(
    live_server: Any,
    browser: Any,
    patient: PatientProfile,  # noqa: F811
    shot: Any,
    viewport: dict[str, int],
) -> None:
    flag = add_findings(patient, ["red_flag.breathing_difficulty"])[0]
    add_findings(patient, OTHERS)
    page = browser.new_page(viewport=viewport)
    login(page, live_server.url)
    name = "360" if viewport is PHONE else "desktop"
    shot(page, f"patient-home-first-screen-{name}", full_page=False)
    assert no_horizontal_scroll(page)

    # The red flag: in full, at the top, in the first screen, without a tap.
    urgent = page.locator(".alert.urgent[role=alert]")
    assert urgent.count() == 1 and in_view(page, urgent)
    assert flag.patient_message in urgent.inner_text()
    # Then the check-in, also in the first screen.
    assert in_view(page, page.locator("#checkin-link"))
    assert box(urgent)["y"] < box(page.locator("#checkin-link"))["y"]

    # Check in, my plan, my trends and my products: in the first screen, 44 x 44 px at least.
    bar = page.get_by_role("navigation", name="My pages")
    for text in NAV:
        link = nav_link(page, text)
        assert link.is_visible() and in_view(page, link), text
        b = box(link)
        assert b["width"] >= 44 and b["height"] >= 44, (text, b)
    assert nav_link(page, "Today").get_attribute("aria-current") == "page"

    # One safety message (the most severe) shows; the other five are one tap away.
    outside = page.locator("#safety-messages > .alert")
    assert outside.count() == 1 and "opioid" in outside.inner_text().lower()
    folded = page.locator(".more-messages li")
    assert folded.count() == 5 and not folded.first.is_visible()
    page.get_by_text("5 more safety messages").click()
    assert folded.nth(4).is_visible()
    shot(page, f"patient-home-{name}-messages")

    # At the end of the page the bar is still there, and hides none of the page's end.
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_timeout(100)
    for text in NAV:
        assert in_view(page, nav_link(page, text)), text
    foot, bar_box = box(page.locator("footer.foot")), box(bar)
    if viewport is PHONE:
        assert foot["y"] + foot["height"] <= bar_box["y"] + 0.5
    else:
        assert bar_box["y"] == pytest.approx(0, abs=1)  # held at the top
        assert foot["y"] >= bar_box["y"] + bar_box["height"]

    # One tap to a page, and the bar is there too, the page marked as current.
    nav_link(page, "My trends").click()
    page.wait_for_url("**/me/trends/")
    assert nav_link(page, "My trends").get_attribute("aria-current") == "page"
    assert nav_link(page, "Today").get_attribute("aria-current") is None
    for text in NAV:
        assert in_view(page, nav_link(page, text)), text
    assert no_horizontal_scroll(page)


def test_on_a_phone_the_bar_stays_at_the_bottom_and_covers_nothing(
    live_server: Any,
    browser: Any,
    patient: PatientProfile,  # noqa: F811
    shot: Any,
) -> None:
    page = browser.new_page(viewport=PHONE)
    login(page, live_server.url)
    bar = page.get_by_role("navigation", name="My pages")
    assert box(bar)["y"] + box(bar)["height"] == pytest.approx(PHONE["height"], abs=1)
    nav_link(page, "Check in").click()
    page.wait_for_url("**/me/checkin/")
    # Mid-form, the bar and the save button are both on screen, one above the other.
    page.mouse.wheel(0, 600)
    page.wait_for_timeout(100)
    save, bar_box = box(page.locator("#save-checkin")), box(bar)
    assert in_view(page, page.locator("#save-checkin"))
    assert save["y"] + save["height"] <= bar_box["y"] + 0.5
    assert bar_box["y"] + bar_box["height"] == pytest.approx(PHONE["height"], abs=1)
    shot(page, "checkin-360-with-bar", full_page=False)
    # At the very end, the last field is above the bar.
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_timeout(100)
    note = box(page.locator("#id_note"))
    assert note["y"] + note["height"] <= box(bar)["y"]
