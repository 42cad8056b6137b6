"""A clinician records liver tests and a drug screen and sees what screening made of them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from kratomwatch.clinic.models import (
    CareTeamMembership,
    Clinic,
    LabResult,
    MedicationStatement,
    PatientProfile,
    Product,
    Role,
    User,
)

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "correct horse battery staple"


def _user(username: str, clinic: Clinic, role: Role) -> User:
    user = User.objects.create(username=username, clinic=clinic, role=role)
    user.set_password(PASSWORD)
    user.save()
    return user


def test_a_clinician_records_liver_tests_and_a_drug_screen(
    live_server: Any, browser: Any, shot: Any
) -> None:
    clinic = Clinic.objects.create(name="Clinic A", slug="a")
    clinician = _user("dr.results", clinic, Role.CLINICIAN)
    patient = PatientProfile.objects.create(
        user=_user("rita", clinic, Role.PATIENT), clinic=clinic, display_name="Rita"
    )
    CareTeamMembership.objects.create(patient=patient, clinician=clinician)
    Product.objects.create(
        patient=patient, name="Green Maeng Da", form="leaf_powder", mitragynine_mg_per_g=Decimal(15)
    )
    MedicationStatement.objects.create(patient=patient, name_entered="ibuprofen 400 mg")

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", clinician.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/patients/")
    page.goto(f"{live_server.url}/patients/{patient.uuid}/")
    assert "No results recorded" in page.inner_text("#sum-results")  # in the summary on top
    page.click("#sum-results >> text=Record results")
    page.wait_for_url("**/results/new/")

    taken = timezone.localtime() - timedelta(days=1)
    page.fill("#taken_at", taken.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#alt_value", "400")
    page.fill("#ast_value", "250")
    page.fill("#alp_value", "130")
    page.fill("#bilirubin_value", "41")
    page.select_option("#bilirubin_unit", "µmol/L")
    # A slip first: a unit left wrong is refused with the field named and nothing lost.
    page.select_option("#alt_unit", "IU/L")
    page.fill("#qtc_value", "40")
    page.select_option("#specimen", "urine")
    page.check("input[name=screen_benzodiazepines][value=positive]")
    page.check("input[name=screen_opioids][value=negative]")
    page.check("input[name=screen_mitragynine][value=positive]")
    page.click("#save-results")
    page.wait_for_load_state()
    summary = page.inner_text(".error-summary")
    assert "plausible range" in summary
    assert page.input_value("#alt_value") == "400"
    assert page.input_value("#bilirubin_unit") == "µmol/L"
    assert page.is_checked("input[name=screen_benzodiazepines][value=positive]")
    assert not LabResult.objects.exists()
    shot(page, "clinician-results-errors")

    page.fill("#qtc_value", "")
    page.click("#save-results")
    page.wait_for_url("**/patients/*/?tab=results#results")
    assert LabResult.objects.filter(patient=patient).count() == 7

    results = page.inner_text("#results")
    assert "Total bilirubin" in results and "entered as 41 µmol/L" in results
    assert "above upper limit" in results and "positive" in results.lower()
    glance = page.inner_text("#sum-results")  # the summary names them too
    assert "above upper limit" in glance and "Benzodiazepines" in glance
    page.click("a[data-anchors=findings]")  # the findings tab
    page.locator("article.finding").first.wait_for()
    findings = page.locator("article.finding")
    titles = [findings.nth(i).locator("h3").inner_text() for i in range(findings.count())]
    assert any("Liver injury with raised bilirubin during kratom use" in t for t in titles)
    assert any(
        "Drug screen positive for a substance not on the medication list" in t for t in titles
    )
    liver = findings.filter(has_text="Liver injury with raised bilirubin")
    assert "R ratio" in liver.inner_text() and "hepatocellular" in liver.inner_text()
    liver.locator("summary").click()
    assert liver.locator("a[href='https://pubmed.ncbi.nlm.nih.gov/21544079/']").is_visible()
    screen = findings.filter(has_text="Drug screen positive")
    assert "Benzodiazepines" in screen.inner_text()
    screen.locator("summary").click()
    assert screen.locator("a[href='https://pubmed.ncbi.nlm.nih.gov/18174009/']").is_visible()
    shot(page, "clinician-results-findings")
