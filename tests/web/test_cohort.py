"""Cohort statistics: exact figures on a small hand-built clinic, and a fixed number of queries."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kratomwatch.clinic.cohort import DoseTrend, cohort_statistics
from kratomwatch.clinic.models import (
    CheckIn,
    Clinic,
    DoseEntry,
    Finding,
    FindingStatus,
    PatientProfile,
    Product,
    QuestionnaireResponse,
    Role,
)

from .conftest import make_patient, make_user

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SPLIT = NOW - timedelta(days=28)  # start of the last window
START = NOW - timedelta(days=56)  # start of the earlier window
_keys = itertools.count()


def key() -> str:
    return f"k{next(_keys)}"


def doses(patient: PatientProfile, *entries: tuple[datetime, str | None]) -> None:
    """Doses at the given times with the given leaf-equivalent grams (None: unknown potency)."""
    product, _ = Product.objects.get_or_create(
        patient=patient, name="Powder", defaults={"form": "leaf_powder"}
    )
    DoseEntry.objects.bulk_create(
        DoseEntry(
            patient=patient,
            product=product,
            taken_at=at,
            amount=Decimal("1"),
            unit="g",
            leaf_equivalent_g=None if grams is None else Decimal(grams),
            idempotency_key=key(),
        )
        for at, grams in entries
    )


def checkin(patient: PatientProfile, at: datetime) -> None:
    CheckIn.objects.create(patient=patient, day=at.date(), submitted_at=at, idempotency_key=key())


def pain(
    patient: PatientProfile, at: datetime, total: str | None, instrument: str = "kw-daily-pain"
) -> None:
    QuestionnaireResponse.objects.create(
        patient=patient,
        instrument_id=instrument,
        instrument_version="1.0",
        answers=[],
        total=None if total is None else Decimal(total),
        taken_at=at,
        idempotency_key=key(),
    )


def finding(
    patient: PatientProfile,
    severity: str,
    category: str,
    status: str = FindingStatus.OPEN,
    active: bool = True,
) -> None:
    Finding.objects.create(
        patient=patient,
        code=f"test.{category}",
        fingerprint=key(),
        severity=severity,
        category=category,
        title="Test finding",
        rationale="Test",
        status=status,
        active=active,
        first_seen=NOW,
        last_seen=NOW,
    )


def days_ago(n: float) -> datetime:
    return NOW - timedelta(days=n)


@pytest.fixture
def clinic(db: None) -> Clinic:
    """Clinic A: eight patients with active accounts and one deactivated; clinic B: one."""
    a = Clinic.objects.create(name="Clinic A", slug="a")
    b = Clinic.objects.create(name="Clinic B", slug="b")
    doc = make_user("doc", a, Role.CLINICIAN)
    other_doc = make_user("odoc", b, Role.CLINICIAN)
    p = {name: make_patient(name, a, doc) for name in ("p1", "p2", "p3", "p4", "p5", "p6", "p8")}
    p["p9"] = make_patient("p9", a, doc)
    p7 = make_patient("p7", a, doc)
    p7.user.is_active = False
    p7.user.save()
    outsider = make_patient("outsider", b, other_doc)

    # p1 rose by 50 % (4 g -> 6 g); doses exactly at the start of each window count in it.
    doses(p["p1"], (START, "2"), (START + timedelta(days=1), "2"))
    doses(p["p1"], (SPLIT, "2"), (SPLIT + timedelta(days=1), "2"), (NOW - timedelta(hours=1), "2"))
    # p2 fell by 50 % (10 g -> 5 g).
    doses(p["p2"], (days_ago(40), "6"), (days_ago(35), "4"), (days_ago(3), "5"))
    # p3: exactly +25 % (4 g -> 5 g) is steady.
    doses(p["p3"], (days_ago(30), "4"), (days_ago(2), "2.5"), (days_ago(1), "2.5"))
    # p9: +10 % (10 g -> 11 g), steady.
    doses(p["p9"], (days_ago(50), "10"), (days_ago(10), "11"))
    # p4: doses in both windows, one of unknown potency: not compared.
    doses(p["p4"], (days_ago(40), "3"), (days_ago(5), "3"), (days_ago(4), None))
    # p5: doses only in the earlier window; the ones before it and after now do not count.
    doses(p["p5"], (days_ago(60), "5"), (days_ago(45), "5"), (NOW + timedelta(days=1), "5"))
    # p6: doses only in the last window.
    doses(p["p6"], (days_ago(6), "2"))
    # Not counted: a deactivated account and another clinic's patient, both rising.
    for other in (p7, outsider):
        doses(other, (days_ago(40), "1"), (days_ago(2), "9"))

    checkin(p["p1"], days_ago(3))
    checkin(p["p2"], days_ago(20))  # too long ago
    checkin(p["p3"], NOW)  # the window ends before now ...
    checkin(p["p3"], days_ago(14) + timedelta(hours=1))  # ... and starts 14 days before it
    checkin(p["p5"], days_ago(14) - timedelta(minutes=1))  # just too long ago
    checkin(p["p6"], NOW + timedelta(hours=1))  # after now
    checkin(p["p9"], days_ago(1))
    checkin(p7, days_ago(1))
    checkin(outsider, days_ago(1))

    pain(p["p1"], days_ago(40), "6")
    pain(p["p1"], days_ago(30), "8")
    pain(p["p1"], days_ago(2), "4")
    pain(p["p2"], days_ago(3), "5")
    pain(p["p2"], days_ago(1), "6")
    pain(p["p4"], days_ago(50), "7")
    pain(p["p4"], days_ago(2), None)  # no total: not counted
    pain(p["p4"], days_ago(2), "3", instrument="gad2")  # another questionnaire
    pain(p["p5"], days_ago(70), "0")  # before both windows
    pain(p7, days_ago(2), "10")
    pain(outsider, days_ago(2), "10")

    finding(p["p1"], "high", "interaction")
    finding(p["p2"], "moderate", "plan")
    finding(p["p2"], "high", "interaction", status=FindingStatus.RESOLVED)
    finding(p["p3"], "high", "interaction", active=False)  # open, cause gone
    finding(p["p3"], "high", "condition", status=FindingStatus.ACKNOWLEDGED)
    finding(p["p4"], "low", "dependence")
    finding(p["p4"], "low", "dependence")
    finding(p["p5"], "high", "dependence")
    finding(p["p5"], "low", "product")
    finding(p7, "high", "interaction")
    finding(outsider, "high", "interaction")
    return a


def test_patients_and_check_ins(clinic: Clinic) -> None:
    stats = cohort_statistics(clinic, now=NOW)
    assert stats.patients == 8  # p7's account is deactivated; the outsider is in clinic B
    assert stats.checked_in == 3  # p1, p3, p9
    data = stats.to_dict()
    assert data["clinic"] == "a" and data["as_of"] == "2026-06-01T12:00:00+00:00"
    assert data["checked_in"] == {"patients": 3, "share": 0.375}


def test_open_findings_by_severity_and_category(clinic: Clinic) -> None:
    data = cohort_statistics(clinic, now=NOW).to_dict()
    assert data["open_findings"] == {
        "high": {
            "patients": 2,  # p1, p5; not p2 (resolved), p3 (cause gone; acknowledged)
            "share": 0.25,
            "patients_incl_cause_gone": 3,  # + p3
            "share_incl_cause_gone": 0.375,
        },
        "moderate": {
            "patients": 1,
            "share": 0.125,
            "patients_incl_cause_gone": 1,
            "share_incl_cause_gone": 0.125,
        },
        "low": {
            "patients": 2,  # p4 (two findings, one patient) and p5
            "share": 0.25,
            "patients_incl_cause_gone": 2,
            "share_incl_cause_gone": 0.25,
        },
        "any": {
            "patients": 4,
            "share": 0.5,
            "patients_incl_cause_gone": 5,
            "share_incl_cause_gone": 0.625,
        },
    }
    categories = data["open_findings_by_category"]
    assert categories == {"dependence": 2, "interaction": 1, "plan": 1, "product": 1}
    assert list(categories) == ["dependence", "interaction", "plan", "product"]


def test_dose_trend(clinic: Clinic) -> None:
    data = cohort_statistics(clinic, now=NOW).to_dict()["dose_trend"]
    assert data == {
        "patients_compared": 4,
        "rose": {"patients": 1, "share": 0.25},
        "fell": {"patients": 1, "share": 0.25},
        "steady": {"patients": 2, "share": 0.5},
        "median_change_pct": 17.5,  # of -50, +10, +25 and +50
        "not_compared": {
            "doses_only_in_last_window": 1,
            "doses_only_in_earlier_window": 1,
            "some_doses_of_unknown_potency": 1,
        },
    }


def test_pain_trend(clinic: Clinic) -> None:
    data = cohort_statistics(clinic, now=NOW).to_dict()["pain_trend"]
    assert data == {
        "instrument": "kw-daily-pain",
        "mean_last_window": 5.0,  # 4, 5, 6
        "mean_earlier_window": 7.0,  # 6, 8, 7
        "change": -2.0,
        "responses_last_window": 3,
        "responses_earlier_window": 3,
        "patients_last_window": 2,
        "patients_earlier_window": 2,
    }


def test_the_windows_end_at_now(clinic: Clinic) -> None:
    stats = cohort_statistics(clinic, now=NOW + timedelta(days=7))
    assert stats.checked_in == 4  # p1, p3 (at NOW), p6 (NOW + 1 h), p9
    # Windows [NOW - 49 d, NOW - 21 d) and [NOW - 21 d, NOW + 7 d): p1 -50 %, p2 -50 %,
    # p3 +25 %, p5 0 % (its dose after NOW now counts); p6 and p9 only in the last window.
    assert stats.dose == DoseTrend(
        compared=4,
        rose=0,
        fell=2,
        steady=2,
        median_change_pct=-25.0,
        only_recent=2,
        only_before=0,
        unknown_potency=1,
    )
    assert (stats.pain.mean_recent, stats.pain.mean_before) == (5.0, 7.0)
    assert (stats.pain.responses_recent, stats.pain.responses_before) == (3, 2)


def test_a_clinic_without_patients_has_no_shares(db: None) -> None:
    empty = Clinic.objects.create(name="Empty", slug="empty")
    data = cohort_statistics(empty, now=NOW).to_dict()
    assert data["patients"] == 0 and data["checked_in"] == {"patients": 0, "share": None}
    assert data["open_findings"]["high"]["share"] is None
    assert data["open_findings_by_category"] == {}
    assert data["dose_trend"]["patients_compared"] == 0
    assert data["dose_trend"]["rose"] == {"patients": 0, "share": None}
    assert data["dose_trend"]["median_change_pct"] is None
    assert data["pain_trend"]["mean_last_window"] is None
    assert data["pain_trend"]["change"] is None
    json.dumps(data)


def test_the_number_of_queries_does_not_grow_with_the_patients(clinic: Clinic) -> None:
    with CaptureQueriesContext(connection) as few:
        cohort_statistics(clinic, now=NOW)
    doc = make_user("doc2", clinic, Role.CLINICIAN)
    for i in range(12):
        patient = make_patient(f"extra{i}", clinic, doc)
        doses(patient, (days_ago(40), "2"), (days_ago(3), str(1 + i)))
        checkin(patient, days_ago(2))
        pain(patient, days_ago(2), "5")
        finding(patient, "high", "interaction")
    with CaptureQueriesContext(connection) as many:
        stats = cohort_statistics(clinic, now=NOW)
    assert stats.patients == 20 and stats.dose.compared == 16
    assert len(many) == len(few) <= 6
    assert all("clinic_doseentry" not in q["sql"] or "GROUP BY" in q["sql"] for q in many)
