"""The patient app installed on a phone, and what it shows with the network off (Chromium)."""

from __future__ import annotations

from typing import Any

import pytest

from kratomwatch.clinic.models import PatientProfile

from .conftest import wait_until
from .test_patient_browser import PHONE, login, patient  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db(transaction=True)


def rule_message(rule_id: str) -> str:
    from kratomwatch.domain.safety import load_knowledge

    (rule,) = [r for r in load_knowledge().rules if r.id == rule_id]
    return rule.patient_message or ""


def test_installable_and_readable_offline(
    live_server: Any,
    browser: Any,
    patient: PatientProfile,  # noqa: F811 - the fixture
    shot: Any,
) -> None:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    base = live_server.url
    login(page, base)
    # The service worker is registered and controls the page once it has taken over.
    assert page.evaluate("navigator.serviceWorker.ready.then(r => !!r.active)")
    page.reload()
    wait_until(page, "navigator.serviceWorker.controller !== null")
    cdp = context.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["errors"] == [], manifest["errors"]
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    # A test browser's context is a private one, which Chromium never installs from; any
    # other reason would be the app's.
    assert [e for e in errors if e["errorId"] != "in-incognito"] == [], errors
    # Pages opened online are kept as last seen.
    for path in ("/me/plan/", "/me/checkin/", "/me/"):
        page.goto(f"{base}{path}")
    context.set_offline(True)
    page.goto(f"{base}/me/plan/")
    assert "plan" in page.inner_text("h1").lower()
    page.goto(f"{base}/me/checkin/")
    banner = page.locator(".offline-banner")
    banner.wait_for()
    assert "offline" in banner.inner_text()
    # The check-in can still be saved: it is kept on the phone (test_offline_checkin_browser).
    assert not page.locator("#save-checkin").is_disabled()
    # A red flag ticked with the network off shows its urgent guidance at once.
    flag = page.locator("input[name=red_flags][value=breathing_difficulty]")
    page.click(f"label[for='{flag.get_attribute('id')}']")
    alert = page.locator("#flag-guidance")
    alert.wait_for()
    words = rule_message("red_flag.breathing_difficulty")
    assert words and words.split(".")[0] in alert.inner_text()
    shot(page, "patient-offline-checkin")
    # Urgent guidance is on the phone from the start; a page never opened says so plainly.
    page.click(".offline-banner a")
    page.wait_for_url(f"{base}/urgent/")
    assert "call your local emergency number" in page.inner_text("main").lower()
    page.goto(f"{base}/me/trends/")
    assert page.inner_text("h1") == "No connection"
    # Back online: forms work again.
    context.set_offline(False)
    page.goto(f"{base}/me/checkin/")
    assert page.locator(".offline-banner").count() == 0
    assert not page.locator("main form[method=post] button[type=submit]").first.is_disabled()
    context.close()
