"""Large synthetic clinics for benchmarks and load tests, written in bulk.

The records follow the demo's stories (:data:`.seed.STORIES`), drawn with NumPy from a
generator seeded by ``(seed, patient index)``: the same seed, size and ``today`` give the
same clinic, row for row, on SQLite and on PostgreSQL. Check-ins, doses, questionnaire
responses and symptom reports are written with :class:`.bulk.BulkLoader`; every patient is
screened in memory by the real safety engine on the records just generated, and the
findings are stored as screening would store them. Everything here is invented.

About 570 lines: one generator of the clinic's tables, column by column, kept beside
the column lists it must match.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction

from kratomwatch.clinic import models as m
from kratomwatch.clinic.actions.screening import finding_values
from kratomwatch.clinic.screening_input import SCREENING_WINDOW, plan_limits, product_spec
from kratomwatch.domain.doses import Exposure, Quantity, Unit, normalize
from kratomwatch.domain.questionnaires import get_instrument, score
from kratomwatch.domain.questionnaires.model import Score
from kratomwatch.domain.safety import (
    DoseTaken,
    Medication,
    ProductUse,
    Response,
    Snapshot,
    SymptomReport,
)
from kratomwatch.domain.safety import screen as run_screen
from kratomwatch.domain.safety.knowledge import load_knowledge
from kratomwatch.domain.substances import Match, recognize
from kratomwatch.synthetic.bulk import BulkLoader
from kratomwatch.synthetic.seed import FIRST, LAST, SIDE_EFFECTS, STORIES, Story, _products_for

#: Patients per clinician: the size of one clinician's panel.
PANEL_SIZE = 500
#: Patients written per transaction.
CHUNK = 200
SYNTH_PASSWORD = "kratomwatch-synth"  # noqa: S105 - synthetic accounts only


class SynthError(Exception):
    """The clinic cannot be generated as asked; the message says why."""


@dataclass
class SynthSummary:
    clinic: m.Clinic
    patients: int
    days: int
    rows: dict[str, int] = field(default_factory=dict)
    clinicians: list[str] = field(default_factory=list)
    password: str = SYNTH_PASSWORD


def synthesize(
    *,
    patients: int,
    days: int,
    seed: int = 1,
    today: date | None = None,
    slug: str = "synth",
    password: str = SYNTH_PASSWORD,
    progress: Callable[[int], None] | None = None,
) -> SynthSummary:
    """Create clinic ``slug`` with ``patients`` patients and ``days`` days of records each.

    ``progress`` is called with the number of patients written after each chunk.
    """
    if patients < 1 or days < 1:
        raise SynthError("--patients and --days must be at least 1")
    if m.Clinic.objects.filter(slug=slug).exists():
        raise SynthError(f"a clinic with the slug {slug!r} exists already; choose another --slug")
    tz = ZoneInfo(settings.TIME_ZONE)
    today = today or datetime.now(tz).date()
    hashed = make_password(password)
    loader = BulkLoader()
    with transaction.atomic():
        clinic = m.Clinic.objects.create(name=f"Synthetic clinic {slug}", slug=slug)
        m.User.objects.create(
            username=f"{slug}-admin", password=hashed, clinic=clinic, role=m.Role.CLINIC_ADMIN
        )
        clinicians = m.User.objects.bulk_create(
            [
                m.User(
                    username=f"{slug}-dr{j + 1:02d}",
                    password=hashed,
                    clinic=clinic,
                    role=m.Role.CLINICIAN,
                    first_name="Clinician",
                    last_name=f"{j + 1:02d}",
                )
                for j in range(math.ceil(patients / PANEL_SIZE))
            ]
        )
    summary = SynthSummary(clinic, patients, days, password=password)
    summary.clinicians = [c.username for c in clinicians]
    calendar = _Calendar(today, days, tz)
    for start in range(0, patients, CHUNK):
        with transaction.atomic():
            rows = _write_chunk(
                loader,
                clinic,
                clinicians,
                range(start, min(patients, start + CHUNK)),
                seed,
                calendar,
                hashed,
            )
        for table, n in rows.items():
            summary.rows[table] = summary.rows.get(table, 0) + n
        if progress:
            progress(min(patients, start + CHUNK))
    loader.finish()
    return summary


class _Calendar:
    """The days of the record: local dates and each local midnight as UTC epoch seconds."""

    def __init__(self, today: date, days: int, tz: ZoneInfo) -> None:
        self.tz = tz
        self.today = today
        self.dates = [today - timedelta(days=days - i) for i in range(days)]
        midnights = []
        for day in self.dates:
            noon = datetime(day.year, day.month, day.day, 12, tzinfo=tz)
            offset = noon.utcoffset() or timedelta(0)
            naive = datetime(day.year, day.month, day.day, tzinfo=UTC)
            midnights.append((naive - offset).timestamp())
        self.midnight = np.array(midnights, dtype=np.int64)
        self.iso = [d.isoformat() for d in self.dates]
        end_of_today = datetime(today.year, today.month, today.day, 23, 59, tzinfo=tz)
        self.now = min(end_of_today, datetime.now(tz))
        first = self.dates[0] if self.dates else today
        #: Intake, when the plan was agreed: midnight before the first day of the record.
        self.intake = datetime(first.year, first.month, first.day, tzinfo=tz)


def _story(index: int, rng: np.random.Generator) -> Story:
    if index < 5:
        return STORIES[index]
    if rng.random() < 0.3:
        return STORIES[int(rng.integers(len(STORIES)))]
    return STORIES[5 + int(rng.integers(len(STORIES) - 5))]


@lru_cache(maxsize=4096)
def _scored(instrument_id: str, answers: tuple[int, ...]) -> tuple[Score, str | None, str, str]:
    """The score, total, stored scores and stored answers of one questionnaire response."""
    result = score(get_instrument(instrument_id), list(answers))
    data = result.to_dict()
    total = None if data["total"] is None else str(data["total"])
    scores = BulkLoader.json_value({k: data[k] for k in ("subscales", "band", "flags")})
    return result, total, scores, BulkLoader.json_value(list(answers))


def _round_amounts(values: np.ndarray, unit: Unit) -> list[Decimal]:
    if unit in (Unit.CAPSULE, Unit.TABLET):
        return [Decimal(int(v)) for v in np.maximum(1, np.rint(values))]
    if unit == Unit.ML:
        return [Decimal(int(v)) for v in np.maximum(50, np.rint(values / 50) * 50)]
    halves = np.maximum(1, np.rint(values * 2)) / 2
    return [Decimal(str(v)).quantize(Decimal("0.1")) for v in halves]


@dataclass
class _Patient:
    """What one patient's generated record holds, before and after writing."""

    profile: m.PatientProfile
    user: m.User
    story: Story
    rng: np.random.Generator
    ids: np.random.Generator  # draws the public UUIDs
    products: list[m.Product] = field(default_factory=list)
    plan: m.Plan | None = None
    medications: list[tuple[str, str]] = field(default_factory=list)
    pharmacogenomics: dict[str, str] = field(default_factory=dict)
    snapshot_doses: list[DoseTaken] = field(default_factory=list)
    snapshot_responses: list[Response] = field(default_factory=list)
    snapshot_symptoms: list[SymptomReport] = field(default_factory=list)


def _write_chunk(
    loader: BulkLoader,
    clinic: m.Clinic,
    clinicians: list[m.User],
    indices: range,
    seed: int,
    calendar: _Calendar,
    hashed: str,
) -> dict[str, int]:
    people = _people(loader, clinic, clinicians, indices, seed, calendar, hashed)
    tables: dict[str, list[tuple[Any, ...]]] = {
        "checkin": [],
        "dose": [],
        "response": [],
        "symptom": [],
    }
    for person in people:
        _records(loader, person, calendar, tables)
    _write_records(loader, tables)
    m.Finding.objects.bulk_create(
        [finding for person in people for finding in _screen(person, calendar)], batch_size=500
    )
    return {name: len(rows) for name, rows in tables.items()} | {"patient": len(people)}


def _people(
    loader: BulkLoader,
    clinic: m.Clinic,
    clinicians: list[m.User],
    indices: range,
    seed: int,
    calendar: _Calendar,
    hashed: str,
) -> list[_Patient]:
    """Users, profiles, care teams, conditions, medications, plans and products."""
    slug = clinic.slug
    rngs = [np.random.default_rng([seed, index]) for index in indices]
    # Public ids from their own generator, so that two clinics of one seed share no UUID.
    id_rngs = [np.random.default_rng([seed, index, zlib.crc32(slug.encode())]) for index in indices]
    names = [(FIRST[int(r.integers(len(FIRST)))], LAST[int(r.integers(len(LAST)))]) for r in rngs]
    users = m.User.objects.bulk_create(
        [
            m.User(
                username=f"{slug}-patient{index + 1:05d}",
                password=hashed,
                clinic=clinic,
                role=m.Role.PATIENT,
                first_name=first,
                last_name=last,
                uuid=BulkLoader.uuid_of(BulkLoader.uuids(ids, 1)[0]),
            )
            for index, ids, (first, last) in zip(indices, id_rngs, names, strict=True)
        ]
    )
    profiles = m.PatientProfile.objects.bulk_create(
        [
            m.PatientProfile(
                user=user,
                clinic=clinic,
                display_name=f"{first} {last}",
                year_of_birth=int(rng.integers(1955, 2001)),
                sex=m.Sex.FEMALE if rng.random() < 0.5 else m.Sex.MALE,
                uuid=BulkLoader.uuid_of(BulkLoader.uuids(ids, 1)[0]),
                # Screened below, in memory, with the knowledge base loaded now: a worker
                # must not queue them all again as if screened with another release.
                screened_knowledge=load_knowledge().version,
            )
            for user, rng, ids, (first, last) in zip(users, rngs, id_rngs, names, strict=True)
        ]
    )
    people = [
        _Patient(profile, user, _story(index, rng), rng, ids)
        for index, profile, user, rng, ids in zip(
            indices, profiles, users, rngs, id_rngs, strict=True
        )
    ]
    teams, conditions, meds, pgx, plans, products = [], [], [], [], [], []
    for index, person in zip(indices, people, strict=True):
        patient, story, rng = person.profile, person.story, person.rng
        lead = clinicians[index // PANEL_SIZE]
        teams.append(m.CareTeamMembership(patient=patient, clinician=lead))
        if index % 5 == 0 and len(clinicians) > 1:
            other = clinicians[(index // PANEL_SIZE + 1) % len(clinicians)]
            teams.append(m.CareTeamMembership(patient=patient, clinician=other))
        conditions += [m.PatientCondition(patient=patient, code=c) for c in story.conditions]
        for name, dose_text in story.medications:
            match = recognize(name)
            meds.append(
                m.MedicationStatement(
                    patient=patient,
                    name_entered=name,
                    dose_text=dose_text,
                    ingredient=",".join(match.ids) if isinstance(match, Match) else "",
                    started_on=calendar.today - timedelta(days=400),
                )
            )
            person.medications.append((name, dose_text))
        if index % 7 == 3:
            phenotype = ["poor", "normal", "ultrarapid"][int(rng.integers(3))]
            pgx.append(m.PharmacogenomicResult(patient=patient, gene="CYP2D6", phenotype=phenotype))
            person.pharmacogenomics["CYP2D6"] = phenotype
        if story.plan is not None:
            person.plan = m.Plan(
                patient=patient,
                version=1,
                kind=m.PlanKind.MAINTENANCE,
                author=lead,
                reason="Initial plan agreed at intake",
                review_on=calendar.today + timedelta(days=30),
                approved_at=calendar.intake,
                **story.plan,
            )
            plans.append(person.plan)
        person.products = [
            m.Product(patient=patient, **p) for p in _products_for(story, _PyRandom(rng))
        ]
        products += person.products
    for model, objects in (
        (m.CareTeamMembership, teams),
        (m.PatientCondition, conditions),
        (m.MedicationStatement, meds),
        (m.PharmacogenomicResult, pgx),
        (m.Plan, plans),
        (m.Product, products),
    ):
        model.objects.bulk_create(objects, batch_size=500)  # type: ignore[attr-defined]
    return people


class _PyRandom:
    """The two methods of :class:`random.Random` that the demo's product choice uses."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def choice(self, options: list[Any]) -> Any:
        return options[int(self.rng.integers(len(options)))]

    def random(self) -> float:
        return float(self.rng.random())


CHECKIN_COLUMNS = ("id", "uuid", "created", "modified", "patient_id", "day", "submitted_at",
                   "note", "idempotency_key")  # fmt: skip
DOSE_COLUMNS = ("id", "uuid", "created", "modified", "patient_id", "checkin_id", "product_id",
                "taken_at", "amount", "unit", "preparation", "route", "leaf_equivalent_g",
                "mitragynine_mg", "hydroxymitragynine_mg", "confirmed_warnings", "source",
                "entered_by_id", "idempotency_key")  # fmt: skip
RESPONSE_COLUMNS = ("id", "uuid", "created", "modified", "patient_id", "checkin_id",
                    "instrument_id", "instrument_version", "answers", "total", "scores",
                    "taken_at", "completed_by_id", "source", "idempotency_key")  # fmt: skip
SYMPTOM_COLUMNS = ("id", "uuid", "created", "modified", "patient_id", "checkin_id", "term",
                   "severity", "onset", "reported_at", "source", "idempotency_key")  # fmt: skip


def _records(
    loader: BulkLoader,
    person: _Patient,
    cal: _Calendar,
    tables: dict[str, list[tuple[Any, ...]]],
) -> None:
    """Generate one patient's check-ins, doses, responses and symptoms as rows."""
    rng, story, pid, uid = person.rng, person.story, person.profile.pk, person.user.pk
    days = len(cal.dates)
    t = np.arange(days) / max(1, days - 1)
    now = loader.now
    window_start = cal.now.timestamp() - SCREENING_WINDOW.total_seconds()
    source = m.EntrySource.SEED

    # Check-ins on about 90% of days, in the evening; the daily pain questionnaire with each.
    has_checkin = rng.random(days) < 0.9
    checkin_days = np.flatnonzero(has_checkin)
    checkin_minutes = rng.integers(0, 60, size=days)
    checkin_at = cal.midnight + 20 * 3600 + checkin_minutes * 60
    first_checkin = loader.allocate(m.CheckIn, len(checkin_days))
    checkin_id = np.full(days, -1, dtype=np.int64)
    checkin_id[checkin_days] = first_checkin + np.arange(len(checkin_days))
    uuids = loader.uuids(person.ids, len(checkin_days))
    stamps = loader.datetimes(checkin_at[checkin_days])
    tables["checkin"] += [
        (
            int(checkin_id[d]),
            uuids[j],
            now,
            now,
            pid,
            cal.iso[d],
            stamps[j],
            "",
            f"synth-checkin-{cal.iso[d]}",
        )  # fmt: skip
        for j, d in enumerate(checkin_days.tolist())
    ]

    # Doses: a count per day, then times and amounts for each.
    mean_count = np.array([story.doses_per_day(x) for x in t])
    counts = np.maximum(0, np.rint(rng.normal(mean_count, 0.5))).astype(np.int64)
    n = int(counts.sum())
    day_of = np.repeat(np.arange(days), counts)
    first_of_day = np.concatenate(([0], np.cumsum(counts)[:-1]))
    k = np.arange(n) - np.repeat(first_of_day, counts)
    steps = np.where(k == 0, rng.uniform(6.5, 9.5, size=n), rng.uniform(*story.gap_hours, size=n))
    cumulative = np.cumsum(steps)
    starts = np.repeat(first_of_day, counts)
    hours = np.minimum(23.5, cumulative - cumulative[starts] + steps[starts])
    minutes = np.floor(hours * 60).astype(np.int64)
    taken = cal.midnight[day_of] + minutes * 60
    mean_amount = np.array([story.dose_amount(x) for x in t])[day_of]
    amounts = _round_amounts(rng.normal(mean_amount, mean_amount * 0.1), story.unit)
    product = person.products[0]
    spec = product_spec(product)
    exposures: dict[Decimal, Exposure] = {}
    first_dose = loader.allocate(m.DoseEntry, n)
    uuids = loader.uuids(person.ids, n)
    stamps = loader.datetimes(taken)
    unit = story.unit.value
    for j in range(n):
        amount = amounts[j]
        exposure = exposures.get(amount)
        if exposure is None:
            exposure = exposures[amount] = normalize(Quantity(amount, story.unit), spec)
        d = int(day_of[j])
        cid = int(checkin_id[d])
        tables["dose"].append(
            (
                first_dose + j,
                uuids[j],
                now,
                now,
                pid,
                cid if cid > 0 else None,
                product.pk,
                stamps[j],
                str(amount),
                unit,
                "",
                "oral",
                _dec(exposure.leaf_equivalent_g),
                _dec(exposure.mitragynine_mg),
                _dec(exposure.hydroxymitragynine_mg),
                "[]",
                source,
                uid,
                f"synth-dose-{cal.iso[d]}-{int(k[j])}",
            )  # fmt: skip
        )
        if taken[j] >= window_start:
            person.snapshot_doses.append(
                DoseTaken(_aware(taken[j]), amount, unit, product.name, exposure)
            )

    # Questionnaires: daily pain with each check-in, the withdrawal checklist weekly.
    pain = np.array([story.pain(x) for x in t])
    spreads = np.array([1.0, 0.8, 1.2, 1.2, 1.5])
    centre = np.stack([pain, pain, pain - 0.5, pain - 1.0, 10 - pain], axis=1)
    daily_answers = np.clip(np.rint(rng.normal(centre, spreads)), 0, 10).astype(np.int64)
    responses: list[tuple[str, int, tuple[int, ...], int, str]] = [
        ("kw-daily-pain", d, tuple(daily_answers[d].tolist()), int(checkin_at[d]), "daily")
        for d in checkin_days.tolist()
    ]
    withdrawal = get_instrument("kw-withdrawal")
    for d in range(0, days, 7):
        target = story.withdrawal(float(t[d]))
        if target > 0:
            answers = _spread(rng, target, len(withdrawal.items), 3)
            responses.append(
                ("kw-withdrawal", d, answers, int(cal.midnight[d]) + 9 * 3600, "withdrawal")
            )
    first_response = loader.allocate(m.QuestionnaireResponse, len(responses))
    uuids = loader.uuids(person.ids, len(responses))
    stamps = loader.datetimes(np.array([r[3] for r in responses], dtype=np.int64))
    for j, (instrument_id, d, answers, at, kind) in enumerate(responses):
        result, total, scores, stored_answers = _scored(instrument_id, answers)
        cid = int(checkin_id[d]) if kind == "daily" else -1
        tables["response"].append(
            (
                first_response + j,
                uuids[j],
                now,
                now,
                pid,
                cid if cid > 0 else None,
                instrument_id,
                result.version,
                stored_answers,
                total,
                scores,
                stamps[j],
                uid,
                source,
                f"synth-{kind}-{cal.iso[d]}",
            )  # fmt: skip
        )
        if at >= window_start:
            person.snapshot_responses.append(Response(instrument_id, _aware(at), result))

    # Side effects, reported with the evening check-in.
    side = np.flatnonzero(rng.random(days) < story.side_effect_rate)
    terms = rng.integers(0, len(SIDE_EFFECTS), size=len(side))
    severities = np.array([1, 1, 2, 3])[rng.integers(0, 4, size=len(side))]
    at = cal.midnight[side] + 20 * 3600 + 30 * 60
    first_symptom = loader.allocate(m.SymptomReport, len(side))
    uuids = loader.uuids(person.ids, len(side))
    stamps = loader.datetimes(at)
    for j, d in enumerate(side.tolist()):
        cid = int(checkin_id[d])
        term = SIDE_EFFECTS[int(terms[j])]
        tables["symptom"].append(
            (
                first_symptom + j,
                uuids[j],
                now,
                now,
                pid,
                cid if cid > 0 else None,
                term,
                int(severities[j]),
                None,
                stamps[j],
                source,
                "",
            )  # fmt: skip
        )
        if at[j] >= window_start:
            person.snapshot_symptoms.append(SymptomReport(term, _aware(at[j]), int(severities[j])))


def _write_records(loader: BulkLoader, tables: dict[str, list[tuple[Any, ...]]]) -> None:
    loader.write(m.CheckIn, CHECKIN_COLUMNS, tables["checkin"])
    loader.write(m.DoseEntry, DOSE_COLUMNS, tables["dose"])
    loader.write(m.QuestionnaireResponse, RESPONSE_COLUMNS, tables["response"])
    loader.write(m.SymptomReport, SYMPTOM_COLUMNS, tables["symptom"])


def _screen(person: _Patient, cal: _Calendar) -> list[m.Finding]:
    """Screen the generated record in memory: the findings screening would store."""
    snapshot = Snapshot(
        as_of=cal.now,
        tz=cal.tz,
        medications=tuple(Medication(name, dose or None) for name, dose in person.medications),
        conditions=person.story.conditions,
        symptoms=tuple(person.snapshot_symptoms),
        products=tuple(ProductUse(p.name, product_spec(p)) for p in person.products),
        doses=tuple(person.snapshot_doses),
        responses=tuple(person.snapshot_responses),
        plan=plan_limits(person.plan) if person.plan else None,
        year_of_birth=person.profile.year_of_birth,
        pharmacogenomics=person.pharmacogenomics,
        benefit_review_days=person.plan.benefit_review_days if person.plan else None,
    )
    result = run_screen(snapshot)
    return [
        m.Finding(
            patient=person.profile,
            fingerprint=found.fingerprint(),
            first_seen=cal.now,
            last_seen=cal.now,
            **finding_values(found, result, found_at=cal.now),
        )
        for found in result.findings
    ]


def _spread(rng: np.random.Generator, target: float, n: int, hi: int) -> tuple[int, ...]:
    """n item scores in 0..hi whose sum is close to target."""
    answers = [0] * n
    for _ in range(max(0, round(target))):
        slots = [j for j in range(n) if answers[j] < hi]
        if not slots:
            break
        answers[slots[int(rng.integers(len(slots)))]] += 1
    return tuple(answers)


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _aware(epoch: Any) -> datetime:
    return datetime.fromtimestamp(int(epoch), UTC)
