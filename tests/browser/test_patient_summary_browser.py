"""A clinician opens a patient at a 1366×900 desk: the summary is on the first screen, and the
sections open by mouse and by keyboard, each at its own address."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from kratomwatch.clinic.actions.results import do_record_results
from kratomwatch.clinic.lab_results import latest_results
from kratomwatch.clinic.models import AuditEvent, ClinicalNote, PatientProfile, Plan, User
from kratomwatch.domain.results import check_batch
from kratomwatch.synthetic.seed import seed_demo_clinic

from .conftest import axe_report, no_horizontal_scroll, wait_until
from .test_clinician_browser import login

DESK = {"width": 1366, "height": 900}

pytestmark = pytest.mark.django_db(transaction=True)


def busiest_patient() -> tuple[User, PatientProfile]:
    """The demo clinician's patient with the most open findings, given a plan, a past visit and
    a schedule, so that every part of the summary has something to show."""
    seed_demo_clinic(patients=6, days=45, today=timezone.localdate())
    clinician = User.objects.get(username="dr.lee")
    patients = PatientProfile.objects.filter(careteammembership__clinician=clinician)
    patient = max(patients, key=lambda p: p.findings.filter(status="open").count())
    if not Plan.objects.filter(patient=patient, active=True).exists():
        Plan.objects.create(
            patient=patient,
            version=1,
            kind="taper",
            max_single_dose_g=3,
            max_daily_dose_g=9,
            max_doses_per_day=3,
            min_hours_between=4,
            review_on=timezone.localdate() + timedelta(days=28),
            author=clinician,
            reason="Agreed at the visit",
            approved_at=timezone.now() - timedelta(days=21),
        )
    note = ClinicalNote.objects.create(patient=patient, author=clinician, text="Visit")
    ClinicalNote.objects.filter(pk=note.pk).update(created=timezone.now() - timedelta(days=12))
    for instrument_id, every in (("phq9", 14), ("gad7", 28)):
        patient.questionnaire_schedules.get_or_create(
            instrument_id=instrument_id, defaults={"every_days": every, "created_by": clinician}
        )
    if not patient.results.exists():
        batch = check_batch(
            taken_at=timezone.now() - timedelta(days=3),
            values={"alt": {"value": "88", "unit": "U/L"}, "alp": {"value": "96", "unit": "U/L"}},
            screens={"mitragynine": "positive", "fentanyl": "negative"},
            specimen="urine",
            now=timezone.now(),
        )
        do_record_results(patient=patient, user=clinician, batch=batch)
    return clinician, patient


def test_the_summary_fits_the_first_screen_and_the_sections_open(
    live_server: Any, browser: Any, shot: Any, axe: Any
) -> None:
    clinician, patient = busiest_patient()
    page = browser.new_context(viewport=DESK, bypass_csp=True).new_page()  # bypass: for axe
    login(page, live_server.url, clinician.username)
    page.wait_for_url("**/patients/")
    url = live_server.url + reverse("patient_detail", kwargs={"patient_uuid": patient.uuid})
    page.goto(url)
    summary = page.locator("#summary")
    box = summary.bounding_box()
    assert box is not None and box["y"] >= 0
    assert box["y"] + box["height"] <= DESK["height"], box
    for part in ("#sum-plan", "#sum-adherence", "#sum-change", "#sum-new", "#sum-results"):
        inner = page.locator(part).bounding_box()
        assert inner is not None, part
        assert inner["y"] >= box["y"] and inner["y"] + inner["height"] <= box["y"] + box["height"]
        assert inner["y"] + inner["height"] <= DESK["height"], part
    text = summary.inner_text()
    assert ", version" in text and "within the plan on" in text
    assert "Last visit" in text and "g leaf-equivalent a day" in text
    latest = {r.analyte: r for r in latest_results(patient)}
    assert "No results recorded." not in text and "Drug screen" in text
    assert all(r.label in text for r in latest.values() if r.kind == "measurement")
    assert no_horizontal_scroll(page)
    shot(page, "patient-summary", full_page=False)
    found = axe(page)
    assert not found, axe_report([("summary", v) for v in found])
    page.click("#timeline-table summary")
    assert page.locator("#timeline-table tbody tr").count() > 20  # the chart's points as rows
    shot(page, "patient-timeline")

    # By mouse: the Findings tab loads its section into the page, at its own address.
    views = AuditEvent.objects.filter(action="patient.view", patient=patient).count()
    page.click("#patient-tabs a[href='?tab=findings']")
    page.wait_for_selector("#tab-panel #findings")
    assert page.url.endswith("?tab=findings")
    assert page.locator("#patient-tabs a[aria-current=page]").inner_text() == "Findings"
    assert page.locator("#summary").count() == 1  # the section alone was loaded
    assert AuditEvent.objects.filter(action="patient.view", patient=patient).count() == views + 1

    # By keyboard: focus the Notes tab and press Enter.
    page.focus("#patient-tabs a[href='?tab=records']")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "?tab=notes"
    page.keyboard.press("Enter")
    page.wait_for_selector("#tab-panel #notes")
    assert page.locator("#patient-tabs a[aria-current=page]").inner_text() == "Notes"
    wait_until(page, "document.activeElement.tagName === 'H2'")
    assert page.evaluate("document.activeElement.innerText") == "Notes"  # its heading
    found = axe(page)
    assert not found, axe_report([("notes section", v) for v in found])

    # Back: the previous section again, the summary still on top.
    page.go_back()
    page.wait_for_selector("#tab-panel #findings")
    assert page.locator("#summary").count() == 1

    # An old link to an anchor in another section opens that section.
    page.goto(url + "#medications")
    page.wait_for_url(re.compile(r"\?tab=plan#medications$"))
    assert page.locator("#medications").is_visible()

    # Without JavaScript each tab is a link to the whole page with that section.
    context = browser.new_context(viewport=DESK, java_script_enabled=False)
    plain = context.new_page()
    login(plain, live_server.url, clinician.username)
    plain.goto(url)
    plain.click("#patient-tabs a[href='?tab=records']")
    plain.wait_for_selector("#tab-panel #doses")
    assert plain.url.endswith("?tab=records") and plain.locator("#summary").count() == 1
    context.close()
