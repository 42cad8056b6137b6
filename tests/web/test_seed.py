"""The synthetic demo clinic: reproducible, realistic and containing every required story."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from kratomwatch.clinic.models import (
    CheckIn,
    DoseEntry,
    MedicationStatement,
    PatientProfile,
    QuestionnaireResponse,
    Role,
    SymptomReport,
    User,
)
from kratomwatch.synthetic.seed import seed_demo_clinic

TODAY = date(2026, 11, 20)
TZ = ZoneInfo(settings.TIME_ZONE)


@pytest.fixture
def demo(db: None):  # type: ignore[no-untyped-def]
    return seed_demo_clinic(patients=8, days=30, today=TODAY)


def test_it_makes_clinicians_patients_and_daily_data(demo) -> None:  # type: ignore[no-untyped-def]
    clinic = demo.clinic
    assert User.objects.filter(clinic=clinic, role=Role.CLINICIAN).count() >= 2
    patients = PatientProfile.objects.filter(clinic=clinic)
    assert patients.count() == 8
    for patient in patients:
        assert patient.careteammembership_set.exists()
        assert (
            QuestionnaireResponse.objects.filter(
                patient=patient, instrument_id="kw-daily-pain"
            ).count()
            >= 20
        )
    assert DoseEntry.objects.filter(patient__clinic=clinic).count() > 8 * 30
    assert SymptomReport.objects.filter(patient__clinic=clinic).exists()
    forms = set(
        DoseEntry.objects.filter(patient__clinic=clinic).values_list("product__form", flat=True)
    )
    assert {"leaf_powder", "capsule", "seven_oh"} <= forms


def test_it_contains_the_required_stories(demo) -> None:  # type: ignore[no-untyped-def]
    by_user = {p.user.username: p for p in PatientProfile.objects.filter(clinic=demo.clinic)}
    escalating = by_user["patient02"].doses.order_by("taken_at")
    first = sum(d.leaf_equivalent_g for d in escalating[:20]) / 20
    last = sum(d.leaf_equivalent_g for d in list(escalating)[-20:]) / 20
    assert last > first * Decimal("1.4")
    withdrawal = by_user["patient02"].responses.filter(instrument_id="kw-withdrawal")
    assert (
        withdrawal.order_by("-taken_at").first().total
        > withdrawal.order_by("taken_at").first().total
    )
    meds = set(
        MedicationStatement.objects.filter(patient=by_user["patient03"]).values_list(
            "name_entered", flat=True
        )
    )
    assert meds == {"Xanax", "Oxycodone"}
    seven_oh = by_user["patient04"].doses.first()
    assert seven_oh.product.form == "seven_oh" and seven_oh.hydroxymitragynine_mg > 0
    pains = [
        r.scores["subscales"]["pain"]
        for r in by_user["patient05"].responses.filter(instrument_id="kw-daily-pain")
    ]
    assert min(pains) >= 3  # no benefit: pain stays high


def test_it_is_reproducible_and_reused(db: None) -> None:
    first = seed_demo_clinic(patients=5, days=10, today=TODAY, slug="one")
    second = seed_demo_clinic(patients=5, days=10, today=TODAY, slug="two")
    again = seed_demo_clinic(patients=5, days=10, today=TODAY, slug="one")
    assert first.created and second.created and not again.created

    def shape(slug: str) -> list[tuple[str, str, str]]:
        return [
            (str(d.taken_at), str(d.amount), d.unit)
            for d in DoseEntry.objects.filter(patient__clinic__slug=slug).order_by(
                "taken_at", "amount"
            )
        ]

    assert shape("one") == shape("two") and shape("one")
    assert DoseEntry.objects.filter(patient__clinic__slug="one").count() == len(shape("one"))


def test_the_printed_logins_work(demo, client) -> None:  # type: ignore[no-untyped-def]
    for login in demo.logins:
        assert client.login(username=login.username, password=demo.password), login.username
        client.logout()


def test_the_daily_ratings_are_check_ins(demo) -> None:  # type: ignore[no-untyped-def]
    """As the check-in form stores them: the ratings, the doses taken so far that day and
    the side effects reported, all at the check-in's time."""
    checkins = CheckIn.objects.filter(patient__clinic=demo.clinic)
    daily = QuestionnaireResponse.objects.filter(
        patient__clinic=demo.clinic, instrument_id="kw-daily-pain"
    )
    assert checkins.count() == daily.count() > 8 * 20
    for checkin in checkins.prefetch_related("responses", "doses", "symptoms"):
        [response] = checkin.responses.all()
        assert response.instrument_id == "kw-daily-pain"
        assert response.taken_at == checkin.submitted_at
        assert response.patient_id == checkin.patient_id
        assert checkin.submitted_at.astimezone(TZ).date() == checkin.day
        for dose in checkin.doses.all():
            assert dose.taken_at <= checkin.submitted_at
            assert dose.taken_at.astimezone(TZ).date() == checkin.day
        for symptom in checkin.symptoms.all():
            assert symptom.reported_at == checkin.submitted_at
    linked = DoseEntry.objects.filter(patient__clinic=demo.clinic, checkin__isnull=False)
    assert linked.exists()
    assert not QuestionnaireResponse.objects.filter(
        patient__clinic=demo.clinic, instrument_id="kw-withdrawal", checkin__isnull=False
    ).exists()  # the weekly questionnaire is answered on its own
