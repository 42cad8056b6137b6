"""The buprenorphine transition plan: who writes it, who reads it, what it shows and watches."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kratomwatch.clinic.models import (
    AuditEvent,
    DoseEntry,
    Finding,
    InductionLogEntry,
    InductionPlan,
    LabResult,
    MedicationStatement,
    PatientProfile,
    QuestionnaireResponse,
)

from .conftest import Triangle

PLAN = {
    "product_text": "buprenorphine-naloxone sublingual film",
    "planned_start": "",
    "min_hours_since_kratom": "8",
    "cows_threshold": "8",
    "plan_text": "First dose in clinic once COWS is at or above the threshold; review at 1 hour.",
    "patient_text": "Stop kratom the evening before. Come to the clinic at 9.",
}


def open_plan(t: Triangle, **values: Any) -> InductionPlan:
    """An open transition plan for Paul, as the clinician would write it (test set-up)."""
    return InductionPlan.objects.create(
        patient=t.patient,
        author=t.clinician,
        product_text=PLAN["product_text"],
        plan_text=PLAN["plan_text"],
        patient_text=PLAN["patient_text"],
        min_hours_since_kratom=Decimal(values.get("hours", 8)),
        cows_threshold=values.get("threshold", 8),
    )


def local(minutes_ago: int) -> str:
    return f"{timezone.localtime() - timedelta(minutes=minutes_ago):%Y-%m-%dT%H:%M}"


def dose(t: Triangle, hours_ago: float) -> DoseEntry:
    taken = timezone.now() - timedelta(hours=hours_ago)
    return DoseEntry.objects.create(
        patient=t.patient,
        product=t.product,
        amount=Decimal(3),
        unit="g",
        taken_at=taken,
        leaf_equivalent_g=Decimal(3),
        mitragynine_mg=Decimal(45),
        idempotency_key=f"d-{hours_ago}",
    )


def test_the_patient_page_offers_the_plan_with_its_context(client: Client, tri: Triangle) -> None:
    QuestionnaireResponse.objects.create(
        patient=tri.patient,
        instrument_id="kw-use-criteria",
        instrument_version="1.0",
        answers=[1] * 11,
        total=7,
        scores={"band": "severe"},
        taken_at=timezone.now(),
        idempotency_key="kud",
    )
    client.force_login(tri.clinician)
    page = client.get(
        reverse("patient_detail", args=[tri.patient.uuid]), {"tab": "plan"}
    ).content.decode()
    assert "Open a buprenorphine transition plan" in page
    assert reverse("induction", args=[tri.patient.uuid]) in page
    assert "<strong>7</strong>" in page  # the use-disorder checklist total


def test_the_clinician_opens_a_plan_and_a_new_version_keeps_the_old(
    client: Client, tri: Triangle, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(tri.clinician)
    url = reverse("induction", args=[tri.patient.uuid])
    page = client.get(url).content.decode()
    assert 'value="8"' in page  # the case-series defaults are offered, and changeable
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, PLAN).status_code == 302
    plan = InductionPlan.objects.get(patient=tri.patient)
    assert plan.version == 1 and plan.author == tri.clinician
    assert AuditEvent.objects.filter(action="induction.open", object_uuid=plan.uuid).exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, PLAN | {"cows_threshold": "12"})
    plan.refresh_from_db()
    assert plan.version == 2 and plan.cows_threshold == 12
    assert plan.history[0]["cows_threshold"] == 8
    assert InductionPlan.objects.filter(patient=tri.patient).count() == 1
    assert AuditEvent.objects.filter(action="induction.change").count() == 1


def test_the_checklist_shows_the_facts_it_is_based_on(client: Client, tri: Triangle) -> None:
    open_plan(tri)
    dose(tri, hours_ago=10)
    MedicationStatement.objects.create(patient=tri.patient, name_entered="Vivitrol 380 mg")
    MedicationStatement.objects.create(patient=tri.patient, name_entered="Xanax 1 mg")
    client.force_login(tri.clinician)
    url = reverse("induction", args=[tri.patient.uuid])
    page = client.get(url).content.decode()
    assert "10 hours ago" in page
    assert "No COWS after the last kratom dose" in page
    assert "Vivitrol 380 mg" in page and "Xanax 1 mg" in page
    assert "Not every requirement is met or known" in page
    assert AuditEvent.objects.filter(action="induction.view", patient=tri.patient).exists()
    assert "Case reports" in page  # the grading of the evidence is shown


def test_logging_a_rise_in_cows_after_a_dose_raises_the_finding(
    client: Client, tri: Triangle, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # as its commit would
        open_plan(tri)
    client.force_login(tri.clinician)
    log = reverse("induction_log", args=[tri.patient.uuid])
    for entry in (
        {"at": local(90), "cows": "9", "notes": "before"},
        {"at": local(80), "dose_mg": "2", "notes": "first dose"},
    ):
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(log, entry).status_code == 302
    assert not Finding.objects.filter(code="dependence.induction_precipitated").exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(log, {"at": local(20), "cows": "16"})
    finding = Finding.objects.get(patient=tri.patient, code="dependence.induction_precipitated")
    assert finding.severity == "high"
    assert InductionLogEntry.objects.filter(patient=tri.patient).count() == 3
    assert AuditEvent.objects.filter(action="induction.log").count() == 3
    page = client.get(reverse("induction", args=[tri.patient.uuid])).content.decode()
    assert "possible precipitated withdrawal" in page
    assert "The first buprenorphine dose was logged at" in page
    assert "2 mg" in page


@pytest.mark.parametrize(
    "data, message",
    [
        ({"at": "", "dose_mg": "2"}, "Enter the time of this entry."),
        ({"at": "now"}, "Enter a valid date/time."),
        ({"dose_mg": "2000"}, "More than 64 mg in one entry"),
        ({"dose_mg": "-1"}, "greater than or equal to 0.01"),
        ({"cows": "49"}, "less than or equal to 48"),
        ({}, "Enter a buprenorphine dose, a COWS total, a sedation level or a note."),
    ],
)
def test_bad_log_input_is_refused_and_kept(
    client: Client, tri: Triangle, data: dict[str, str], message: str
) -> None:
    open_plan(tri)
    client.force_login(tri.clinician)
    posted = {"at": local(5), "notes": "kept text"} | data
    if not data:
        posted = {"at": local(5)}
    response = client.post(reverse("induction_log", args=[tri.patient.uuid]), posted)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert 'class="error-summary"' in page
    if "notes" in posted:
        assert "kept text" in page
    assert not InductionLogEntry.objects.exists()


def test_a_time_in_the_future_is_refused(client: Client, tri: Triangle) -> None:
    open_plan(tri)
    client.force_login(tri.clinician)
    response = client.post(
        reverse("induction_log", args=[tri.patient.uuid]), {"at": local(-60), "cows": "9"}
    )
    assert response.status_code == 400
    assert "later than now" in response.content.decode()


def test_bad_plan_input_is_refused_and_kept(client: Client, tri: Triangle) -> None:
    client.force_login(tri.clinician)
    response = client.post(
        reverse("induction", args=[tri.patient.uuid]),
        PLAN | {"cows_threshold": "60", "product_text": ""},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Write the buprenorphine product and form." in page
    assert PLAN["plan_text"] in page
    assert not InductionPlan.objects.exists()


def test_logging_needs_an_open_plan(client: Client, tri: Triangle) -> None:
    client.force_login(tri.clinician)
    url = reverse("induction_log", args=[tri.patient.uuid])
    assert client.post(url, {"at": local(5), "cows": "9"}).status_code == 404


def test_ending_the_plan(client: Client, tri: Triangle) -> None:
    plan = open_plan(tri)
    client.force_login(tri.clinician)
    url = reverse("induction_end", args=[tri.patient.uuid])
    client.post(url, {"reason": ""})
    plan.refresh_from_db()
    assert plan.is_open
    client.post(url, {"reason": "Stable on maintenance"})
    plan.refresh_from_db()
    assert not plan.is_open and plan.end_reason == "Stable on maintenance"
    assert AuditEvent.objects.filter(action="induction.end").exists()


@pytest.mark.parametrize("who", ["colleague", "outsider", "patient", "admin", "other_patient"])
def test_only_the_care_team_writes(client: Client, tri: Triangle, who: str) -> None:
    plan = open_plan(tri)
    client.force_login(tri.users()[who])
    uuid = tri.patient.uuid
    for name, data in [
        ("induction", PLAN),
        ("induction_log", {"at": local(5), "cows": "9"}),
        ("induction_end", {"reason": "x"}),
    ]:
        assert client.post(reverse(name, args=[uuid]), data).status_code in (403, 404)
    plan.refresh_from_db()
    assert plan.version == 1 and plan.is_open
    assert not InductionLogEntry.objects.exists()


def test_another_clinics_clinician_gets_404(client: Client, tri: Triangle) -> None:
    open_plan(tri)
    client.force_login(tri.outsider)
    assert client.get(reverse("induction", args=[tri.patient.uuid])).status_code == 404


def test_the_patient_reads_their_plan_in_plain_words(client: Client, tri: Triangle) -> None:
    plan = open_plan(tri)
    InductionLogEntry.objects.create(
        plan=plan,
        patient=tri.patient,
        at=timezone.now(),
        dose_mg=Decimal(4),
        entered_by=tri.clinician,
    )
    client.force_login(tri.patient.user)
    page = client.get(reverse("my_plan")).content.decode()
    assert "Moving from kratom to buprenorphine" in page
    assert PLAN["patient_text"] in page
    assert "Your care team decides the doses, not this app." in page
    assert "4 mg of buprenorphine" in page
    assert reverse("urgent_guidance") in page and reverse("checkin") in page
    assert PLAN["plan_text"] not in page  # the clinician's own text stays on their page


def test_another_patient_does_not_see_the_plan(client: Client, tri: Triangle) -> None:
    open_plan(tri)
    client.force_login(tri.other_patient.user)
    page = client.get(reverse("my_plan")).content.decode()
    assert "Moving from kratom to buprenorphine" not in page


def test_only_one_open_plan_per_patient(tri: Triangle) -> None:
    from django.db import IntegrityError, transaction

    open_plan(tri)
    with pytest.raises(IntegrityError), transaction.atomic():
        open_plan(tri)
    assert PatientProfile.objects.get(pk=tri.patient.pk).induction_plans.count() == 1


def test_erasure_removes_the_words_at_once_and_the_records_at_purge(tri: Triangle) -> None:
    from kratomwatch.clinic.actions.erasure import _erase_clinical, _remove_identity

    plan = open_plan(tri)
    InductionLogEntry.objects.create(
        plan=plan,
        patient=tri.patient,
        at=timezone.now(),
        cows=9,
        notes="wife drove him in",
        entered_by=tri.clinician,
    )
    plan.end_reason = "moved to his sister's in Leeds"
    plan.save()
    LabResult.objects.create(
        patient=tri.patient, batch=uuid.uuid4(), kind="screen", analyte="cocaine",
        taken_at=timezone.now(), outcome="negative", specimen="urine", note="sample from Dr Roe",
    )  # fmt: skip
    _remove_identity(tri.patient)
    plan.refresh_from_db()
    assert plan.plan_text.startswith("[removed") and plan.patient_text == ""
    assert plan.end_reason.startswith("[removed")
    assert LabResult.objects.get().note.startswith("[removed")
    assert InductionLogEntry.objects.get().notes.startswith("[removed")
    _erase_clinical(tri.patient)
    assert not InductionPlan.objects.exists() and not InductionLogEntry.objects.exists()


def test_the_patients_export_includes_the_plan_and_its_log(client: Client, tri: Triangle) -> None:
    import csv
    import io
    import zipfile

    plan = open_plan(tri)
    InductionLogEntry.objects.create(
        plan=plan,
        patient=tri.patient,
        at=timezone.now(),
        dose_mg=Decimal("2"),
        entered_by=tri.clinician,
    )
    client.force_login(tri.patient.user)
    archive = zipfile.ZipFile(io.BytesIO(client.get(reverse("my_data_csv")).content))
    plans = list(csv.DictReader(io.StringIO(archive.read("buprenorphine_plans.csv").decode())))
    assert plans[0]["product"] == PLAN["product_text"] and plans[0]["cows_threshold"] == "8"
    log = list(csv.DictReader(io.StringIO(archive.read("buprenorphine_log.csv").decode())))
    assert log[0]["buprenorphine_mg"] == "2"


def test_the_summary_at_the_top_of_the_patient_page_names_an_open_plan(
    client: Client, tri: Triangle
) -> None:
    client.force_login(tri.clinician)
    url = reverse("patient_detail", args=[tri.patient.uuid])
    assert 'id="sum-transition"' not in client.get(url).content.decode()
    plan = open_plan(tri)
    summary = client.get(url).content.decode()
    assert 'id="sum-transition"' in summary
    assert "Buprenorphine transition plan open" in summary
    assert f"(version {plan.version})" in summary
    plan.ended_at = timezone.now()
    plan.save()
    assert 'id="sum-transition"' not in client.get(url).content.decode()


@pytest.mark.parametrize("minutes", [2, -2])
def test_an_entry_timed_a_minute_ahead_is_screened_at_once(
    client: Client, tri: Triangle, django_capture_on_commit_callbacks: Any, minutes: int
) -> None:
    """The form takes times up to 5 minutes ahead (clocks differ); such an entry counts."""
    with django_capture_on_commit_callbacks(execute=True):
        open_plan(tri)
    client.force_login(tri.clinician)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("induction_log", args=[tri.patient.uuid]),
            {"at": local(minutes), "sedation": "4"},
        )
    assert response.status_code == 302
    assert tri.patient.findings.filter(code="dependence.induction_sedation").exists()
