"""Turn stored records into the plain objects of the clinical core."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Model

from kratomwatch.domain.doses import Exposure
from kratomwatch.domain.plan_check import PlanLimits
from kratomwatch.domain.products import ProductForm, ProductSpec
from kratomwatch.domain.questionnaires import Instrument, Score, get_instrument, score
from kratomwatch.domain.safety import (
    DoseTaken,
    Medication,
    ProductUse,
    Response,
    Snapshot,
    SymptomReport,
)

from . import rows
from .models import (
    DoseEntry,
    MedicationStatement,
    PatientCondition,
    PatientProfile,
    PharmacogenomicResult,
    Plan,
    Product,
    QuestionnaireResponse,
)
from .models import SymptomReport as SymptomRow

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


def _score(instrument: Instrument, stored: Any, load: Callable[[Any], Any]) -> Score:
    """``score(instrument, load(stored))``, remembered by the answers as stored (JSON text),
    so that answers seen before are neither decoded nor scored again. Scoring is a pure
    function of the instrument and the answers; a reloaded instrument is a new object, so
    its scores are computed afresh."""
    text = stored if isinstance(stored, str) else json.dumps(stored, sort_keys=True)
    key = (instrument.id, text)
    kept = _scores.get(key)
    if kept is not None and kept[0] is instrument:
        return kept[1]
    result = score(instrument, load(stored))
    if len(_scores) >= _SCORES_KEPT:
        _scores.clear()
    _scores[key] = (instrument, result)
    return result


DOSE_FIELDS = (
    "taken_at",
    "amount",
    "unit",
    "product_id",
    "leaf_equivalent_g",
    "mitragynine_mg",
    "hydroxymitragynine_mg",
)
RESPONSE_FIELDS = ("instrument_id", "taken_at", "answers")
MEDICATION_FIELDS = ("name_entered", "dose_text")
SYMPTOM_FIELDS = ("term", "reported_at", "severity")
GENE_FIELDS = ("gene", "phenotype")


def _reads(patient_id: int, now: datetime) -> list[tuple[str, list[Any]]]:
    """The statements that read what screening needs of one patient, in the order
    :func:`patient_snapshot` reads their rows. Each is what the ORM query beside it in a
    comment would send (same filters, same order), written out so that the ORM does not
    build eight queries on every screening; ``tests/web/test_snapshot_reads.py`` checks
    they give the ORM's snapshot."""
    since = now - SCREENING_WINDOW
    dose = (rows.param(DoseEntry, "taken_at", since), rows.param(DoseEntry, "taken_at", now))
    asked = (
        rows.param(QuestionnaireResponse, "taken_at", since),
        rows.param(QuestionnaireResponse, "taken_at", now),
    )
    felt = (
        rows.param(SymptomRow, "reported_at", since),
        rows.param(SymptomRow, "reported_at", now),
    )
    today = rows.param(MedicationStatement, "stopped_on", now.date())
    return [
        # patient.products.all()  (ordered by name)
        (_select(Product, rows.columns(Product, "r"),
                 "WHERE r.patient_id = %s ORDER BY r.name ASC"), [patient_id]),
        # patient.doses.filter(taken_at__gte=since, taken_at__lte=now).order_by("taken_at")
        (_select(DoseEntry, rows.select(DoseEntry, DOSE_FIELDS, "r"),
                 "WHERE r.patient_id = %s AND r.taken_at >= %s AND r.taken_at <= %s"
                 " ORDER BY r.taken_at ASC"), [patient_id, *dose]),
        # patient.responses.filter(taken_at__gte=since, taken_at__lte=now)  (newest first)
        (_select(QuestionnaireResponse, rows.select(QuestionnaireResponse, RESPONSE_FIELDS, "r"),
                 "WHERE r.patient_id = %s AND r.taken_at >= %s AND r.taken_at <= %s"
                 " ORDER BY r.taken_at DESC"), [patient_id, *asked]),
        # patient.plans.filter(active=True).order_by("-version").first()
        (_select(Plan, rows.columns(Plan, "r"),
                 "WHERE r.patient_id = %s AND r.active = %s ORDER BY r.version DESC LIMIT 1"),
         [patient_id, True]),
        # patient.medications.filter(Q(stopped_on__isnull=True) | Q(stopped_on__gte=today))
        (_select(MedicationStatement, rows.select(MedicationStatement, MEDICATION_FIELDS, "r"),
                 "WHERE r.patient_id = %s AND (r.stopped_on IS NULL OR r.stopped_on >= %s)"
                 " ORDER BY r.name_entered ASC"), [patient_id, today]),
        # patient.conditions.filter(active=True)
        (_select(PatientCondition, rows.select(PatientCondition, ("code",), "r"),
                 "WHERE r.patient_id = %s AND r.active = %s"), [patient_id, True]),
        # patient.symptoms.filter(reported_at__gte=since, reported_at__lte=now)  (newest first)
        (_select(SymptomRow, rows.select(SymptomRow, SYMPTOM_FIELDS, "r"),
                 "WHERE r.patient_id = %s AND r.reported_at >= %s AND r.reported_at <= %s"
                 " ORDER BY r.reported_at DESC"), [patient_id, *felt]),
        # patient.pharmacogenomics.all()
        (_select(PharmacogenomicResult, rows.select(PharmacogenomicResult, GENE_FIELDS, "r"),
                 "WHERE r.patient_id = %s"), [patient_id]),
    ]  # fmt: skip


def _select(model: type[Model], what: str, rest: str) -> str:
    # Names come from the models, values go as parameters.
    return f"SELECT {what} FROM {rows.table(model)} r {rest}"  # noqa: S608


def patient_snapshot(patient: PatientProfile, now: datetime) -> Snapshot:
    """Everything the safety engine needs about one patient, as of ``now``.

    Screening runs after every change, so this is on the hot path of each submission: its
    reads are written out (:func:`_reads`, one round trip on PostgreSQL) and rows are read
    as tuples rather than model instances.
    """
    found = rows.fetch(_reads(patient.pk, now))
    products_rows, dose_rows, response_rows, plan_rows, med_rows, codes, symptom_rows, genes = found
    products = [rows.instance(Product, row) for row in products_rows]
    names = {p.pk: p.name for p in products}
    read_dose = rows.reader(DoseEntry, DOSE_FIELDS)
    doses = []
    for row in dose_rows:
        taken_at, amount, unit, product_id, leaf, mit, hydroxy = read_dose(row)
        doses.append(
            DoseTaken(taken_at, amount, unit, names[product_id], Exposure(leaf, mit, hydroxy))
        )
    # The answers are decoded only when they are scored (see _score).
    read_response = rows.reader(QuestionnaireResponse, RESPONSE_FIELDS[:2])
    read_answers = rows.reader(QuestionnaireResponse, RESPONSE_FIELDS[2:])

    def load_answers(stored: Any) -> Any:
        return read_answers((stored,))[0]

    instruments: dict[str, Instrument] = {}
    responses = []
    for row in response_rows:
        instrument_id, taken_at = read_response(row[:2])
        instrument = instruments.get(instrument_id)
        if instrument is None:
            instrument = instruments[instrument_id] = get_instrument(instrument_id)
        scored = _score(instrument, row[2], load_answers)
        responses.append(Response(instrument_id, taken_at, scored))
    plan = rows.instance(Plan, plan_rows[0]) if plan_rows else None
    read_med = rows.reader(MedicationStatement, MEDICATION_FIELDS)
    read_condition = rows.reader(PatientCondition, ("code",))
    read_symptom = rows.reader(SymptomRow, SYMPTOM_FIELDS)
    read_gene = rows.reader(PharmacogenomicResult, GENE_FIELDS)
    return Snapshot(
        as_of=now,
        tz=ZoneInfo(settings.TIME_ZONE),
        medications=tuple(Medication(name, dose or None) for name, dose in map(read_med, med_rows)),
        conditions=tuple(read_condition(row)[0] for row in codes),
        symptoms=tuple(
            SymptomReport(term, at, severity)
            for term, at, severity in map(read_symptom, symptom_rows)
        ),
        products=tuple(ProductUse(p.name, product_spec(p)) for p in products),
        doses=tuple(doses),
        responses=tuple(responses),
        plan=plan_limits(plan) if plan else None,
        year_of_birth=patient.year_of_birth,
        pharmacogenomics=dict(map(read_gene, genes)),
        benefit_review_days=plan.benefit_review_days if plan else None,
    )
