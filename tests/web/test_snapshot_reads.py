"""Screening's written-out reads (kratomwatch.clinic.snapshot) give the snapshot the ORM's
queries give, on both databases."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from kratomwatch.clinic import snapshot
from kratomwatch.clinic.models import (
    PatientCondition,
    PatientProfile,
    PharmacogenomicResult,
    Plan,
    Product,
)
from kratomwatch.clinic.seed import seed_demo_clinic
from kratomwatch.domain.doses import Exposure
from kratomwatch.domain.questionnaires import get_instrument, score
from kratomwatch.domain.safety import (
    DoseTaken,
    Medication,
    ProductUse,
    Response,
    Snapshot,
    SymptomReport,
)

from .conftest import Triangle


def orm_snapshot(patient: PatientProfile, now: datetime) -> Snapshot:
    """The snapshot as the ORM's queries read it: the reference for the written-out reads."""
    since = now - snapshot.SCREENING_WINDOW
    products = {p.pk: p for p in patient.products.all()}
    doses = tuple(
        DoseTaken(d.taken_at, d.amount, d.unit, products[d.product_id].name,
                  Exposure(d.leaf_equivalent_g, d.mitragynine_mg, d.hydroxymitragynine_mg))
        for d in patient.doses.filter(taken_at__gte=since, taken_at__lte=now).order_by("taken_at")
    )  # fmt: skip
    responses = tuple(
        Response(r.instrument_id, r.taken_at, score(get_instrument(r.instrument_id), r.answers))
        for r in patient.responses.filter(taken_at__gte=since, taken_at__lte=now)
    )
    plan = patient.plans.filter(active=True).order_by("-version").first()
    meds = patient.medications.filter(Q(stopped_on__isnull=True) | Q(stopped_on__gte=now.date()))
    return Snapshot(
        as_of=now,
        tz=ZoneInfo(settings.TIME_ZONE),
        medications=tuple(Medication(m.name_entered, m.dose_text or None) for m in meds),
        conditions=tuple(patient.conditions.filter(active=True).values_list("code", flat=True)),
        symptoms=tuple(
            SymptomReport(s.term, s.reported_at, s.severity)
            for s in patient.symptoms.filter(reported_at__gte=since, reported_at__lte=now)
        ),
        products=tuple(ProductUse(p.name, snapshot.product_spec(p)) for p in products.values()),
        doses=doses,
        responses=responses,
        plan=snapshot.plan_limits(plan) if plan else None,
        year_of_birth=patient.year_of_birth,
        pharmacogenomics=dict(patient.pharmacogenomics.values_list("gene", "phenotype")),
        benefit_review_days=plan.benefit_review_days if plan else None,
    )


def _same(patient: PatientProfile, now: datetime) -> Snapshot:
    written = snapshot.patient_snapshot(patient, now)
    reference = orm_snapshot(patient, now)
    # Conditions have no order of their own (the ORM's query has none either).
    assert sorted(written.conditions) == sorted(reference.conditions)
    written = dataclasses.replace(written, conditions=reference.conditions)
    assert written == reference
    return written


def test_every_demo_patient_reads_the_same(db: None) -> None:
    today = date(2026, 11, 20)
    summary = seed_demo_clinic(patients=8, days=140, today=today, slug="reads", screen=False)
    now = datetime(2026, 11, 20, 18, 0, tzinfo=ZoneInfo("UTC"))
    patients = list(summary.clinic.patients.all())
    assert len(patients) == 8
    for patient in patients:
        for when in (now, now - timedelta(days=30, hours=5)):
            taken = _same(patient, when)
        assert taken.doses and taken.responses and taken.products  # records were compared


def test_window_edges_and_filters_read_the_same(tri: Triangle) -> None:
    patient, product = tri.patient, tri.product
    now = timezone.now().replace(microsecond=0)
    since = now - snapshot.SCREENING_WINDOW
    archived = Product.objects.create(
        patient=patient, name="Old extract", form="tea_liquid", archived=True,
        mitragynine_mg_per_ml=Decimal("5"),
    )  # fmt: skip
    for at, amount, key in ((since, "1.5", "edge-start"), (now, "2.25", "edge-end"),
                            (since - timedelta(seconds=1), "9", "before"),
                            (now + timedelta(seconds=1), "8", "after")):  # fmt: skip
        patient.doses.create(
            product=product, taken_at=at, amount=Decimal(amount), unit="g",
            leaf_equivalent_g=Decimal(amount), mitragynine_mg=Decimal(amount) * 15,
            idempotency_key=key,
        )  # fmt: skip
    patient.doses.create(
        product=archived, taken_at=now - timedelta(days=2), amount=Decimal("3"), unit="ml",
        mitragynine_mg=Decimal("15"), idempotency_key="archived",
    )  # fmt: skip
    patient.medications.create(name_entered="alprazolam", dose_text="0.5 mg", stopped_on=now.date())
    patient.medications.create(
        name_entered="tramadol", stopped_on=now.date() - timedelta(days=1)
    )  # stopped: left out
    PatientCondition.objects.create(patient=patient, code="liver_disease")
    PatientCondition.objects.create(patient=patient, code="seizure_disorder", active=False)
    PharmacogenomicResult.objects.create(patient=patient, gene="CYP2D6", phenotype="poor")
    for version, active in ((1, False), (2, True), (3, False)):
        Plan.objects.create(
            patient=patient, version=version, active=active, max_daily_dose_g=Decimal(version),
            author=tri.clinician,
            details={"steps": [{"start": "2026-11-01", "daily_g": 4}]},
        )  # fmt: skip
    patient.symptoms.create(term="nausea", severity=2, reported_at=since)
    patient.symptoms.create(term="tremor", severity=1, reported_at=since - timedelta(days=1))
    PatientProfile.objects.filter(pk=patient.pk).update(year_of_birth=1961)
    patient.refresh_from_db()
    taken = _same(patient, now)
    assert [d.amount for d in taken.doses] == [Decimal("1.5"), Decimal("3"), Decimal("2.25")]
    assert [m.name for m in taken.medications] == ["alprazolam", "sertraline 50 mg"]
    assert taken.conditions == ("liver_disease",) and taken.pharmacogenomics == {"CYP2D6": "poor"}
    assert taken.plan is not None and taken.plan.version == 2
    assert [s.text for s in taken.symptoms] == ["nausea"]
    assert {p.name for p in taken.products} == {"Red Bali powder", "Old extract"}


def test_a_patient_without_records_reads_the_same(tri: Triangle) -> None:
    taken = _same(tri.other_patient, timezone.now())
    assert taken.doses == () and taken.plan is None and taken.products == ()
