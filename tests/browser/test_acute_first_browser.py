"""On a phone and at a desk: a new red flag comes first, marked new with its reason in words;
approving a plan raises nothing for doses taken before it."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from kratomwatch.clinic import audit_chain
from kratomwatch.clinic.actions.screening import do_screen_patient
from kratomwatch.clinic.models import (
    CareTeamMembership,
    Clinic,
    DoseEntry,
    Finding,
    PatientProfile,
    Product,
    Role,
    SymptomReport,
    User,
)
from kratomwatch.synthetic.seed import DEMO_PASSWORD

from .conftest import no_horizontal_scroll
from .test_clinician_browser import login

pytestmark = pytest.mark.django_db(transaction=True)

VIEWPORTS = [
    pytest.param({"width": 360, "height": 780}, id="360px"),
    pytest.param({"width": 1280, "height": 900}, id="desktop"),
]


def person(clinic: Clinic, username: str, role: str, **names: str) -> User:
    user = User.objects.create(username=username, clinic=clinic, role=role, **names)
    user.set_password(DEMO_PASSWORD)
    user.save()
    return user


def patient(clinic: Clinic, clinician: User, name: str, year: int) -> PatientProfile:
    user = person(clinic, name.split()[0].lower(), Role.PATIENT)
    profile = PatientProfile.objects.create(
        user=user, clinic=clinic, display_name=name, year_of_birth=year
    )
    CareTeamMembership.objects.create(patient=profile, clinician=clinician)
    return profile


def reported(profile: PatientProfile, term: str, hours_ago: float) -> datetime:
    at = timezone.now() - timedelta(hours=hours_ago)
    SymptomReport.objects.create(patient=profile, term=term, severity=3, reported_at=at)
    do_screen_patient(profile.pk)
    return at


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_new_red_flag_leads_with_its_reason(
    live_server: Any, browser: Any, shot: Any, viewport: dict[str, int]
) -> None:
    clinic = Clinic.objects.create(name="Clinic A", slug="a")
    doctor = person(clinic, "dr.ames", Role.CLINICIAN)
    calm = patient(clinic, doctor, "Olive Stone", 1961)
    acute = patient(clinic, doctor, "Nora Field", 1988)
    reported(calm, "chest pain", 100)  # long-standing, and the doctor has looked since
    audit_chain.append(
        doctor, "patient.view", patient=calm, object_type="patient", object_uuid=calm.uuid
    )
    when = timezone.localtime(reported(acute, "difficulty breathing", 1))
    day = "today" if when.date() == timezone.localdate() else "yesterday"  # run after midnight
    clock = when.strftime("%H:%M")

    page = browser.new_page(viewport=viewport)
    login(page, live_server.url, "dr.ames")
    page.wait_for_url("**/patients/")
    first = page.locator("#panel-rows tr").first
    assert "Nora Field" in first.inner_text()
    assert first.locator(".badge.new").inner_text().lower() == "new"
    assert f"difficulty breathing or slow, shallow breathing, {day} {clock}" in first.inner_text()
    assert "Olive Stone" in page.locator("#panel-rows tr").nth(1).inner_text()
    assert no_horizontal_scroll(page)
    shot(page, f"clinician-panel-new-red-flag-{viewport['width']}")

    page.goto(f"{live_server.url}/findings/")
    first_high = page.locator("section:has(#sev-high) .patient-group").first
    assert "Nora Field" in first_high.inner_text()
    assert first_high.locator(".badge.new").count() == 1
    assert no_horizontal_scroll(page)

    # Opening Nora's record is looking: the long-standing finding now leads.
    page.goto(f"{live_server.url}/patients/")
    page.locator("#panel-rows tr").first.locator("a").first.click()
    page.wait_for_url(re.compile(r"/patients/[0-9a-f-]+/$"))
    page.goto(f"{live_server.url}/patients/")
    assert "Olive Stone" in page.locator("#panel-rows tr").first.inner_text()
    assert page.locator("#panel-rows .badge.new").count() == 0


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_approving_a_plan_raises_nothing_for_earlier_doses(
    live_server: Any, browser: Any, shot: Any, viewport: dict[str, int]
) -> None:
    clinic = Clinic.objects.create(name="Clinic A", slug="a")
    doctor = person(clinic, "dr.ames", Role.CLINICIAN)
    paul = patient(clinic, doctor, "Paul Marsh", 1975)
    product = Product.objects.create(
        patient=paul, name="Red Bali powder", form="leaf_powder", mitragynine_mg_per_g=Decimal(15)
    )
    for day in range(1, 4):  # 5 g doses, three a day, 2 h apart
        for n in range(3):
            DoseEntry.objects.create(
                patient=paul,
                product=product,
                taken_at=timezone.now() - timedelta(days=day, hours=2 * n),
                amount=Decimal(5),
                unit="g",
                leaf_equivalent_g=Decimal(5),
                idempotency_key=f"{day}-{n}",
            )
    do_screen_patient(paul.pk)

    page = browser.new_page(viewport=viewport)
    login(page, live_server.url, "dr.ames")
    page.wait_for_url("**/patients/")
    page.goto(f"{live_server.url}/patients/{paul.uuid}/plan/")
    page.select_option("#id_kind", "maintenance")
    page.fill("#id_max_single_dose_g", "3")
    page.fill("#id_max_daily_dose_g", "6")
    page.fill("#id_max_doses_per_day", "2")
    page.fill("#id_min_hours_between", "4")
    page.fill("#id_reason", "Agreed lower limits")
    page.click("#approve-plan")
    page.wait_for_url(re.compile(r"/patients/[0-9a-f-]+/(\?tab=plan#plan)?$"))
    assert "now in effect" in page.inner_text(".messages")
    page.goto(f"{live_server.url}/patients/{paul.uuid}/?tab=findings")  # after the screening
    page.wait_for_selector("#findings")
    titles = page.locator("article.finding h3").all_inner_texts()
    assert not [t for t in titles if "plan" in t.lower()], titles
    assert not Finding.objects.filter(patient=paul, category="plan").exists()
    assert no_horizontal_scroll(page)
    shot(page, f"clinician-plan-approved-no-deviation-{viewport['width']}")

    own = browser.new_page(viewport=viewport)
    login(own, live_server.url, "paul")
    own.wait_for_url("**/me/")
    text = own.inner_text("main")
    assert "your plan's" not in text and "your plan allows" not in text
