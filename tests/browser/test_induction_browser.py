"""A clinician opens and follows a buprenorphine transition plan; the patient reads it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from kratomwatch.clinic.models import Finding, InductionLogEntry, InductionPlan, PatientProfile
from kratomwatch.synthetic.seed import DEMO_PASSWORD, seed_demo_clinic

from .conftest import no_horizontal_scroll

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 780}

pytestmark = pytest.mark.django_db(transaction=True)


def login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def at(minutes_ago: int) -> str:
    return f"{timezone.localtime() - timedelta(minutes=minutes_ago):%Y-%m-%dT%H:%M}"


def log_entry(page: Any, minutes_ago: int, **fields: str) -> None:
    page.fill("#id_at", at(minutes_ago))
    for name, value in fields.items():
        page.fill(f"#id_{name}", value)
    page.click("#add-log-entry")
    page.wait_for_url("**/induction/#log")


def test_a_clinician_opens_and_follows_a_transition_and_the_patient_reads_it(
    live_server: Any, browser: Any, shot: Any
) -> None:
    seed_demo_clinic(patients=3, days=30, today=timezone.localdate())
    patient = PatientProfile.objects.get(user__username="patient01")
    page = browser.new_page(viewport=DESKTOP)
    login(page, live_server.url, "dr.lee")
    page.goto(f"{live_server.url}/patients/{patient.uuid}/")
    page.get_by_role("link", name="Plan & medications").click()  # its tab
    section = page.locator("#induction")
    section.wait_for()
    assert "Use-disorder checklist" in section.inner_text()
    section.locator("text=Open a buprenorphine transition plan").click()
    page.wait_for_url("**/induction/")
    assert page.locator("#id_cows_threshold").input_value() == "8"  # the case-series default

    # Sent without the product: refused, with what was typed kept.
    page.fill("#id_plan_text", "First dose in clinic when COWS is at the threshold.")
    page.click("#save-induction-plan")
    page.wait_for_load_state()
    assert page.locator(".error-summary").count() == 1
    assert "First dose in clinic" in page.locator("#id_plan_text").input_value()
    assert not InductionPlan.objects.exists()

    page.fill("#id_product_text", "buprenorphine-naloxone sublingual film")
    page.fill("#id_patient_text", "Stop kratom the evening before and come in at 9.")
    page.click("#save-induction-plan")
    page.wait_for_url("**/induction/")
    assert "saved (version 1)" in page.inner_text(".messages")
    checklist = page.locator("#readiness")
    assert checklist.locator("[data-item=time_since_kratom]").count() == 1
    assert "Last kratom dose in the diary" in checklist.inner_text()
    assert "No COWS after the last kratom dose" in checklist.inner_text()
    assert "Case reports" in page.inner_text("main")  # the evidence grading
    shot(page, "induction-checklist")

    log_entry(page, 90, cows="9", notes="Sweating, yawning")
    assert "Latest COWS 9" in page.locator("#readiness").inner_text()
    log_entry(page, 80, dose_mg="2", notes="First dose")
    assert not Finding.objects.filter(code="dependence.induction_precipitated").exists()
    log_entry(page, 20, cows="17", notes="Vomiting, more restless")
    assert InductionLogEntry.objects.count() == 3
    findings = page.locator("main article.finding")
    assert findings.count() >= 1
    assert "possible precipitated withdrawal" in findings.first.inner_text()
    assert "from 9" in findings.first.inner_text() and "to 17" in findings.first.inner_text()
    assert "2 mg" in page.inner_text("#log")
    shot(page, "induction-precipitated-withdrawal")

    phone = browser.new_page(viewport=PHONE)
    login(phone, live_server.url, "patient01")
    phone.goto(f"{live_server.url}/me/plan/")
    text = phone.inner_text("#buprenorphine")
    assert "Moving from kratom to buprenorphine" in text
    assert "Stop kratom the evening before and come in at 9." in text
    assert "Your care team decides the doses, not this app." in text
    assert "2 mg of buprenorphine" in text
    assert phone.locator("#buprenorphine a[href='/urgent/']").count() == 1
    assert no_horizontal_scroll(phone)
    shot(phone, "induction-patient-plan")
