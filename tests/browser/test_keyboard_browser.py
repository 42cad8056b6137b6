"""A patient's tasks with the keyboard alone (Tab, Shift+Tab, Space, Enter, arrows; never a
click), on a 360 px phone (the check-in also at a desk): the focus is always visible and not
hidden under a sticky bar, and a failed send is announced and each error is tied to its field."""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from kratomwatch.clinic.models import (
    CheckIn,
    DoseEntry,
    PatientProfile,
    Plan,
    PlanKind,
    SymptomReport,
    User,
)

from .test_patient_browser import DESKTOP, PASSWORD, PHONE, RATINGS, patient

__all__ = ["patient"]  # the fixture, shared with the other patient tests

pytestmark = pytest.mark.django_db(transaction=True)

# Where the focus is, and whether a sighted keyboard user can see it: a focus ring (on the
# element, or on the label drawn for a visually hidden radio or checkbox) inside the window
# and not covered by anything else (the phone's bottom navigation, the sticky send bar).
FOCUS = """
() => {
  const a = document.activeElement;
  if (!a || a === document.body) return {what: 'body', problem: 'nothing has the focus'};
  const what = a.tagName.toLowerCase() + (a.id ? '#' + a.id : '') +
    (a.name ? '[name=' + a.name + ']' : '') + ' ' +
    (a.innerText || a.value || '').trim().slice(0, 40);
  const ring = el => {
    const s = getComputedStyle(el);
    return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
  };
  const next = a.nextElementSibling;
  const drawn = ring(a) ? a : (next && ring(next) ? next : null);
  if (!drawn) return {what, problem: 'no visible focus ring'};
  const box = drawn.getBoundingClientRect();
  const x = box.left + box.width / 2, y = box.top + Math.min(box.height / 2, 12);
  if (box.bottom <= 0 || box.top >= innerHeight || box.right <= 0 || box.left >= innerWidth)
    return {what, problem: 'outside the window'};
  const hit = document.elementFromPoint(x, y);
  const family = a.closest('label, .chip-wrap, .scale-opt') || a;
  if (!hit || !(family.contains(hit) || drawn.contains(hit) || hit.contains(family)
                && !['MAIN', 'BODY', 'HTML'].includes(hit.tagName)))
    return {what, problem: 'covered by ' + (hit ? hit.tagName + '.' + hit.className : '?')};
  return {what, problem: ''};
}
"""

# Every field marked invalid, and the text of what it points to with aria-describedby.
INVALID = """
() => [...document.querySelectorAll('main [aria-invalid=true], main fieldset.invalid')]
  .map(el => ({
    field: el.id || el.name,
    invalid: el.getAttribute('aria-invalid') === 'true' || el.tagName === 'FIELDSET',
    described: (el.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean)
      .map(id => document.getElementById(id)).map(d => d ? d.textContent.trim() : null)
  }))
"""


class Keys:
    """A keyboard user: every key press checks that the focus can be seen."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def where(self, wrap: bool = False) -> str:
        """What has the focus; ``wrap``: the focus may also have left the page's last stop."""
        info = self.page.evaluate(FOCUS)
        assert info["problem"] == "" or wrap and info["what"] == "body", info
        return str(info["what"])

    def on(self, selector: str) -> bool:
        return bool(self.page.evaluate("s => document.activeElement.matches(s)", selector))

    def press(self, key: str, times: int = 1) -> None:
        for _ in range(times):
            self.page.keyboard.press(key)
        self.where()

    def tab_to(self, selector: str, back: bool = False, limit: int = 200) -> None:
        """Tab (or Shift+Tab) until the focus is on ``selector``, checking each stop."""
        where = ""
        for _ in range(limit):
            if self.on(selector):
                return
            self.page.keyboard.press("Shift+Tab" if back else "Tab")
            where = self.where(wrap=True)
        raise AssertionError(f"{selector} not reached by the keyboard (last: {where})")

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)

    def clear(self) -> None:
        self.page.keyboard.press("Control+a")
        self.page.keyboard.press("Backspace")

    def enter_and_wait(self) -> None:
        with self.page.expect_navigation():
            self.page.keyboard.press("Enter")
        self.page.wait_for_load_state()


def keyboard_login(page: Any, base: str) -> Keys:
    page.goto(f"{base}/login/")
    keys = Keys(page)
    keys.tab_to("#id_username")
    keys.type("paul")
    keys.press("Tab")
    keys.type(PASSWORD)
    keys.enter_and_wait()
    assert page.url == f"{base}/me/"
    return keys


def focused_id(page: Any) -> str:
    return str(page.evaluate("document.activeElement.id"))


def assert_errors_are_announced_and_tied(page: Any) -> None:
    """The summary has the focus and is an alert; every field it names says why it is
    invalid through aria-describedby."""
    summary = page.locator(".error-summary")
    assert summary.get_attribute("role") == "alert"
    assert focused_id(page) == "" and page.evaluate(
        "document.activeElement.matches('.error-summary')"
    )
    invalid = {f["field"]: f for f in page.evaluate(INVALID)}
    links = summary.locator("a")
    assert links.count() >= 1
    for n in range(links.count()):
        anchor = links.nth(n).get_attribute("href").lstrip("#")
        field = page.evaluate(
            "id => { const el = document.getElementById(id);"
            " const group = el.closest('fieldset.invalid');"
            " return group ? group.id : el.id }",
            anchor,
        )
        assert field in invalid, (anchor, sorted(invalid))
        described = invalid[field]["described"]
        assert described and all(described), (field, described)
        words = links.nth(n).inner_text().split(": ")[-1].strip()
        assert words in " ".join(described), (field, words, described)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360px", "desktop"])
def test_a_check_in_with_the_keyboard_alone(
    live_server: Any, browser: Any, patient: PatientProfile, shot: Any, viewport: dict[str, int]
) -> None:
    page = browser.new_page(viewport=viewport)
    keys = keyboard_login(page, live_server.url)
    keys.tab_to("#checkin-link")
    keys.enter_and_wait()
    assert page.url.endswith("/me/checkin/")
    # Each rating: Tab into its row of options, arrows to the value (Space for the first).
    for item, value in RATINGS.items():
        keys.tab_to(f"input[name='r-{item}']")
        if value:
            keys.press("ArrowRight", value)
        else:
            keys.press("Space")
        assert page.is_checked(f"#id_r-{item}_{value}"), item
    # Last time's doses, then one more dose in a new row.
    keys.tab_to("#repeat-yesterday")
    keys.press("Enter")
    assert focused_id(page) == "repeat-yesterday"
    keys.tab_to("#add-dose")
    keys.press("Enter")
    rows = page.locator("#dose-rows .dose-row")
    new = rows.count() - 1
    assert focused_id(page) == f"id_dose-{new}-took" and page.is_checked(f"#id_dose-{new}-took")
    keys.press("Tab")
    assert focused_id(page) == f"id_dose-{new}-product"
    keys.type("Red Bali")  # a closed list jumps to the option typed
    keys.press("Tab")
    keys.type("1.5")
    keys.press("Tab")
    keys.type("g")
    assert page.input_value(f"#id_dose-{new}-unit") == "g"
    keys.press("Tab")
    assert focused_id(page) == f"id_dose-{new}-at"
    keys.type("1200AM")  # midnight: never in the future, whenever the test runs
    assert page.input_value(f"#id_dose-{new}-at") == "00:00"
    # A side effect and how bad it was: Space ticks it, its severity appears next.
    keys.tab_to("input[name=side_effects]")
    effect = page.evaluate("document.activeElement.value")
    effect_name = page.evaluate("document.activeElement.labels[0].innerText")
    keys.press("Space")
    keys.press("Tab")
    assert page.evaluate("document.activeElement.name") == f"severity_{effect}"
    keys.press("ArrowRight")
    assert page.is_checked(f"input[name=severity_{effect}][value='2']")
    # Its group is named after the side effect: "Constipation How bad was it?"
    group = page.get_by_role("group", name=f"{effect_name} How bad was it?", exact=True)
    assert group.count() == 1 and group.is_visible()
    # A red flag: its urgent guidance is shown at once, as an alert.
    keys.tab_to("input[name=red_flags]")
    flag_name = page.evaluate("document.activeElement.labels[0].innerText")
    keys.press("Space")
    guidance = page.locator("#flag-guidance")
    assert guidance.is_visible() and guidance.get_attribute("role") == "alert"
    assert page.locator("#flag-guidance .alert.urgent").count() == 1
    shot(page, f"keyboard-checkin-{viewport['width']}", full_page=False)
    keys.tab_to("#save-checkin")
    keys.enter_and_wait()
    assert page.locator(".error-summary").count() == 0, page.inner_text(".error-summary")
    assert page.url != f"{live_server.url}/me/checkin/"
    assert page.evaluate("document.activeElement.hasAttribute('data-urgent')")

    entry = CheckIn.objects.get(patient=patient)
    assert entry.responses.get().answers == list(RATINGS.values())
    doses = sorted(entry.doses.all(), key=lambda d: d.taken_at)
    assert len(doses) == 3
    added = [d for d in doses if timezone.localtime(d.taken_at).time() == time(0, 0)]
    assert [d.amount for d in added] == [Decimal("1.5")]
    reports = {r.term: r.severity for r in SymptomReport.objects.filter(patient=patient)}
    assert reports == {effect_name: 2, flag_name: 3}


def test_a_failed_check_in_is_announced_and_leads_to_each_field(
    live_server: Any, browser: Any, patient: PatientProfile
) -> None:
    page = browser.new_page(viewport=PHONE)
    keys = keyboard_login(page, live_server.url)
    keys.tab_to("#checkin-link")
    keys.enter_and_wait()
    keys.tab_to("input[name='r-pain_now']")
    keys.press("ArrowRight", 3)
    keys.tab_to("#id_dose-0-took")
    keys.press("Space")  # ticked, with its amount taken away
    keys.tab_to("#id_dose-0-amount")
    keys.clear()
    keys.tab_to("#save-checkin")
    keys.enter_and_wait()
    assert_errors_are_announced_and_tied(page)
    amount = page.locator("#id_dose-0-amount")
    assert amount.get_attribute("aria-invalid") == "true"
    # The summary's links, by keyboard: Tab to one, Enter, the focus is on its field.
    keys.press("Tab")
    first = page.evaluate("document.activeElement.getAttribute('href')")
    keys.press("Enter")
    assert "#" + focused_id(page) == first
    keys.tab_to(".error-summary a[href='#id_dose-0-amount']", back=True)
    keys.press("Enter")
    assert focused_id(page) == "id_dose-0-amount"
    keys.type("2")
    assert not CheckIn.objects.filter(patient=patient).exists()


def test_a_single_dose_with_the_keyboard_alone(
    live_server: Any, browser: Any, patient: PatientProfile
) -> None:
    page = browser.new_page(viewport=PHONE)
    keys = keyboard_login(page, live_server.url)
    keys.tab_to("#id_amount")
    keys.type("a lot")
    keys.tab_to("main form button[type=submit]")
    keys.enter_and_wait()
    assert_errors_are_announced_and_tied(page)
    keys.press("Tab")
    keys.press("Enter")
    assert focused_id(page) == "id_amount"
    keys.clear()
    keys.type("2.5")
    keys.tab_to("main form button[type=submit]")
    keys.enter_and_wait()
    today = DoseEntry.objects.filter(patient=patient, taken_at__date=timezone.localdate())
    assert [d.amount for d in today] == [Decimal("2.5")]


def test_plan_and_trends_with_the_keyboard_alone(
    live_server: Any, browser: Any, patient: PatientProfile
) -> None:
    Plan.objects.create(
        patient=patient,
        version=1,
        kind=PlanKind.MAINTENANCE,
        author=User.objects.get(username="doc"),
        reason="Agreed at the visit",
        max_daily_dose_g=Decimal(8),
        max_doses_per_day=3,
    )
    page = browser.new_page(viewport=PHONE)
    keys = keyboard_login(page, live_server.url)
    keys.tab_to(".patient-nav a[href='/me/plan/']")
    keys.enter_and_wait()
    assert page.url.endswith("/me/plan/")
    assert "8 g" in page.inner_text("main")
    # Every stop of the page, forwards and back, can be seen; nothing traps the focus.
    keys.tab_to(".patient-nav a[href='/me/trends/']")
    keys.tab_to(".skip", back=True)
    keys.tab_to(".patient-nav a[href='/me/trends/']")
    keys.enter_and_wait()
    assert page.url.endswith("/me/trends/")
    keys.tab_to(".tabs a[href='?weeks=4']")
    keys.enter_and_wait()
    assert page.url.endswith("?weeks=4")
    assert page.locator(".tabs a[aria-current=page]").inner_text() == "4 weeks"
    assert page.locator(".chart-box svg").count() == 1
    # The skip link leads past the header and the navigation.
    page.goto(f"{live_server.url}/me/trends/")
    keys.press("Tab")
    assert page.evaluate("document.activeElement.matches('.skip')")
    page.keyboard.press("Enter")  # the focus moves on from the top of <main>
    keys.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")


def test_reminder_settings_with_the_keyboard_alone(
    live_server: Any, browser: Any, patient: PatientProfile
) -> None:
    page = browser.new_page(viewport=PHONE)
    keys = keyboard_login(page, live_server.url)
    keys.tab_to("a[href='/me/data/']")
    keys.enter_and_wait()
    assert page.url.endswith("/me/data/")
    # A time without an address: refused, announced, and the link leads to the address.
    keys.tab_to("#id_reminder_time")
    keys.type("07:3")  # a closed list jumps to the option typed
    assert page.input_value("#id_reminder_time") == "07:30"
    keys.tab_to("#id_email")
    keys.clear()
    keys.tab_to("main form button[type=submit]")
    keys.enter_and_wait()
    assert_errors_are_announced_and_tied(page)
    keys.press("Tab")
    keys.press("Enter")
    assert focused_id(page) == "id_email"
    assert page.input_value("#id_reminder_time") == "07:30"
    keys.type("paul@example.org")
    keys.tab_to("main form button[type=submit]")
    keys.enter_and_wait()
    assert "Reminder set for 07:30" in page.inner_text("main [role=status]")
    patient.refresh_from_db()
    assert patient.reminder_time == time(7, 30)
