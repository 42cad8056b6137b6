"""A clinician at a desk: the panel, a high-risk patient, a finding, a taper plan, the report."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from django.utils import timezone

from kratomwatch.clinic.models import Finding, Plan
from kratomwatch.synthetic.seed import DEMO_PASSWORD, seed_demo_clinic

from .conftest import no_horizontal_scroll

DESKTOP = {"width": 1280, "height": 900}

pytestmark = pytest.mark.django_db(transaction=True)


def login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")


def test_a_clinician_reviews_acts_and_reports(
    live_server: Any, browser: Any, shot: Any, tmp_path: Any
) -> None:
    seed_demo_clinic(patients=6, days=30, today=timezone.localdate())
    page = browser.new_page(viewport=DESKTOP)
    login(page, live_server.url, "dr.lee")
    page.wait_for_url("**/patients/")
    first_row = page.locator("#panel-rows tr").first
    assert first_row.locator(".badge.sev-high").count() == 1  # high-risk patients first
    shot(page, "clinician-panel")
    name = first_row.locator("a").inner_text()
    first_row.locator("a").click()
    page.wait_for_url("**/patients/*/")
    assert page.locator("h1").inner_text().startswith(name)
    shot(page, "clinician-patient")

    page.click("#patient-tabs a[href='?tab=findings']")
    page.wait_for_selector("#tab-panel #findings")
    finding = page.locator("article.finding").first
    title = finding.locator("h3").inner_text()
    finding.locator("input[name=reason]").fill("Discussed at today's visit")
    finding.locator("button[value=acknowledge]").click()
    page.wait_for_load_state()
    assert "acknowledged" in page.inner_text(".messages").lower()
    stored = Finding.objects.filter(acknowledged_reason="Discussed at today's visit")
    assert stored.count() == 1 and stored.get().title in title

    page.click("text=Write or change the plan >> nth=0")
    page.wait_for_url("**/plan/")
    page.select_option("#id_kind", "taper")
    page.fill("#id_max_daily_dose_g", "12")
    page.fill("#id_taper-recent_daily_g", "10")
    page.fill("#id_taper-start", date.today().replace(day=1).isoformat())  # noqa: DTZ011
    page.click("#propose-taper")
    page.wait_for_load_state()
    assert page.locator("input[name=step_g]").first.input_value() == "9"
    assert not Plan.objects.filter(kind="taper").exists()  # proposing saves nothing
    page.fill("#id_reason", "Agreed to taper slowly")
    page.click("#approve-plan")
    page.wait_for_url(re.compile(r"/patients/[0-9a-f-]+/(\?tab=plan#plan)?$"))
    plan = Plan.objects.get(kind="taper", active=True)
    assert plan.details["steps"][0]["daily_g"] == "9"
    shot(page, "clinician-plan-approved")

    with page.expect_download() as download_info:
        page.click("text=Visit report (PDF)")
    path = tmp_path / "report.pdf"
    download_info.value.save_as(path)
    assert path.read_bytes().startswith(b"%PDF")

    patient_page = browser.new_page(viewport={"width": 360, "height": 780})
    login(patient_page, live_server.url, plan.patient.user.username)
    patient_page.goto(f"{live_server.url}/me/plan/")
    text = patient_page.inner_text("main")
    assert "Taper steps" in text and "9 g" in text
    assert no_horizontal_scroll(patient_page)
    shot(patient_page, "patient-plan-360")
