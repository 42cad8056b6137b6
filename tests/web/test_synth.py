"""Large synthetic clinics: reproducible, written in bulk, and read back as the app reads."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from kratomwatch.clinic.actions.screening import do_screen_patient
from kratomwatch.clinic.models import (
    CheckIn,
    DoseEntry,
    Finding,
    PatientProfile,
    QuestionnaireResponse,
    SymptomReport,
)
from kratomwatch.synthetic.synth import SynthError, synthesize

TODAY = date(2026, 6, 30)
pytestmark = pytest.mark.django_db


def _records(slug: str) -> list[tuple[object, ...]]:
    doses = DoseEntry.objects.filter(patient__clinic__slug=slug).order_by("patient_id", "taken_at")
    return list(
        doses.values_list(
            "patient__display_name", "taken_at", "amount", "unit", "leaf_equivalent_g"
        )
    )


def test_the_same_seed_gives_the_same_clinic() -> None:
    synthesize(patients=6, days=20, seed=7, today=TODAY, slug="one")
    synthesize(patients=6, days=20, seed=7, today=TODAY, slug="two")
    synthesize(patients=6, days=20, seed=8, today=TODAY, slug="three")
    one, two, three = _records("one"), _records("two"), _records("three")
    assert one and one == two
    assert one != three


def test_counts_and_links_are_consistent() -> None:
    summary = synthesize(patients=8, days=40, seed=1, today=TODAY, slug="s")
    patients = PatientProfile.objects.filter(clinic=summary.clinic)
    assert patients.count() == 8 == summary.rows["patient"]
    assert DoseEntry.objects.filter(patient__in=patients).count() == summary.rows["dose"]
    assert CheckIn.objects.filter(patient__in=patients).count() == summary.rows["checkin"]
    responses = QuestionnaireResponse.objects.filter(patient__in=patients)
    assert responses.count() == summary.rows["response"]
    assert SymptomReport.objects.filter(patient__in=patients).count() == summary.rows["symptom"]
    # Every dose belongs to a product of its own patient, and to a check-in of the same day.
    for entry in DoseEntry.objects.filter(patient__in=patients).select_related("product")[:200]:
        assert entry.product.patient_id == entry.patient_id
        if entry.checkin_id:
            assert entry.checkin.patient_id == entry.patient_id
    tz = ZoneInfo(settings.TIME_ZONE)
    last = DoseEntry.objects.filter(patient__in=patients).order_by("-taken_at").first()
    assert last is not None and timezone.localtime(last.taken_at, tz).date() < TODAY
    # Every patient has a clinician, and new rows get fresh keys after the bulk load.
    assert all(p.care_team.exists() for p in patients)
    patient = patients.first()
    assert patient is not None
    fresh = DoseEntry.objects.create(
        patient=patient,
        product=patient.products.first(),
        taken_at=timezone.now(),
        amount=Decimal("1"),
        unit="g",
        idempotency_key="after-synth",
    )
    assert fresh.pk > DoseEntry.objects.exclude(pk=fresh.pk).order_by("-pk").first().pk


def test_stored_findings_match_screening_the_stored_records() -> None:
    """The findings written with the bulk load are those screening finds in the database."""
    summary = synthesize(patients=10, days=150, seed=3, today=TODAY, slug="s")
    tz = ZoneInfo(settings.TIME_ZONE)
    now = datetime.combine(TODAY, time(23, 59), tz)
    patients = PatientProfile.objects.filter(clinic=summary.clinic)
    assert Finding.objects.filter(patient__in=patients).exists()
    for patient in patients:
        stored = set(patient.findings.values_list("fingerprint", "severity", "title"))
        do_screen_patient(patient.pk, now=now)
        active = set(
            patient.findings.filter(active=True).values_list("fingerprint", "severity", "title")
        )
        assert active == stored, patient.display_name
        assert not patient.findings.filter(active=False).exists()


def test_an_existing_slug_is_refused() -> None:
    synthesize(patients=1, days=2, today=TODAY, slug="s")
    with pytest.raises(SynthError, match="exists already"):
        synthesize(patients=1, days=2, today=TODAY, slug="s")


def test_the_command_reports_what_it_wrote(tmp_path: object) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kratomwatch", "synth", "--data-dir", str(tmp_path),
         "--patients", "3", "--days", "5", "--today", "2026-06-30"],
        capture_output=True, text=True, timeout=120, env={**_env(), "DATABASE_URL": ""},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Created clinic 'synth'" in result.stderr and "3 patients" in result.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "kratomwatch", "synth", "--data-dir", str(tmp_path),
         "--patients", "0"],
        capture_output=True, text=True, timeout=60, env={**_env(), "DATABASE_URL": ""},
    )  # fmt: skip
    assert bad.returncode != 0 and "at least 1" in bad.stderr


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "KRATOMWATCH_DATA_DIR"}


def test_bulk_doses_are_the_rows_do_record_dose_would_store() -> None:
    """The bulk loader writes columns in bulk, not through the ORM: each of its doses must
    still be the row that ``actions.doses.dose_entry`` builds for the same dose."""
    from kratomwatch.clinic.actions.doses import dose_entry
    from kratomwatch.clinic.screening_input import product_spec
    from kratomwatch.domain.doses import CheckedDose, Quantity, Unit, normalize

    synthesize(patients=4, days=10, seed=5, today=TODAY, slug="rows")
    own = {"id", "uuid", "created", "modified", "checkin", "idempotency_key"}
    entries = DoseEntry.objects.filter(patient__clinic__slug="rows").select_related(
        "product", "patient", "entered_by"
    )
    assert entries.exists()
    for entry in entries:
        quantity = Quantity(entry.amount, Unit(entry.unit))
        checked = CheckedDose(
            quantity=quantity,
            taken_at=entry.taken_at,
            exposure=normalize(quantity, product_spec(entry.product)),
            confirmations=(),
        )
        built = dose_entry(
            patient=entry.patient,
            product=entry.product,
            checked=checked,
            idempotency_key=entry.idempotency_key,
            entered_by=entry.entered_by,
            source=entry.source,
            preparation=entry.preparation,
            route=entry.route,
        )
        fields = [f for f in DoseEntry._meta.concrete_fields if f.name not in own]
        differing = {
            f.name: (getattr(entry, f.attname), getattr(built, f.attname))
            for f in fields
            if getattr(entry, f.attname) != getattr(built, f.attname)
        }
        assert not differing, differing


def test_a_synthetic_clinic_is_not_queued_again_for_the_knowledge_release() -> None:
    """Its findings were screened with the knowledge base loaded now."""
    from kratomwatch.clinic.screening_queue import queue_knowledge_release
    from kratomwatch.domain.safety.knowledge import load_knowledge

    synthesize(patients=3, days=5, seed=2, today=TODAY, slug="kv")
    patients = PatientProfile.objects.filter(clinic__slug="kv")
    assert set(patients.values_list("screened_knowledge", flat=True)) == {load_knowledge().version}
    assert queue_knowledge_release() == 0
