"""Panel ranking, filters and query counts; plans with the taper helper; record edits."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kratomwatch.clinic.models import DoseEntry, Finding, PatientCondition, Plan, Product
from kratomwatch.clinic.views.patient_page import TABS
from kratomwatch.synthetic.seed import seed_demo_clinic

from .conftest import Triangle, make_patient


def add_finding(patient: Any, severity: str, days_old: int, code: str) -> None:
    seen = timezone.now() - timedelta(days=days_old)
    Finding.objects.create(
        patient=patient,
        code=code,
        fingerprint=f"{code}-{patient.pk}",
        severity=severity,
        category="interaction",
        title=code,
        rationale="r",
        first_seen=seen,
        last_seen=seen,
    )


def test_the_panel_ranks_by_severity_then_age(client: Client, tri: Triangle) -> None:
    older = make_patient("olive", tri.clinic, tri.clinician)
    newer = make_patient("nora", tri.clinic, tri.clinician)
    moderate = make_patient("mo", tri.clinic, tri.clinician)
    add_finding(newer, "high", 1, "a")
    add_finding(older, "high", 5, "b")
    add_finding(moderate, "moderate", 30, "c")
    client.force_login(tri.clinician)
    rows = client.get(reverse("patient_list")).context["rows"]
    order = [r.patient.display_name for r in rows]
    # The most severe open finding first; among equals the longest-waiting (Paul's fixture
    # finding is from now), then the moderate one even though it is older.
    assert order == ["Olive", "Nora", "Paul", "Mo"]


def test_the_panel_fills_the_two_week_columns_for_the_rows_shown(tri: Triangle) -> None:
    from kratomwatch.clinic.access import visible_patients
    from kratomwatch.clinic.panel import panel_rows

    quiet = make_patient("quinn", tri.clinic, tri.clinician)  # no finding: ranked last
    for patient in (tri.patient, quiet):
        product = Product.objects.create(patient=patient, name="Leaf", form="leaf_powder")
        DoseEntry.objects.create(
            patient=patient,
            product=product,
            taken_at=timezone.now() - timedelta(days=1),
            amount=Decimal("2"),
            unit="g",
            leaf_equivalent_g=Decimal("2"),
            idempotency_key=f"k-{patient.pk}",
        )
    first, last = panel_rows(visible_patients(tri.clinician), shown=1)
    assert (first.patient, last.patient) == (tri.patient, quiet)
    assert first.dose_now == Decimal("2") / 7
    assert last.dose_now is None  # not on the page: not computed
    _, last = panel_rows(visible_patients(tri.clinician))
    assert last.dose_now == Decimal("2") / 7


def test_the_panel_filters_and_answers_htmx_with_rows_only(client: Client, tri: Triangle) -> None:
    other = make_patient("fiona", tri.clinic, tri.clinician)
    PatientCondition.objects.create(patient=other, code="fibromyalgia")
    Product.objects.create(patient=other, name="7-OH", form="seven_oh")
    client.force_login(tri.clinician)
    html = client.get(reverse("patient_list"), {"condition": "fibromyalgia"}).content.decode()
    assert "Fiona" in html and "Paul" not in html
    html = client.get(reverse("patient_list"), {"form": "seven_oh"}).content.decode()
    assert "Fiona" in html and "Paul" not in html
    html = client.get(reverse("patient_list"), {"category": "interaction"}).content.decode()
    assert "Paul" in html and "Fiona" not in html
    partial = client.get(reverse("patient_list"), {"q": "fio"}, HTTP_HX_REQUEST="true")
    text = partial.content.decode()
    assert "Fiona" in text and "<html" not in text and "Paul" not in text


def test_the_panel_query_count_does_not_grow_with_patients(client: Client, db: None) -> None:
    def count_for(slug: str, patients: int) -> int:
        summary = seed_demo_clinic(
            patients=patients, days=15, today=date(2026, 11, 20), slug=slug, screen=False
        )
        user = summary.clinic.users.filter(role="clinician").first()
        client.force_login(user)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("patient_list")).status_code == 200
        return len(queries)

    assert count_for("small", 4) == count_for("large", 16)


def test_the_patient_page_query_count_does_not_grow_with_data(client: Client, db: None) -> None:
    """The summary and every section, as a page and as a section loaded by htmx."""

    def patient_of(slug: str, patients: int, days: int) -> tuple[Any, str]:
        summary = seed_demo_clinic(
            patients=patients, days=days, today=date(2026, 11, 20), slug=slug, screen=True
        )
        user = summary.clinic.users.filter(role="clinician").first()
        patient = summary.clinic.patients.filter(careteammembership__clinician=user).first()
        return user, reverse("patient_detail", kwargs={"patient_uuid": patient.uuid})

    def count_for(who: tuple[Any, str], query: str, headers: dict[str, str]) -> int:
        client.force_login(who[0])
        with CaptureQueriesContext(connection) as queries:
            assert client.get(who[1] + query, headers=headers).status_code == 200
        return len(queries)

    small, large = patient_of("small", 3, 10), patient_of("large", 12, 40)
    for query in ("", *(f"?tab={name}" for name, _, _ in TABS)):
        for headers in ({}, {"HX-Request": "true"}):
            assert count_for(small, query, headers) == count_for(large, query, headers), query
    assert count_for(large, "", {}) <= 32  # the summary and the first section


def plan_post(**extra: str) -> dict[str, str]:
    data = {
        "kind": "taper",
        "starting_dose_g": "",
        "max_single_dose_g": "3",
        "max_daily_dose_g": "9",
        "max_doses_per_day": "3",
        "min_hours_between": "4",
        "max_weekly_increase_pct": "",
        "review_on": "",
        "benefit_review_days": "",
        "stop_rules": "",
        "reason": "Agreed taper",
        "every_phq9": "14",
        "taper-recent_daily_g": "8",
        "taper-reduction_pct": "10",
        "taper-min_step_g": "0.5",
        "taper-step_days": "7",
        "taper-start": "2027-01-04",
    }
    data.update(extra)
    return data


def test_proposing_a_taper_saves_nothing_and_approving_makes_a_version(
    client: Client, tri: Triangle, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(tri.clinician)
    url = reverse("plan_edit", kwargs={"patient_uuid": tri.patient.uuid})
    response = client.post(url, plan_post(action="propose"))
    assert response.status_code == 200
    steps = response.context["steps"]
    assert steps[0] == {"start": "2027-01-04", "daily_g": "7.2"} and steps[-1]["daily_g"] == "0"
    assert not Plan.objects.filter(patient=tri.patient).exists()
    assert 'value="Agreed taper"' in response.content.decode()  # typed values kept
    data = plan_post(action="approve")
    edited = [(s["start"], s["daily_g"]) for s in steps]
    edited[0] = ("2027-01-04", "7.5")  # the clinician edits a step
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {**data, "step_date": [d for d, _ in edited], "step_g": [g for _, g in edited]}
        )
    assert response.status_code == 302
    plan = Plan.objects.get(patient=tri.patient, active=True)
    assert plan.version == 1 and plan.author == tri.clinician and plan.reason == "Agreed taper"
    assert plan.details["steps"][0] == {"start": "2027-01-04", "daily_g": "7.5"}
    assert tri.patient.questionnaire_schedules.get(instrument_id="phq9").every_days == 14
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {**plan_post(action="approve", max_daily_dose_g="8", reason="Slower")})
    versions = list(
        Plan.objects.filter(patient=tri.patient)
        .order_by("version")
        .values_list("version", "active")
    )
    assert versions == [(1, False), (2, True)]
    client.force_login(tri.patient.user)
    html = client.get(reverse("my_plan")).content.decode()
    assert "No more than <strong>8 g</strong> a day" in html


def test_a_bad_plan_is_refused_and_kept(client: Client, tri: Triangle) -> None:
    client.force_login(tri.clinician)
    url = reverse("plan_edit", kwargs={"patient_uuid": tri.patient.uuid})
    response = client.post(url, plan_post(action="approve", max_single_dose_g="12", reason=""))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "above the daily limit" in errors["max_single_dose_g"][0]
    assert "Say why" in errors["reason"][0]
    response = client.post(
        url,
        {
            **plan_post(action="approve"),
            "step_date": ["2027-01-10", "2027-01-03"],
            "step_g": ["6", "x"],
        },
    )
    assert response.status_code == 400
    assert any("daily limit in grams" in e for e in response.context["step_errors"])
    assert not Plan.objects.exists()


def test_adding_a_medication_screens_the_record(
    client: Client, tri: Triangle, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(tri.clinician)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("medication_add", kwargs={"patient_uuid": tri.patient.uuid}),
            {"name": "Klonopin 0.5 mg", "dose_text": "at night"},
        )
    med = tri.patient.medications.get(name_entered="Klonopin 0.5 mg")
    assert med.ingredient == "clonazepam"
    assert (
        Finding.objects.filter(patient=tri.patient, code="interaction.benzodiazepine", active=True)
        .exclude(pk=tri.finding.pk)
        .exists()
    )


def test_bulk_acknowledge_refuses_moderate_and_high(client: Client, tri: Triangle) -> None:
    client.force_login(tri.clinician)
    response = client.post(
        reverse("bulk_acknowledge"),
        {"finding": [str(tri.finding.uuid)], "reason": "x"},
        follow=True,
    )
    assert "Only low-severity" in response.content.decode()
    tri.finding.refresh_from_db()
    assert tri.finding.status == "open"


def test_the_patient_page_has_the_timeline(client: Client, tri: Triangle) -> None:
    DoseEntry.objects.create(
        patient=tri.patient,
        product=tri.product,
        taken_at=timezone.now(),
        amount=Decimal(2),
        unit="g",
        leaf_equivalent_g=Decimal(2),
        idempotency_key="t",
    )
    client.force_login(tri.clinician)
    html = client.get(reverse("patient_detail", kwargs={"patient_uuid": tri.patient.uuid}))
    text = html.content.decode()
    assert "<svg" in text and "<title>Daily dose, pain and interference" in text
