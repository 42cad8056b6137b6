"""The personal dose-response in the app: diary days from the database, the clinician's
section, and the patient's plain-language version."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from kratomwatch.clinic.analysis_app import (
    WINDOW_DAYS,
    diary_days,
    dose_response,
    patient_summary,
)
from kratomwatch.clinic.models import (
    AuditEvent,
    DoseEntry,
    PatientProfile,
    QuestionnaireResponse,
    SymptomReport,
    User,
)
from kratomwatch.synthetic.seed import seed_demo_clinic

from .conftest import Triangle

JARGON = ("credible", "posterior", "AR(1)", "autocorrelation", "causation", "coefficient", "CrI")
DOSE_ADVICE = re.compile(r"\b(increase|decrease|reduce|raise|lower) (your|the) (dose|amount)", re.I)


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), timezone.get_current_timezone())


def add_pain(patient: PatientProfile, day: date, pain: float) -> None:
    QuestionnaireResponse.objects.create(
        patient=patient,
        instrument_id="kw-daily-pain",
        instrument_version="1.0",
        answers=[],
        scores={"subscales": {"pain": pain, "interference": 3}},
        taken_at=at(day, 20),
        idempotency_key=f"pain-{day.isoformat()}",
    )


def add_dose(t: Triangle, day: date, hour: int, leaf_g: Decimal | None) -> None:
    DoseEntry.objects.create(
        patient=t.patient,
        product=t.product,
        taken_at=at(day, hour),
        amount=leaf_g or Decimal("1"),
        unit="g",
        leaf_equivalent_g=leaf_g,
        idempotency_key=f"dose-{day.isoformat()}-{hour}",
    )


def test_diary_days_follow_the_stated_rules(tri: Triangle) -> None:
    d0 = date(2026, 3, 2)
    add_pain(tri.patient, d0, 6)  # check-in, two doses, a symptom
    add_dose(tri, d0, 8, Decimal("2.5"))
    add_dose(tri, d0, 14, Decimal("1.5"))
    SymptomReport.objects.create(
        patient=tri.patient, term="Nausea", severity=1, reported_at=at(d0, 21)
    )
    add_pain(tri.patient, d0 + timedelta(days=1), 5)  # check-in, no dose, no symptom
    add_pain(tri.patient, d0 + timedelta(days=2), 4)  # check-in, a dose of unknown amount
    add_dose(tri, d0 + timedelta(days=2), 9, None)
    add_dose(tri, d0 + timedelta(days=3), 9, Decimal("3"))  # a dose, no check-in
    # d0 + 4: nothing at all
    days = {r.day: r for r in diary_days(tri.patient, d0, d0 + timedelta(days=4))}
    assert sorted(days) == [d0 + timedelta(days=k) for k in range(4)]
    first = days[d0]
    assert (first.pain, first.dose, first.side_effect, first.interference) == (6, 4.0, True, None)
    none_taken = days[d0 + timedelta(days=1)]
    assert (none_taken.pain, none_taken.dose, none_taken.side_effect) == (5, 0.0, False)
    unknown = days[d0 + timedelta(days=2)]
    assert (unknown.pain, unknown.dose) == (4, None)  # never a guess
    no_checkin = days[d0 + timedelta(days=3)]
    assert (no_checkin.pain, no_checkin.dose, no_checkin.side_effect) == (None, 3.0, None)


def test_the_analysis_is_cached_per_request_only(tri: Triangle) -> None:
    factory = RequestFactory()
    first, second = factory.get("/"), factory.get("/")
    a = dose_response(tri.patient, first)
    assert dose_response(tri.patient, first) is a
    assert dose_response(tri.patient, second) is not a


@pytest.fixture
def seeded(db: None) -> dict[str, PatientProfile]:
    summary = seed_demo_clinic(patients=6, days=120, today=timezone.localdate(), screen=False)
    patients = PatientProfile.objects.filter(clinic=summary.clinic).select_related("user")
    return {p.user.username: p for p in patients}


def _section(client: Client, patient: PatientProfile, fragment: bool = True) -> str:
    url = reverse("patient_dose_response", kwargs={"patient_uuid": patient.uuid})
    headers = {"HX-Request": "true"} if fragment else {}
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    return response.content.decode()


def _clinician_of(patient: PatientProfile) -> User:
    return patient.care_team.order_by("username").first()  # type: ignore[return-value]


def test_the_clinicians_section_with_seeded_diaries(
    client: Client, seeded: dict[str, PatientProfile]
) -> None:
    stable, no_benefit = seeded["patient01"], seeded["patient05"]
    client.force_login(_clinician_of(stable))
    body = _section(client, stable)
    assert body.lstrip().startswith('<section class="card" id="dose-response"')
    assert "<html" not in body  # the fragment for the patient page
    for text in (
        "Personal dose–response",
        "Association, not causation",
        "Difference in pain per g/day (sustained), 90% CrI",
        "P(pain ≥ 1 point lower at the top of that range than at its bottom)",
        "P(pain ≥ 30% lower than at the bottom of that range",
        "No plateau detected",
        "AR(1) ρ, 90% CrI",
        "Side effects by dose third",
        "lowest third",
        "highest third",
        "This analysis recommends no dose",
    ):
        assert text in body, text
    result = dose_response(stable).pain
    assert result.sufficient and result.window is not None
    assert f"n = {result.n_days} usable days" in body
    assert f"{result.window[0].day} {result.window[0]:%b %Y}" in body
    assert "Insufficient data" not in body.split("Side effects")[0]
    assert AuditEvent.objects.filter(action="analysis.view", patient=stable).count() == 1

    client.force_login(_clinician_of(no_benefit))
    body = _section(client, no_benefit)
    nb = dose_response(no_benefit).pain
    assert nb.sufficient and nb.prob_benefit_points is not None and nb.prob_benefit_points < 0.01
    assert re.search(
        r"P\(pain ≥ 1 point lower at the top of that range than at its bottom\)"
        r"</th><td>&lt;1%",
        body,
    )
    # Without JavaScript the same section is a page of its own.
    page = _section(client, no_benefit, fragment=False)
    assert "<html" in page and "Personal dose–response" in page


def test_the_section_says_insufficient_data_with_the_minimum(client: Client, tri: Triangle) -> None:
    today = timezone.localdate()
    for k in range(10):
        day = today - timedelta(days=k)
        add_pain(tri.patient, day, 5)
        add_dose(tri, day, 9, Decimal("2") + k % 3)
    client.force_login(tri.clinician)
    body = _section(client, tri.patient)
    assert "Insufficient data." in body and "Insufficient data: " not in body.split("Notes")[0]
    assert "9 usable days; at least 28 days" in body
    assert "Minimum: at least 28 days" in body
    assert "Difference in pain per g/day" not in body
    assert "Association, not causation" in body


def test_the_patient_page_includes_the_section(client: Client, tri: Triangle) -> None:
    client.force_login(tri.clinician)
    page = reverse("patient_detail", kwargs={"patient_uuid": tri.patient.uuid})
    body = client.get(f"{page}?tab=analysis").content.decode()
    url = reverse("patient_dose_response", kwargs={"patient_uuid": tri.patient.uuid})
    assert f'hx-get="{url}"' in body and f'href="{url}"' in body
    assert reverse("trial_design", kwargs={"patient_uuid": tri.patient.uuid}) in body
    client.force_login(tri.patient.user)
    body = client.get(reverse("trends")).content.decode()
    assert 'id="my-dose-response"' in body and "Your kratom and your pain" in body
    assert reverse("my_trial") not in body  # no trial yet


def _plain(client: Client, patient: PatientProfile) -> str:
    """The patient's section, once their clinician has shared it."""
    clinician = _clinician_of(patient)
    client.force_login(clinician)
    digest = re.search(r'name="digest" value="([0-9a-f]+)"', _section(client, patient))
    assert digest
    url = reverse("release_dose_response", kwargs={"patient_uuid": patient.uuid})
    assert client.post(url, {"digest": digest.group(1)}).status_code == 302
    client.force_login(patient.user)
    response = client.get(reverse("my_dose_response"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.content.decode()


def test_the_patient_version_is_plain_and_never_suggests_a_dose_change(
    client: Client, seeded: dict[str, PatientProfile]
) -> None:
    for name in ("patient01", "patient05", "patient04"):  # 04: doses of unknown amount
        body = _plain(client, seeded[name])
        text = re.sub(r"<[^>]+>", " ", body)
        assert "Your kratom and your pain" in text
        assert "not what causes what" in text
        assert "Please do not change how much you take" in text
        assert "talk with your care team" in text
        for word in JARGON:
            assert word not in text, (name, word)
        assert not DOSE_ADVICE.search(text), name
        assert "plateau" not in text.lower()
    assert "not yet enough" in _plain(client, seeded["patient04"])
    stable = _plain(client, seeded["patient01"])
    assert "This looks at" in stable and "days of your diary" in stable


def test_the_patient_version_says_when_there_is_not_enough_data(tri: Triangle) -> None:
    lines = patient_summary(dose_response(tri.patient))
    assert "There is not yet enough in your diary" in lines[0]
    assert f"In the last {WINDOW_DAYS} days there are 0 such days" in lines[0]
    assert lines[-1].startswith("Please do not change how much you take")


def test_the_builder_uses_a_fixed_number_of_queries(
    seeded: dict[str, PatientProfile], django_assert_max_num_queries: object
) -> None:
    with django_assert_max_num_queries(3):  # type: ignore[operator]
        dose_response(seeded["patient01"])
