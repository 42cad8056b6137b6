"""A check-in entered with the network off (Chromium): checked and kept on the phone, its red
flag's urgent guidance shown at once; sent exactly once when the connection returns, also
after a reload and after a send cut off before its answer; the clinician sees its times."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from kratomwatch.clinic.models import CheckIn, DoseEntry, PatientProfile, User

from .conftest import axe_report, wait_until
from .test_patient_browser import PASSWORD, PHONE, RATINGS, login, patient  # noqa: F401
from .test_pwa_browser import rule_message

pytestmark = pytest.mark.django_db(transaction=True)

FLAG = "breathing_difficulty"


def queued(page: Any) -> list[dict[str, Any]]:
    return page.evaluate("kwQueue.all()")


def until_sent(page: Any, seconds: float = 20) -> None:
    """Wait until the phone keeps nothing more (polled here: waiting on a promise in the
    page would pass at once)."""
    deadline = time.monotonic() + seconds
    while queued(page):
        assert time.monotonic() < deadline, queued(page)
        page.wait_for_timeout(100)


def test_a_check_in_entered_offline_is_sent_once_when_back_online(
    live_server: Any,
    browser: Any,
    patient: PatientProfile,  # noqa: F811 - the fixture
    shot: Any,
    axe: Any,
) -> None:
    base = live_server.url
    context, page = online_with_worker(browser, base, bypass_csp=True)
    page.goto(f"{base}/me/checkin/")  # kept on the phone as last seen
    before = set(CheckIn.objects.values_list("pk", flat=True))

    context.set_offline(True)
    page.goto(f"{base}/me/checkin/")
    page.locator(".offline-banner").wait_for()
    # Checked on the phone first: nothing kept while a rating is missing.
    page.click("#save-checkin")
    summary = page.locator(".error-summary[role=alert]")
    summary.wait_for()
    assert "Choose one answer" in summary.inner_text()
    assert queued(page) == []
    # A dose in an impossible amount is refused on the phone with the server's limit.
    for item, value in RATINGS.items():
        page.click(f"label[for='id_r-{item}_{value}']")
    page.click("#repeat-yesterday")
    rows = page.locator("#dose-rows .dose-row")
    took = rows.locator("input[name$='-took']:checked")
    assert took.count() == 2
    first_amount = rows.nth(0).locator("input[name$='-amount']")
    first_amount.fill("500")
    page.click("#save-checkin")
    assert "at most 50 g" in summary.inner_text()
    assert queued(page) == []
    first_amount.fill("2")
    # The red flag's urgent guidance, at once, with no server.
    flag = page.locator(f"input[name=red_flags][value={FLAG}]")
    page.click(f"label[for='{flag.get_attribute('id')}']")
    words = rule_message(f"red_flag.{FLAG}").split(".")[0]
    assert words in page.inner_text("#flag-guidance")
    page.click("#save-checkin")
    panel = page.locator("#saved-offline")
    panel.wait_for()
    text = panel.inner_text()
    assert "Saved on this phone" in text
    assert "not been told yet" in text and words in text
    shot(page, "patient-offline-saved")
    assert axe(page) == [], axe_report([("saved offline", v) for v in axe(page)])
    (entry,) = queued(page)
    assert set(CheckIn.objects.values_list("pk", flat=True)) == before

    # Reloaded with the network still off: still kept, and said so.
    page.reload()
    page.locator("#queue-status").wait_for()
    assert "waiting to be sent: 1" in page.inner_text("#queue-status")
    assert axe(page) == [], axe_report([("waiting", v) for v in axe(page)])
    assert [e["key"] for e in queued(page)] == [entry["key"]]

    # Back online, the first send is cut off after the server saved it: the phone never
    # hears the answer, keeps the entry, and sends it again.
    cut = {"n": 0}

    def cut_off(route: Any) -> None:
        if route.request.method == "POST" and cut["n"] == 0:
            cut["n"] += 1
            route.fetch()  # reaches the server
            route.abort("connectionreset")
        else:
            route.continue_()

    context.route("**/me/checkin/", cut_off)
    context.set_offline(False)
    page.goto(f"{base}/me/")
    until_sent(page)
    assert cut["n"] == 1
    page.reload()
    until_sent(page)
    stored = CheckIn.objects.exclude(pk__in=before)
    assert stored.count() == 1
    (checkin,) = stored
    assert checkin.idempotency_key == entry["key"]
    assert checkin.submitted_at.isoformat().startswith(entry["entered_at"][:19])
    assert checkin.received_at is not None and checkin.submitted_at < checkin.received_at
    assert DoseEntry.objects.filter(checkin=checkin).count() == 2
    assert checkin.symptoms.filter(severity=3).count() == 1

    # The clinician sees them at the times they were entered.
    doctor = User.objects.get(username="doc")
    doctor.set_password(PASSWORD)
    doctor.save()
    other = browser.new_context()
    clinician = other.new_page()
    clinician.goto(f"{base}/login/")
    clinician.fill("#id_username", "doc")
    clinician.fill("#id_password", PASSWORD)
    clinician.click("button[type=submit]")
    clinician.wait_for_load_state()
    clinician.goto(f"{base}/patients/{patient.uuid}/?tab=records")
    doses = clinician.inner_text("main")
    entered = timezone.localtime(checkin.submitted_at)
    assert f"saved on the phone offline {entered:%-d %b %Y, %H:%M}" in doses
    for dose in DoseEntry.objects.filter(checkin=checkin):
        assert f"{timezone.localtime(dose.taken_at):%-d %b %Y, %H:%M}" in doses
    other.close()
    context.close()


def test_a_kept_check_in_the_server_refuses_is_opened_corrected_and_saved_once(
    live_server: Any,
    browser: Any,
    patient: PatientProfile,  # noqa: F811 - the fixture
    axe: Any,
) -> None:
    base = live_server.url
    context, page = online_with_worker(browser, base, bypass_csp=True)
    page.goto(f"{base}/me/checkin/")
    context.set_offline(True)
    page.goto(f"{base}/me/checkin/")
    page.locator(".offline-banner").wait_for()
    for item, value in RATINGS.items():
        page.click(f"label[for='id_r-{item}_{value}']")
    # 20 g of leaf passes the phone's checks; the server asks to confirm an amount that high.
    row = page.locator("#dose-rows .dose-row").last
    row.locator("input[name$='-took']").check()
    row.locator("input[name$='-amount']").fill("20")
    row.locator("select[name$='-unit']").select_option("g")
    row.locator("input[name$='-at']").fill("00:00")
    page.click("#save-checkin")
    page.locator("#saved-offline").wait_for()
    (entry,) = queued(page)

    context.set_offline(False)
    page.goto(f"{base}/me/")
    refused = page.locator("#queue-status .error-summary")
    refused.wait_for()
    assert "could not be saved" in refused.inner_text()
    assert "confirm" in refused.inner_text()
    assert axe(page) == [], axe_report([("refused", v) for v in axe(page)])
    assert not CheckIn.objects.filter(idempotency_key=entry["key"]).exists()
    # Opened: the answers are back in the form, with the entry's key and time.
    refused.get_by_role("link").click()
    page.wait_for_url("**/me/checkin/?entry=*")
    wait_until(page, "document.querySelector('input[name=entered_at]').value !== ''")
    assert page.input_value("input[name=idempotency_key]") == entry["key"]
    assert page.locator("input[name$='-amount']").last.input_value() == "20"
    assert axe(page) == [], axe_report([("opened", v) for v in axe(page)])
    page.click("#save-checkin")
    # The server asks to confirm, as it asks any check-in; confirmed, it is saved.
    page.locator("input[name$='-confirm']").first.check()
    page.click("#save-checkin")
    page.wait_for_url("**/me/checkin/*/")
    until_sent(page)
    checkin = CheckIn.objects.get(idempotency_key=entry["key"])
    assert checkin.submitted_at.isoformat().startswith(entry["entered_at"][:19])
    page.goto(f"{base}/me/")
    assert page.locator("#queue-status").count() == 0
    assert CheckIn.objects.filter(idempotency_key=entry["key"]).count() == 1
    context.close()


def test_a_check_in_page_kept_from_an_earlier_day_shows_today(
    live_server: Any,
    browser: Any,
    patient: PatientProfile,  # noqa: F811 - the fixture
) -> None:
    # The phone in the clinic's time zone, so that "10:05 tomorrow" is the same moment.
    base = live_server.url
    context, page = online_with_worker(browser, base, timezone_id=settings.TIME_ZONE)
    page.goto(f"{base}/me/checkin/")
    kept_day = page.get_attribute("[data-today]", "data-today")
    context.set_offline(True)
    tomorrow = timezone.localtime() + timezone.timedelta(days=1)
    page.clock.set_fixed_time(tomorrow.replace(hour=10, minute=5))
    page.goto(f"{base}/me/checkin/")
    page.locator(".offline-banner").wait_for()
    shown = page.inner_text("[data-today]")
    assert kept_day != tomorrow.date().isoformat()
    assert str(tomorrow.day) in shown and f"{tomorrow:%b}" in shown
    blank = page.locator("#dose-rows .dose-row:not([data-yesterday]) input[name$='-at']")
    assert blank.input_value() == "10:05"
    context.close()


def online_with_worker(browser: Any, base: str, **options: Any) -> tuple[Any, Any]:
    context = browser.new_context(viewport=PHONE, **options)
    page = context.new_page()
    login(page, base)
    page.evaluate("navigator.serviceWorker.ready")
    page.reload()
    wait_until(page, "navigator.serviceWorker.controller !== null")
    return context, page


def save_online(page: Any, base: str, flag: str | None = None) -> None:
    page.goto(f"{base}/me/checkin/")
    for item, value in RATINGS.items():
        page.click(f"label[for='id_r-{item}_{value}']")
    if flag:
        box = page.locator(f"input[name=red_flags][value={flag}]")
        page.click(f"label[for='{box.get_attribute('id')}']")
    page.click("#save-checkin")
    page.wait_for_url("**/me/checkin/*/")


def test_the_phones_copy_of_the_page_never_reuses_a_saved_check_ins_key(
    live_server: Any,
    browser: Any,
    patient: PatientProfile,  # noqa: F811 - the fixture
) -> None:
    base = live_server.url
    context, page = online_with_worker(browser, base)
    save_online(page, base)  # the copy on the phone is of this page, with this key
    first = CheckIn.objects.get(patient=patient)
    # The page from the phone's copy (the network failed a moment), then sent online.
    context.set_offline(True)
    page.goto(f"{base}/me/checkin/")
    assert page.input_value("input[name=idempotency_key]") != first.idempotency_key
    context.set_offline(False)
    wait_until(page, "document.documentElement.dataset.reachable === 'yes'")
    for item, value in RATINGS.items():
        page.click(f"label[for='id_r-{item}_{value}']")
    box = page.locator(f"input[name=red_flags][value={FLAG}]")
    page.click(f"label[for='{box.get_attribute('id')}']")
    page.click("#save-checkin")
    page.wait_for_url("**/me/checkin/*/")
    assert CheckIn.objects.filter(patient=patient).count() == 2  # not taken for a repeat
    assert patient.symptoms.filter(severity=3).count() == 1
    context.close()


def test_a_check_in_sent_on_a_network_that_reaches_nothing_is_kept_and_sent_later(
    live_server: Any,
    browser: Any,
    patient: PatientProfile,  # noqa: F811 - the fixture
) -> None:
    base = live_server.url
    context, page = online_with_worker(browser, base)
    page.goto(f"{base}/me/checkin/")
    wait_until(page, "document.documentElement.dataset.reachable === 'yes'")
    # The phone says it is online, but the post never reaches the server.
    context.route(
        "**/me/checkin/",
        lambda route: route.abort() if route.request.method == "POST" else route.continue_(),
    )
    for item, value in RATINGS.items():
        page.click(f"label[for='id_r-{item}_{value}']")
    with page.expect_event("requestfailed"):
        page.click("#save-checkin")
    assert not CheckIn.objects.filter(patient=patient).exists()
    context.unroute("**/me/checkin/")
    # Kept on the phone; later (past the moment its own page had to hear back), any page
    # sends it.
    page.goto(f"{base}/me/plan/")
    assert [e["state"] for e in queued(page)] == ["sending"]
    page.evaluate(
        """kwQueue.all().then(([e]) => { e.sending_since = 0; return kwQueue.put(e); })"""
    )
    page.goto(f"{base}/me/")
    until_sent(page)
    assert CheckIn.objects.filter(patient=patient).count() == 1
    context.close()


def test_on_a_shared_phone_a_check_in_kept_by_one_patient_is_not_sent_as_anothers(
    live_server: Any,
    browser: Any,
    patient: PatientProfile,  # noqa: F811 - the fixture
) -> None:
    base = live_server.url
    context, page = online_with_worker(browser, base)
    page.goto(f"{base}/me/checkin/")
    context.set_offline(True)
    page.goto(f"{base}/me/checkin/")
    for item, value in RATINGS.items():
        page.click(f"label[for='id_r-{item}_{value}']")
    page.click("#save-checkin")
    page.locator("#saved-offline").wait_for()
    (kept,) = queued(page)
    # Paul's session ends without logging out; Pia signs in on the same phone.
    other = User.objects.create(
        username="pia", clinic=patient.clinic, role=patient.user.role, first_name="Pia"
    )
    other.set_password(PASSWORD)
    other.save()
    pia = PatientProfile.objects.create(user=other, clinic=patient.clinic, display_name="Pia")
    context.clear_cookies()  # (before the connection returns, or Paul's page sends it)
    context.set_offline(False)
    page.goto(f"{base}/login/")
    page.fill("#id_username", "pia")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/me/")
    wait_until(page, "document.documentElement.dataset.reachable === 'yes'")
    page.goto(f"{base}/me/plan/")
    assert [e["key"] for e in queued(page)] == [kept["key"]]  # still Paul's, on the phone
    assert page.locator("#queue-status").count() == 0  # and not shown to Pia
    assert not CheckIn.objects.filter(patient=pia).exists()
    assert not CheckIn.objects.filter(idempotency_key=kept["key"]).exists()
    # Paul signs in again: it is sent, into his record.
    context.clear_cookies()
    login(page, base)
    until_sent(page)
    assert CheckIn.objects.get(idempotency_key=kept["key"]).patient == patient
    context.close()
