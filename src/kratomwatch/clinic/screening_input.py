"""Turn stored records into the plain objects of the clinical core."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q

from kratomwatch.clinic.models import (
    Clinic,
    PatientProfile,
    Plan,
    Product,
    ProductLot,
)
from kratomwatch.domain.doses import Exposure
from kratomwatch.domain.induction import (
    BuprenorphineDose,
    CowsScore,
    InductionRecord,
    Observation,
)
from kratomwatch.domain.lots import Jurisdiction, LotFigures, default_jurisdictions
from kratomwatch.domain.plan_check import PlanLimits
from kratomwatch.domain.products import ProductForm, ProductSpec
from kratomwatch.domain.questionnaires import Instrument, Score, get_instrument, score
from kratomwatch.domain.results import NOT_TESTED, Measurement, ScreenResult
from kratomwatch.domain.safety import (
    DoseTaken,
    LotUse,
    Medication,
    ProductUse,
    Response,
    Snapshot,
    SymptomReport,
)

#: How far back screening looks: long enough for the lack-of-benefit rule (90 days plus a
#: two-week baseline) with room to spare.
SCREENING_WINDOW = timedelta(days=120)


def product_spec(product: Product) -> ProductSpec:
    return ProductSpec(
        form=ProductForm(product.form),
        mitragynine_mg_per_g=product.mitragynine_mg_per_g,
        hydroxymitragynine_mg_per_g=product.hydroxymitragynine_mg_per_g,
        unit_material_mg=product.unit_material_mg,
        mitragynine_mg_per_unit=product.mitragynine_mg_per_unit,
        hydroxymitragynine_mg_per_unit=product.hydroxymitragynine_mg_per_unit,
        leaf_g_per_ml=product.leaf_g_per_ml,
        mitragynine_mg_per_ml=product.mitragynine_mg_per_ml,
        hydroxymitragynine_mg_per_ml=product.hydroxymitragynine_mg_per_ml,
        extract_ratio=product.extract_ratio,
    )


def plan_limits(plan: Plan) -> PlanLimits:
    steps = tuple(
        (date.fromisoformat(step["start"]), Decimal(str(step["daily_g"])))
        for step in (plan.details or {}).get("steps", [])
    )
    return PlanLimits(
        version=plan.version,
        max_single_dose_g=plan.max_single_dose_g,
        max_daily_dose_g=plan.max_daily_dose_g,
        max_doses_per_day=plan.max_doses_per_day,
        min_hours_between=plan.min_hours_between,
        max_weekly_increase_pct=plan.max_weekly_increase_pct,
        steps=steps,
        starts_at=plan.approved_at,
    )


#: Scores of answers seen before, by instrument (the loaded object) and answers as stored:
#: screening scores every response of its window again each time, and most are the same as
#: last time.
_scores: dict[tuple[str, str], tuple[Instrument, Score]] = {}
_SCORES_KEPT = 10_000


def _score(instrument: Instrument, answers: Any) -> Score:
    """``score(instrument, answers)``, remembered by the answers, so that answers seen
    before are not scored again. Scoring is a pure function of the instrument and the
    answers; a reloaded instrument is a new object, so its scores are computed afresh."""
    text = json.dumps(answers, sort_keys=True)
    key = (instrument.id, text)
    kept = _scores.get(key)
    if kept is not None and kept[0] is instrument:
        return kept[1]
    result = score(instrument, answers)
    if len(_scores) >= _SCORES_KEPT:
        _scores.clear()
    _scores[key] = (instrument, result)
    return result


def _lots(patient: PatientProfile) -> tuple[dict[int, tuple[LotUse, ...]], Jurisdiction | None]:
    """The lots of the patient's products, by product, and the clinic's jurisdiction (read
    only when there are lots): one query, two with lots."""
    by_product: dict[int, list[LotUse]] = {}
    for product_id, number, mit, hydroxy, total in (
        ProductLot.objects.filter(product__patient=patient)
        .order_by("created")
        .values_list(
            "product_id",
            "lot_number",
            "mitragynine_mg_per_g",
            "hydroxymitragynine_mg_per_g",
            "total_alkaloids_mg_per_g",
        )
    ):
        by_product.setdefault(product_id, []).append(
            LotUse(number, LotFigures(mit, hydroxy, total))
        )
    if not by_product:
        return {}, None
    chosen = Clinic.objects.filter(pk=patient.clinic_id).values_list("jurisdiction", flat=True)
    jurisdiction = default_jurisdictions().get(chosen.first() or "none")
    return {k: tuple(v) for k, v in by_product.items()}, jurisdiction


def patient_snapshot(patient: PatientProfile, now: datetime) -> Snapshot:
    """Everything the safety engine needs about one patient, as of ``now``.

    Screening runs after every change, so this is on the path of each submission: the
    records are read as tuples (``values_list``) rather than model instances, with only the
    fields screening uses, and remembered scores are not computed again (:func:`_score`).
    """
    since = now - SCREENING_WINDOW
    products = list(patient.products.all())
    names = {p.pk: p.name for p in products}
    doses = tuple(
        DoseTaken(taken_at, amount, unit, names[product_id], Exposure(leaf, mit, hydroxy))
        for taken_at, amount, unit, product_id, leaf, mit, hydroxy in patient.doses.filter(
            taken_at__gte=since, taken_at__lte=now
        )
        .order_by("taken_at")
        .values_list(
            "taken_at",
            "amount",
            "unit",
            "product_id",
            "leaf_equivalent_g",
            "mitragynine_mg",
            "hydroxymitragynine_mg",
        )
    )
    instruments: dict[str, Instrument] = {}
    responses = []
    for instrument_id, taken_at, answers in (
        patient.responses.filter(taken_at__gte=since, taken_at__lte=now)
        # An amended version of a response keeps its time: the one stored last comes first.
        .order_by("-taken_at", "-created", "-pk")
        .values_list("instrument_id", "taken_at", "answers")
    ):
        instrument = instruments.get(instrument_id)
        if instrument is None:
            instrument = instruments[instrument_id] = get_instrument(instrument_id)
        responses.append(Response(instrument_id, taken_at, _score(instrument, answers)))
    plan = patient.plans.filter(active=True).order_by("-version").first()
    today = now.date()
    medications = patient.medications.filter(
        Q(stopped_on__isnull=True) | Q(stopped_on__gte=today)
    ).order_by("name_entered")
    symptoms = (
        patient.symptoms.filter(reported_at__gte=since, reported_at__lte=now)
        .order_by("-reported_at")
        .values_list("term", "reported_at", "severity")
    )
    measurements, screens = _results(patient, since, now)
    lots, jurisdiction = _lots(patient)
    return Snapshot(
        as_of=now,
        tz=ZoneInfo(settings.TIME_ZONE),
        medications=tuple(
            Medication(name, dose or None)
            for name, dose in medications.values_list("name_entered", "dose_text")
        ),
        conditions=tuple(patient.conditions.filter(active=True).values_list("code", flat=True)),
        symptoms=tuple(SymptomReport(term, at, severity) for term, at, severity in symptoms),
        products=tuple(ProductUse(p.name, product_spec(p), lots.get(p.pk, ())) for p in products),
        jurisdiction=jurisdiction,
        doses=doses,
        responses=tuple(responses),
        plan=plan_limits(plan) if plan else None,
        year_of_birth=patient.year_of_birth,
        pharmacogenomics=dict(patient.pharmacogenomics.values_list("gene", "phenotype")),
        benefit_review_days=plan.benefit_review_days if plan else None,
        induction=induction_record(patient, responses, now),
        measurements=measurements,
        screens=screens,
    )


def induction_record(
    patient: PatientProfile, responses: list[Response], now: datetime
) -> InductionRecord | None:
    """The open buprenorphine transition plan and its log, or None when there is none."""
    plan = patient.induction_plans.filter(ended_at__isnull=True).first()
    if plan is None:
        return None
    doses, observations = [], []
    for at, mg, cows, sedation in plan.log.values_list("at", "dose_mg", "cows", "sedation"):
        if mg is not None:
            doses.append(BuprenorphineDose(at, mg))
        if cows is not None or sedation is not None:
            observations.append(Observation(at, cows, sedation))
    return InductionRecord(
        plan.created,
        tuple(doses),
        tuple(observations),
        tuple(
            CowsScore(r.taken_at, int(r.score.total))
            for r in responses
            if r.instrument == "cows" and r.score.total is not None
        ),
    )


def _results(
    patient: PatientProfile, since: datetime, now: datetime
) -> tuple[tuple[Measurement, ...], tuple[ScreenResult, ...]]:
    """The results of the screening window: values in their analyte's unit, and the screen
    items that were tested."""
    measurements, screens = [], []
    for kind, analyte, taken_at, value, upper_limit, outcome, specimen in (
        patient.results.filter(taken_at__gte=since, taken_at__lte=now)
        .order_by("taken_at")
        .values_list("kind", "analyte", "taken_at", "value", "upper_limit", "outcome", "specimen")
    ):
        if kind == "measurement" and value is not None:
            measurements.append(Measurement(analyte, taken_at, value, upper_limit))
        elif kind == "screen" and outcome != NOT_TESTED:
            screens.append(ScreenResult(analyte, taken_at, outcome, specimen))
    return tuple(measurements), tuple(screens)
