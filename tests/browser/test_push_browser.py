"""Notifications in the browser (Chromium): the service worker shows a pushed reminder, and
the settings page says plainly when this browser cannot subscribe."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from kratomwatch.clinic.models import PatientProfile

from .conftest import wait_until
from .test_patient_browser import PHONE, login, patient  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db(transaction=True)

NOTIFICATIONS = """navigator.serviceWorker.ready
  .then(r => r.getNotifications())
  .then(list => list.map(n => ({title: n.title, body: n.body, url: n.data && n.data.url})))"""


def shown(page: Any, timeout: float = 10.0) -> list[dict[str, Any]]:
    """The notifications the service worker shows, once there is one."""
    deadline = time.monotonic() + timeout
    while True:
        found: list[dict[str, Any]] = page.evaluate(NOTIFICATIONS)
        if found or time.monotonic() > deadline:
            return found
        page.wait_for_timeout(100)


def test_a_pushed_message_is_shown_by_the_service_worker(
    live_server: Any,
    browser: Any,
    patient: PatientProfile,  # noqa: F811 - the fixture
) -> None:
    base = live_server.url
    context = browser.new_context(viewport=PHONE)
    context.grant_permissions(["notifications"], origin=base)
    page = context.new_page()
    login(page, base)
    assert page.evaluate("navigator.serviceWorker.ready.then(r => !!r.active)")
    assert page.evaluate("Notification.permission") == "granted"
    assert shown(page, timeout=0) == []

    cdp = context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(event["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while not registrations and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    (registration,) = [r for r in registrations if r["scopeURL"] == f"{base}/"]
    message = {
        "title": "KratomWatch",
        "body": "KratomWatch: time for your check-in",
        "url": f"{base}/me/checkin/",
    }
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": base,
            "registrationId": registration["registrationId"],
            "data": json.dumps(message),
        },
    )
    (notification,) = shown(page)
    assert notification == {
        "title": "KratomWatch",
        "body": "KratomWatch: time for your check-in",
        "url": "/me/checkin/",
    }

    # A link to another site is not followed: the notification opens the app's home.
    page.evaluate(
        NOTIFICATIONS.split("\n")[0] + ".then(r => r.getNotifications())"
        ".then(list => list.forEach(n => n.close()))"
    )
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": base,
            "registrationId": registration["registrationId"],
            "data": json.dumps(
                {"title": "KratomWatch", "body": "x", "url": "https://evil.example/"}
            ),
        },
    )
    (notification,) = shown(page)
    assert notification["url"] == "/"
    context.close()


def test_the_reminder_page_says_when_notifications_cannot_be_turned_on(
    live_server: Any,
    browser: Any,
    patient: PatientProfile,  # noqa: F811 - the fixture
    shot: Any,
) -> None:
    base = live_server.url
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    login(page, base)
    # Notifications refused by the person: the page says so and points to e-mail.
    page.goto(f"{base}/me/data/")
    button = page.locator("[data-push-on]")
    button.wait_for()
    page.evaluate("Notification.requestPermission = () => Promise.resolve('denied')")
    button.click()
    status = page.locator("[data-push-status]")
    wait_until(
        page, "document.querySelector('[data-push-status]').textContent.includes('not allowed')"
    )
    assert "e-mail" in status.inner_text().lower()
    assert page.locator("#id_by_email").is_visible()
    # Allowed, but this browser has no push service to subscribe with: it says so too.
    context.grant_permissions(["notifications"], origin=base)
    page.reload()
    page.locator("[data-push-on]").click()
    wait_until(
        page,
        "document.querySelector('[data-push-status]').textContent.includes('E-mail still works')",
    )
    assert "could not be turned on" in status.inner_text()
    assert page.locator("[data-push-on]").is_enabled()  # and it may be tried again
    shot(page, "patient-reminders-360")
    context.close()
