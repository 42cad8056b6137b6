"""The authorization triangle used by every view test.

Clinic A has a patient, their clinician (on the care team), a second patient with another
clinician, and a clinic admin. Clinic B has its own clinician, patient and admin. Every view
test checks that each of them sees exactly what they should.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from kratomwatch.clinic.models import (
    CareTeamMembership,
    CheckIn,
    Clinic,
    Finding,
    MedicationStatement,
    PatientProfile,
    Product,
    QuestionnaireResponse,
    QuestionnaireSchedule,
    Role,
    User,
)


@pytest.fixture(autouse=True)
def fast_passwords(settings: pytest.FixtureRequest) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def lockout_only_where_tested(settings: Any, request: pytest.FixtureRequest) -> None:
    """``client.login()`` has no request for the lockout to look at; tests of the lockout
    itself (marked ``axes``) log in through the page as a browser does."""
    settings.AXES_ENABLED = request.node.get_closest_marker("axes") is not None


@dataclass
class Triangle:
    clinic: Clinic
    other_clinic: Clinic
    patient: PatientProfile
    clinician: User
    other_patient: PatientProfile
    colleague: User
    outsider: User
    outsider_patient: PatientProfile
    admin: User
    other_admin: User
    product: Product
    finding: Finding
    checkin: CheckIn
    med: MedicationStatement
    response: QuestionnaireResponse

    def users(self) -> dict[str, User]:
        return {
            "patient": self.patient.user,
            "other_patient": self.other_patient.user,
            "clinician": self.clinician,
            "colleague": self.colleague,
            "outsider": self.outsider,
            "admin": self.admin,
            "other_admin": self.other_admin,
        }


def make_user(username: str, clinic: Clinic, role: Role) -> User:
    user = User.objects.create(username=username, clinic=clinic, role=role)
    user.set_password("correct horse battery staple")
    user.save()
    return user


def make_patient(username: str, clinic: Clinic, clinician: User) -> PatientProfile:
    user = make_user(username, clinic, Role.PATIENT)
    patient = PatientProfile.objects.create(user=user, clinic=clinic, display_name=username.title())
    CareTeamMembership.objects.create(patient=patient, clinician=clinician)
    return patient


@pytest.fixture
def tri(db: None, django_capture_on_commit_callbacks: Any) -> Triangle:
    # Setting up commits in real life: run the screenings it schedules, as a commit would.
    with django_capture_on_commit_callbacks(execute=True):
        return _triangle()


def _triangle() -> Triangle:
    a = Clinic.objects.create(name="Clinic A", slug="a")
    b = Clinic.objects.create(name="Clinic B", slug="b")
    clinician = make_user("alice", a, Role.CLINICIAN)
    colleague = make_user("carol", a, Role.CLINICIAN)
    outsider = make_user("olga", b, Role.CLINICIAN)
    patient = make_patient("paul", a, clinician)
    other_patient = make_patient("pia", a, colleague)
    outsider_patient = make_patient("otto", b, outsider)
    product = Product.objects.create(
        patient=patient,
        name="Red Bali powder",
        form="leaf_powder",
        mitragynine_mg_per_g=Decimal("15"),
    )
    now = timezone.now()
    finding = Finding.objects.create(
        patient=patient,
        code="interaction.benzodiazepine",
        fingerprint="f1",
        severity="high",
        category="interaction",
        title="Kratom with a benzodiazepine",
        rationale="Xanax listed.",
        first_seen=now,
        last_seen=now,
    )
    checkin = CheckIn.objects.create(
        patient=patient, day=now.date(), submitted_at=now, idempotency_key="fixture"
    )
    QuestionnaireSchedule.objects.create(
        patient=patient, instrument_id="phq9", every_days=14, created_by=clinician
    )
    response = QuestionnaireResponse.objects.create(
        patient=patient,
        instrument_id="gad2",
        instrument_version="1.0",
        answers=[0, 1],
        total=1,
        taken_at=now,
        idempotency_key="fixture",
    )
    med = MedicationStatement.objects.create(patient=patient, name_entered="sertraline 50 mg")
    return Triangle(
        med=med,
        checkin=checkin,
        response=response,
        clinic=a,
        other_clinic=b,
        patient=patient,
        clinician=clinician,
        other_patient=other_patient,
        colleague=colleague,
        outsider=outsider,
        outsider_patient=outsider_patient,
        admin=make_user("adam", a, Role.CLINIC_ADMIN),
        other_admin=make_user("bea", b, Role.CLINIC_ADMIN),
        product=product,
        finding=finding,
    )
