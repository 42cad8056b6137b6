"""A reproducible synthetic clinic, used by the demo, the tests and the benchmarks.

Everything here is invented. Patient names are generated; doses, ratings and symptoms
follow simple stories (one per archetype) with random noise drawn from a seeded generator,
so the same seed and the same ``today`` give the same clinic.

About 610 lines: the demo's stories and the code that plays them out; the stories are
data in all but name and are kept next to their use.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction

from kratomwatch.clinic.actions.doses import dose_entry
from kratomwatch.clinic.actions.idempotent import derived_key
from kratomwatch.clinic.actions.screening import do_screen_patient
from kratomwatch.clinic.models import (
    CareTeamMembership,
    CheckIn,
    Clinic,
    DoseEntry,
    EntrySource,
    LabResult,
    MedicationStatement,
    PatientCondition,
    PatientProfile,
    PharmacogenomicResult,
    Plan,
    PlanKind,
    Product,
    QuestionnaireResponse,
    ResultKind,
    Role,
    Sex,
    Specimen,
    SymptomReport,
    User,
)
from kratomwatch.clinic.screening_input import product_spec
from kratomwatch.domain.doses import CheckedDose, Quantity, Unit, normalize
from kratomwatch.domain.products import ProductForm
from kratomwatch.domain.questionnaires import get_instrument, score
from kratomwatch.domain.results import load_lab_tests
from kratomwatch.domain.substances import Match, recognize

DEMO_SLUG = "demo"
DEMO_PASSWORD = "kratomwatch-demo"  # noqa: S105 - synthetic demo accounts only
FIRST = [
    "Alex",
    "Sam",
    "Jordan",
    "Taylor",
    "Morgan",
    "Casey",
    "Riley",
    "Jamie",
    "Avery",
    "Quinn",
    "Rowan",
    "Drew",
    "Harper",
    "Reese",
    "Emerson",
    "Parker",
    "Skyler",
    "Dana",
    "Robin",
    "Kai",
]
LAST = [
    "Rivera",
    "Chen",
    "Okafor",
    "Novak",
    "Haddad",
    "Larsen",
    "Moreau",
    "Sato",
    "Kowalski",
    "Mensah",
    "Duarte",
    "Byrne",
    "Ivanova",
    "Nakamura",
    "Fischer",
    "Adeyemi",
    "Costa",
    "Wolfe",
]
SIDE_EFFECTS = [
    "constipation",
    "nausea",
    "dry mouth",
    "sweating",
    "dizziness",
    "itching",
    "poor appetite",
    "insomnia",
    "fast heartbeat",
]


@dataclass
class Login:
    username: str
    role: str
    story: str


@dataclass
class DemoSummary:
    clinic: Clinic
    created: bool
    logins: list[Login] = field(default_factory=list)
    password: str = DEMO_PASSWORD


@dataclass(frozen=True)
class Story:
    """How one patient's record unfolds over the days."""

    key: str
    label: str
    form: ProductForm
    doses_per_day: Callable[[float], float]  # progress 0..1 -> mean doses per day
    dose_amount: Callable[[float], float]  # progress -> mean amount per dose, in the unit below
    unit: Unit
    pain: Callable[[float], float]  # progress -> mean pain 0..10
    withdrawal: Callable[[float], float] = lambda t: 0.0
    side_effect_rate: float = 0.15
    medications: tuple[tuple[str, str], ...] = ()
    conditions: tuple[str, ...] = ("low_back_pain",)
    plan: dict[str, Decimal | int] | None = None
    gap_hours: tuple[float, float] = (3.0, 6.0)  # hours between doses in a day
    #: Results taken ``days_ago``: ((days_ago, {analyte: value in its stored unit}), ...);
    #: a drug screen's items are "positive" or "negative".
    results: tuple[tuple[int, dict[str, str]], ...] = ()


def _const(v: float) -> Callable[[float], float]:
    return lambda t: v


def _line(a: float, b: float) -> Callable[[float], float]:
    return lambda t: a + (b - a) * t


def _ramp(a: float, b: float, start: float = 0.5) -> Callable[[float], float]:
    """Flat at ``a`` until ``start``, then rising linearly to ``b``."""
    return lambda t: a if t < start else a + (b - a) * (t - start) / (1 - start)


STORIES: list[Story] = [
    Story(
        "stable_low",
        "doing well on a stable low dose",
        ProductForm.LEAF_POWDER,
        _const(2.0),
        _const(2.0),
        Unit.G,
        _line(7.0, 3.8),
        plan={
            "max_single_dose_g": Decimal("3"),
            "max_daily_dose_g": Decimal("6"),
            "max_doses_per_day": 3,
            "min_hours_between": Decimal("4"),
        },
        gap_hours=(4.5, 6.5),
    ),
    Story(
        "escalating",
        "escalating dose with rising withdrawal symptoms",
        ProductForm.LEAF_POWDER,
        _ramp(2.0, 4.5),
        _ramp(2.5, 5.0),
        Unit.G,
        _const(6.5),
        withdrawal=_line(1.0, 18.0),
        side_effect_rate=0.4,
        conditions=("low_back_pain", "psychiatric"),
        results=(
            (40, {"alt": "34", "ast": "30", "alp": "88", "bilirubin": "0.6"}),
            (6, {"alt": "92", "ast": "61", "alp": "104", "bilirubin": "0.8"}),
        ),
        plan={
            "max_single_dose_g": Decimal("4"),
            "max_daily_dose_g": Decimal("10"),
            "max_doses_per_day": 3,
            "min_hours_between": Decimal("4"),
        },
    ),
    Story(
        "polysubstance",
        "also takes a benzodiazepine and an opioid",
        ProductForm.CAPSULE,
        _const(3.0),
        _const(4.0),
        Unit.CAPSULE,
        _const(6.0),
        side_effect_rate=0.3,
        medications=(("Xanax", "0.5 mg twice a day"), ("Oxycodone", "10 mg as needed")),
        conditions=("neuropathic_pain", "sud_history"),
        results=(
            (
                9,
                {
                    "mitragynine": "positive",
                    "benzodiazepines": "positive",
                    "opioids": "positive",
                    "oxycodone": "positive",
                    "fentanyl": "negative",
                    "cocaine": "negative",
                    "amphetamines": "negative",
                },
            ),
        ),
    ),
    Story(
        "seven_oh",
        "uses a concentrated 7-OH product",
        ProductForm.SEVEN_OH,
        _line(1.5, 3.0),
        _const(1.0),
        Unit.TABLET,
        _const(5.5),
        withdrawal=_line(2.0, 12.0),
        side_effect_rate=0.35,
        conditions=("fibromyalgia",),
    ),
    Story(
        "no_benefit",
        "no benefit after months",
        ProductForm.LEAF_POWDER,
        _const(3.0),
        _const(4.0),
        Unit.G,
        _const(6.8),
        side_effect_rate=0.25,
        conditions=("low_back_pain",),
    ),
    Story(
        "improving_tea",
        "drinks kratom tea, moderate benefit",
        ProductForm.TEA_LIQUID,
        _const(2.0),
        _const(250.0),
        Unit.ML,
        _line(6.5, 4.5),
    ),
    Story(
        "capsules_known",
        "capsules with lab-tested potency",
        ProductForm.CAPSULE,
        _const(2.0),
        _const(4.0),
        Unit.CAPSULE,
        _line(6.0, 4.8),
        conditions=("fibromyalgia",),
        results=((20, {"alt": "28", "ast": "24", "alp": "71", "bilirubin": "0.5", "qtc": "428"}),),
    ),
    Story(
        "occasional",
        "occasional use on bad days",
        ProductForm.CRUSHED_LEAF,
        _const(0.6),
        _const(3.0),
        Unit.G,
        _const(5.0),
        side_effect_rate=0.1,
        conditions=("neuropathic_pain",),
    ),
]


def _products_for(story: Story, rng: random.Random) -> list[dict[str, object]]:
    vendor = rng.choice(["Green Leaf Co.", "Botanic Trading", "Local smoke shop", "Online vendor"])
    strain = rng.choice(["Red Bali", "Green Maeng Da", "White Borneo", "Red Thai", ""])
    base: dict[str, object] = {"vendor": vendor, "strain_label": strain}
    if story.form in (ProductForm.LEAF_POWDER, ProductForm.CRUSHED_LEAF):
        known = story.key in {"stable_low", "no_benefit"} or rng.random() < 0.5
        return [
            base
            | {
                "name": f"{strain or 'Plain'} powder",
                "form": story.form,
                "mitragynine_mg_per_g": Decimal("15.0") if known else None,
                "potency_source": "lab" if known else "unknown",
            }
        ]
    if story.form == ProductForm.CAPSULE:
        known = story.key == "capsules_known"
        return [
            base
            | {
                "name": f"{strain or 'Kratom'} capsules 500 mg",
                "form": story.form,
                "unit_material_mg": Decimal("500"),
                "mitragynine_mg_per_unit": Decimal("7.5") if known else None,
                "potency_source": "lab" if known else "label",
            }
        ]
    if story.form == ProductForm.TEA_LIQUID:
        return [
            base
            | {
                "name": "Home-brewed tea",
                "form": story.form,
                "leaf_g_per_ml": Decimal("0.02"),
                "potency_source": "unknown",
            }
        ]
    return [
        base
        | {
            "name": "7-OH tablets 15 mg",
            "form": ProductForm.SEVEN_OH,
            "hydroxymitragynine_mg_per_unit": Decimal("15"),
            "potency_source": "label",
        }
    ]


def _intake(today: date, days: int, tz: ZoneInfo) -> datetime:
    """When the plan was agreed: midnight before the first seeded day."""
    first = today - timedelta(days=days)
    return datetime(first.year, first.month, first.day, tzinfo=tz)


def _days(today: date, days: int) -> Iterator[tuple[int, date]]:
    start = today - timedelta(days=days)
    for i in range(days):
        yield i, start + timedelta(days=i)


def _clamp(v: float, lo: int = 0, hi: int = 10) -> int:
    return max(lo, min(hi, round(v)))


def _round_amount(value: float, unit: Unit) -> Decimal:
    if unit in (Unit.CAPSULE, Unit.TABLET):
        return Decimal(max(1, round(value)))
    if unit == Unit.ML:
        return Decimal(max(50, round(value / 50) * 50))
    return Decimal(max(0.5, round(value * 2) / 2)).quantize(Decimal("0.1"))


def seed_demo_clinic(
    *,
    seed: int = 20261124,
    patients: int = 30,
    days: int = 120,
    today: date | None = None,
    slug: str = DEMO_SLUG,
    password: str = DEMO_PASSWORD,
    screen: bool = True,
) -> DemoSummary:
    """Create the demo clinic, or reuse it if it exists. Returns the logins to print."""
    existing = Clinic.objects.filter(slug=slug).first()
    if existing is not None:
        return DemoSummary(existing, False, _logins(existing), password)
    tz = ZoneInfo(settings.TIME_ZONE)
    today = today or datetime.now(tz).date()
    rng = random.Random(seed)
    hashed = make_password(password)
    with transaction.atomic():
        clinic = Clinic.objects.create(name="Riverside Pain Clinic (demo)", slug=slug)
        other = Clinic.objects.create(name="Northgate Clinic (demo)", slug=f"{slug}-northgate")
        User.objects.create(
            username=f"{slug}-admin" if slug != DEMO_SLUG else "admin",
            password=hashed,
            clinic=clinic,
            role=Role.CLINIC_ADMIN,
            first_name="Clinic",
            last_name="Admin",
        )
        clinicians = [
            User.objects.create(
                username=u,
                password=hashed,
                clinic=clinic,
                role=Role.CLINICIAN,
                first_name=f,
                last_name=last,
                email=f"{u}@example.org",
            )
            for u, f, last in _clinician_names(slug)
        ]
        User.objects.create(
            username=f"{slug}-northgate-dr",
            password=hashed,
            clinic=other,
            role=Role.CLINICIAN,
            first_name="Other",
            last_name="Clinician",
        )
        for index in range(patients):
            story = STORIES[index] if index < 5 else STORIES[5 + rng.randrange(len(STORIES) - 5)]
            if index >= 5 and rng.random() < 0.3:
                story = STORIES[rng.randrange(len(STORIES))]
            _seed_patient(clinic, clinicians, index, story, rng, today, days, tz, hashed)
    if screen:
        for pk in PatientProfile.objects.filter(clinic=clinic).values_list("pk", flat=True):
            do_screen_patient(pk)
    return DemoSummary(clinic, True, _logins(clinic), password)


def _clinician_names(slug: str) -> list[tuple[str, str, str]]:
    prefix = "" if slug == DEMO_SLUG else f"{slug}-"
    return [(f"{prefix}dr.lee", "Mina", "Lee"), (f"{prefix}dr.okafor", "Chidi", "Okafor")]


def _seed_patient(
    clinic: Clinic,
    clinicians: list[User],
    index: int,
    story: Story,
    rng: random.Random,
    today: date,
    days: int,
    tz: ZoneInfo,
    hashed: str,
) -> PatientProfile:
    prefix = "" if clinic.slug == DEMO_SLUG else f"{clinic.slug}-"
    first, last = rng.choice(FIRST), rng.choice(LAST)
    user = User.objects.create(
        username=f"{prefix}patient{index + 1:02d}",
        password=hashed,
        clinic=clinic,
        role=Role.PATIENT,
        first_name=first,
        last_name=last,
    )
    patient = PatientProfile.objects.create(
        user=user,
        clinic=clinic,
        display_name=f"{first} {last}",
        year_of_birth=rng.randint(1955, 2000),
        sex=rng.choice([Sex.FEMALE, Sex.MALE]),
    )
    CareTeamMembership.objects.create(patient=patient, clinician=clinicians[index % 2])
    if index % 5 == 0:
        CareTeamMembership.objects.create(patient=patient, clinician=clinicians[(index + 1) % 2])
    for code in story.conditions:
        PatientCondition.objects.create(patient=patient, code=code)
    for name, dose_text in story.medications:
        match = recognize(name)
        ingredient = ",".join(match.ids) if isinstance(match, Match) else ""
        MedicationStatement.objects.create(
            patient=patient,
            name_entered=name,
            dose_text=dose_text,
            ingredient=ingredient,
            started_on=today - timedelta(days=400),
        )
    if index % 7 == 3:
        PharmacogenomicResult.objects.create(
            patient=patient, gene="CYP2D6", phenotype=rng.choice(["poor", "normal", "ultrarapid"])
        )
    if story.plan is not None:
        Plan.objects.create(
            patient=patient,
            version=1,
            kind=PlanKind.MAINTENANCE,
            author=clinicians[index % 2],
            reason="Initial plan agreed at intake",
            review_on=today + timedelta(days=30),
            approved_at=_intake(today, days, tz),
            **story.plan,
        )
    products = [Product.objects.create(patient=patient, **p) for p in _products_for(story, rng)]
    _seed_days(patient, user, story, products, rng, today, days, tz)
    _seed_results(patient, story, today, days, tz)
    return patient


def _seed_results(
    patient: PatientProfile, story: Story, today: date, days: int, tz: ZoneInfo
) -> None:
    """The story's results, each sample at 08:30 on its day (within the seeded period)."""
    catalogue = load_lab_tests()
    for days_ago, values in story.results:
        if days_ago >= days:
            continue
        taken = datetime.combine(today - timedelta(days=days_ago), time(8, 30), tzinfo=tz)
        batch = uuid.uuid4()
        for analyte, value in values.items():
            common = {"patient": patient, "batch": batch, "analyte": analyte, "taken_at": taken}
            if analyte in catalogue.analytes:
                unit = catalogue.analytes[analyte].unit
                LabResult.objects.create(
                    **common, kind=ResultKind.MEASUREMENT, value=Decimal(value), unit=unit,
                    value_entered=Decimal(value), unit_entered=unit,
                    specimen=Specimen.ECG if analyte == "qtc" else Specimen.BLOOD,
                    source=EntrySource.SEED,
                )  # fmt: skip
            else:
                LabResult.objects.create(
                    **common, kind=ResultKind.SCREEN, outcome=value, specimen=Specimen.URINE,
                    source=EntrySource.SEED,
                )  # fmt: skip


def _seed_days(
    patient: PatientProfile,
    user: User,
    story: Story,
    products: list[Product],
    rng: random.Random,
    today: date,
    days: int,
    tz: ZoneInfo,
) -> None:
    """The patient's days: doses through the day, an evening check-in on most days (the
    daily ratings with the doses taken so far and any side effects, as the check-in form
    stores them), a weekly withdrawal questionnaire on its own."""
    daily = get_instrument("kw-daily-pain")
    withdrawal = get_instrument("kw-withdrawal")
    specs = {p.pk: product_spec(p) for p in products}
    checkins: list[CheckIn] = []
    doses: list[DoseEntry] = []
    responses: list[QuestionnaireResponse] = []
    symptoms: list[SymptomReport] = []
    n_withdrawal_items = len(withdrawal.items)
    for i, day in _days(today, days):
        t = i / max(1, days - 1)
        count = max(0, round(rng.gauss(story.doses_per_day(t), 0.5)))
        hour = 7.0
        checkin: CheckIn | None = None
        first_dose = len(doses)
        for k in range(count):
            product = products[0]
            amount = _round_amount(
                rng.gauss(story.dose_amount(t), story.dose_amount(t) * 0.1), story.unit
            )
            hour = min(23.5, hour + rng.uniform(*story.gap_hours) if k else rng.uniform(6.5, 9.5))
            taken = datetime.combine(day, time(int(hour), int((hour % 1) * 60)), tz)
            quantity = Quantity(amount, story.unit)
            checked = CheckedDose(
                quantity=quantity,
                taken_at=taken,
                exposure=normalize(quantity, specs[product.pk]),
                confirmations=(),
            )
            doses.append(
                dose_entry(
                    patient=patient,
                    product=product,
                    checked=checked,
                    idempotency_key=f"seed-dose-{day.isoformat()}-{k}",
                    entered_by=user,
                    source=EntrySource.SEED,
                )
            )
        if rng.random() < 0.9:  # most days have a check-in
            pain = story.pain(t)
            answers = [
                _clamp(rng.gauss(pain, 1.0)),
                _clamp(rng.gauss(pain, 0.8)),
                _clamp(rng.gauss(pain - 0.5, 1.2)),
                _clamp(rng.gauss(pain - 1.0, 1.2)),
                _clamp(rng.gauss(10 - pain, 1.5)),
            ]
            result = score(daily, answers)
            taken = datetime.combine(day, time(20, rng.randrange(60)), tz)
            key = f"seed-checkin-{day.isoformat()}"
            checkin = CheckIn(patient=patient, day=day, submitted_at=taken, idempotency_key=key)
            checkins.append(checkin)
            responses.append(
                _response(patient, user, daily, answers, result, taken, derived_key(key, "-q0"))
            )
            responses[-1].checkin = checkin
            for dose in doses[first_dose:]:
                if dose.taken_at <= taken:
                    dose.checkin = checkin
        if story.withdrawal(t) > 0 and i % 7 == 0:
            target = story.withdrawal(t)
            answers = _spread(rng, target, n_withdrawal_items, 3)
            result = score(withdrawal, answers)
            taken = datetime.combine(day, time(9, 0), tz)
            responses.append(
                _response(
                    patient,
                    user,
                    withdrawal,
                    answers,
                    result,
                    taken,
                    f"seed-withdrawal-{day.isoformat()}",
                )
            )
        if rng.random() < story.side_effect_rate:
            symptoms.append(
                SymptomReport(
                    patient=patient,
                    checkin=checkin,
                    term=rng.choice(SIDE_EFFECTS),
                    severity=rng.choice([1, 1, 2, 3]),
                    reported_at=(
                        checkin.submitted_at
                        if checkin is not None
                        else datetime.combine(day, time(20, 30), tz)
                    ),
                    source=EntrySource.SEED,
                )
            )
    CheckIn.objects.bulk_create(checkins, batch_size=500)  # sets their ids for the links below
    DoseEntry.objects.bulk_create(doses, batch_size=500)
    QuestionnaireResponse.objects.bulk_create(responses, batch_size=500)
    SymptomReport.objects.bulk_create(symptoms, batch_size=500)


def _spread(rng: random.Random, target: float, n: int, hi: int) -> list[int]:
    """n item scores in 0..hi whose sum is close to target."""
    answers = [0] * n
    for _ in range(max(0, round(target))):
        slots = [j for j in range(n) if answers[j] < hi]
        if not slots:
            break
        answers[rng.choice(slots)] += 1
    return answers


def _response(
    patient: PatientProfile,
    user: User,
    instrument: object,
    answers: list[int],
    result: object,
    taken: datetime,
    key: str,
) -> QuestionnaireResponse:
    data = result.to_dict()  # type: ignore[attr-defined]
    return QuestionnaireResponse(
        patient=patient,
        instrument_id=data["instrument"],
        instrument_version=data["version"],
        answers=answers,
        total=Decimal(str(data["total"])) if data["total"] is not None else None,
        scores={k: data[k] for k in ("subscales", "band", "flags")},
        taken_at=taken,
        completed_by=user,
        source=EntrySource.SEED,
        idempotency_key=key,
    )


def _logins(clinic: Clinic) -> list[Login]:
    stories = {f"patient{i + 1:02d}": STORIES[i].label for i in range(5)}
    logins = []
    for user in User.objects.filter(clinic=clinic).order_by("role", "username"):
        if user.role == Role.PATIENT:
            short = user.username.rsplit("-", 1)[-1]
            if short not in stories:
                continue
            logins.append(Login(user.username, "patient", stories[short]))
        elif user.role == Role.CLINICIAN:
            logins.append(
                Login(
                    user.username,
                    "clinician",
                    f"care team of {user.care_patients.count()} patients",
                )
            )
        else:
            logins.append(Login(user.username, "clinic admin", "manages the clinic's users"))
    return logins
