"""Recording results on the web: the form, its errors, the section on the patient page."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kratomwatch.clinic.lab_results import latest_results
from kratomwatch.clinic.models import AuditEvent, LabResult

from .conftest import Triangle

TAKEN = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")


def url(t: Triangle) -> str:
    return reverse("results_new", kwargs={"patient_uuid": t.patient.uuid})


def test_the_form_lists_every_test_with_its_units(client: Client, tri: Triangle) -> None:
    client.force_login(tri.clinician)
    page = client.get(url(tri)).content.decode()
    for text in ("ALT (alanine aminotransferase)", "Total bilirubin", "µmol/L", "QTc",
                 "Benzodiazepines", "Mitragynine (kratom)", "Not tested"):  # fmt: skip
        assert text in page


def test_a_liver_panel_is_stored_converted_audited_and_screened(
    client: Client, tri: Triangle
) -> None:
    client.force_login(tri.clinician)
    before = AuditEvent.objects.filter(action="result.create").count()
    response = client.post(
        url(tri),
        {
            "taken_at": TAKEN,
            "alt_value": "320",
            "alt_unit": "U/L",
            "ast_value": "210",
            "ast_unit": "U/L",
            "alp_value": "130",
            "alp_unit": "U/L",
            "bilirubin_value": "51.3",
            "bilirubin_unit": "µmol/L",
        },
    )
    assert response.status_code == 302
    assert response["Location"].endswith("?tab=results#results")
    bili = tri.patient.results.get(analyte="bilirubin")
    assert bili.value == Decimal("3") and bili.unit == "mg/dL"
    assert bili.value_entered == Decimal("51.3") and bili.unit_entered == "µmol/L"
    assert len({r.batch for r in tri.patient.results.all()}) == 1
    assert AuditEvent.objects.filter(action="result.create").count() == before + 1
    detail = reverse("patient_detail", kwargs={"patient_uuid": tri.patient.uuid})
    findings = client.get(detail, {"tab": "findings"}).content.decode()
    assert "Liver injury with raised bilirubin during kratom use" in findings
    assert "R ratio" in findings
    results = client.get(response["Location"]).content.decode()
    assert "entered as 51.3 µmol/L" in results
    assert "above upper limit" in results
    # The summary at the top names the latest values, flagged.
    assert 'id="sum-results"' in results and "No results recorded." not in results


def test_errors_name_the_field_and_keep_what_was_entered(client: Client, tri: Triangle) -> None:
    client.force_login(tri.clinician)
    response = client.post(
        url(tri),
        {
            "taken_at": TAKEN,
            "alt_value": "320",
            "alt_unit": "mg/dL",
            "qtc_value": "2000",
            "qtc_unit": "ms",
            "note": "fasting sample",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'href="#alt_unit"' in page and 'href="#qtc_value"' in page
    assert "no unit is assumed" in page
    assert "plausible range" in page
    assert 'value="320"' in page and 'value="2000"' in page and 'value="fasting sample"' in page
    assert not LabResult.objects.exists()


def test_a_future_sample_or_nothing_entered_is_refused(client: Client, tri: Triangle) -> None:
    client.force_login(tri.clinician)
    response = client.post(url(tri), {"taken_at": "2999-01-01T09:00", "alt_value": "30"})
    assert response.status_code == 400 and "future" in response.content.decode()
    response = client.post(url(tri), {"taken_at": TAKEN, "screen_cocaine": "not_tested"})
    assert response.status_code == 400 and "at least one" in response.content.decode()
    assert not LabResult.objects.exists()


def test_a_drug_screen_positive_not_on_the_list_is_a_finding(client: Client, tri: Triangle) -> None:
    client.force_login(tri.clinician)
    response = client.post(
        url(tri),
        {
            "taken_at": TAKEN,
            "specimen": "urine",
            "screen_benzodiazepines": "positive",
            "screen_opioids": "negative",
            "screen_cocaine": "not_tested",
        },
    )
    assert response.status_code == 302
    rows = {r.analyte: r for r in latest_results(tri.patient)}
    assert rows["benzodiazepines"].flag == "positive"
    assert rows["cocaine"].outcome == "not_tested"
    detail = reverse("patient_detail", kwargs={"patient_uuid": tri.patient.uuid})
    findings = client.get(detail, {"tab": "findings"}).content.decode()
    assert "Drug screen positive for a substance not on the medication list" in findings
    summary = client.get(detail).content.decode()
    assert "Drug screen" in summary and "Benzodiazepines" in summary
    assert tri.patient.findings.filter(code="result.drug_screen_unexplained").exists()


def test_a_form_sent_twice_records_its_results_once(client: Client, tri: Triangle) -> None:
    client.force_login(tri.clinician)
    page = client.get(url(tri)).content.decode()
    key = page.split('name="idempotency_key" value="')[1].split('"')[0]
    data = {"idempotency_key": key, "taken_at": TAKEN, "alt_value": "80", "alt_unit": "U/L"}
    assert client.post(url(tri), data).status_code == 302
    assert client.post(url(tri), data).status_code == 302
    assert tri.patient.results.count() == 1
    assert AuditEvent.objects.filter(action="result.create").count() == 1
